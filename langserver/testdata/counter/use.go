package counter

// Twice adds n twice.
func Twice(c *Counter, n int) int {
	c.Add(n)
	return c.Add(n)
}
