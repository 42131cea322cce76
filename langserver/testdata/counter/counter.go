// Package counter is a tiny module the langserver tests run gopls on.
package counter

// Counter counts things.
type Counter struct {
	n    int
	hook func(int)
}

// Add adds n to the counter and reports the new total to the hook.
func (c *Counter) Add(n int) int {
	apply := func(delta int) {
		c.n += delta
	}
	apply(n)
	if c.hook != nil {
		c.hook(c.n)
	}
	return c.n
}

// NewCounter returns a counter starting at start.
func NewCounter(start int) *Counter {
	c := &Counter{}
	c.Add(start)
	return c
}
