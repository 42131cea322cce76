package completion

import (
	"container/list"
	"crypto/sha256"
	"strings"
	"sync"
)

// Cache keeps recent suggestions keyed by a hash of (model, prefix,
// suffix). Lookup also serves a suggestion while the user types through
// it: when the prefix grew by text the suggestion starts with, and the
// suffix is unchanged, the rest of the suggestion is still right and no
// model is asked. It holds at most its capacity of entries (least recently
// used go first) and keeps hashes of the prefix, not the code.
type Cache struct {
	mu    sync.Mutex
	cap   int
	ll    *list.List
	byKey map[[sha256.Size]byte]*list.Element
	// byLine indexes entries by the hash of the prefix up to its last line
	// start plus the suffix, for typing through: the prefix only grows on
	// the cursor's line while the user types a suggestion's first line.
	byLine map[[sha256.Size]byte][]*list.Element
}

type cacheEntry struct {
	key, line [sha256.Size]byte
	// tail is the prefix's current line (after its last newline): typing
	// through extends it.
	tail string
	text string
}

// NewCache returns a cache of at most capacity entries (256 when <= 0).
func NewCache(capacity int) *Cache {
	if capacity <= 0 {
		capacity = 256
	}
	return &Cache{cap: capacity, ll: list.New(), byKey: map[[sha256.Size]byte]*list.Element{},
		byLine: map[[sha256.Size]byte][]*list.Element{}}
}

func hashKey(model, prefix, suffix string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write([]byte(prefix))
	h.Write([]byte{0})
	h.Write([]byte(suffix))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

func splitLine(prefix string) (head, tail string) {
	i := strings.LastIndexByte(prefix, '\n') + 1
	return prefix[:i], prefix[i:]
}

// Get returns the suggestion for the exact request or the rest of one the
// user is typing through.
func (c *Cache) Get(model, prefix, suffix string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[hashKey(model, prefix, suffix)]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*cacheEntry).text, true
	}
	head, tail := splitLine(prefix)
	for _, el := range c.byLine[hashKey(model, head, suffix)] {
		e := el.Value.(*cacheEntry)
		if len(tail) <= len(e.tail) || !strings.HasPrefix(tail, e.tail) {
			continue
		}
		typed := tail[len(e.tail):]
		if strings.HasPrefix(e.text, typed) && len(e.text) > len(typed) {
			c.ll.MoveToFront(el)
			return e.text[len(typed):], true
		}
	}
	return "", false
}

// Put stores a suggestion.
func (c *Cache) Put(model, prefix, suffix, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := hashKey(model, prefix, suffix)
	if el, ok := c.byKey[key]; ok {
		el.Value.(*cacheEntry).text = text
		c.ll.MoveToFront(el)
		return
	}
	head, tail := splitLine(prefix)
	e := &cacheEntry{key: key, line: hashKey(model, head, suffix), tail: tail, text: text}
	el := c.ll.PushFront(e)
	c.byKey[key] = el
	c.byLine[e.line] = append(c.byLine[e.line], el)
	for c.ll.Len() > c.cap {
		c.evict(c.ll.Back())
	}
}

func (c *Cache) evict(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.ll.Remove(el)
	delete(c.byKey, e.key)
	els := c.byLine[e.line]
	for i, x := range els {
		if x == el {
			els = append(els[:i], els[i+1:]...)
			break
		}
	}
	if len(els) == 0 {
		delete(c.byLine, e.line)
	} else {
		c.byLine[e.line] = els
	}
}

// Len is the number of entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
