// Package lru is the module's one bounded cache: a least-recently-used map
// bounded both by its number of entries and by the bytes its entries say
// they hold, safe for concurrent use. It wraps hashicorp/golang-lru's
// simplelru, which bounds only the count.
package lru

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Cache holds up to maxEntries values of up to maxBytes in all; the least
// recently used go first when an Add would pass either bound.
type Cache[K comparable, V any] struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[K, entry[V]]
	maxBytes int
	bytes    int // of the entries held
}

type entry[V any] struct {
	v    V
	size int
}

// New returns an empty cache. maxEntries and maxBytes must be positive.
func New[K comparable, V any](maxEntries, maxBytes int) *Cache[K, V] {
	c := &Cache[K, V]{maxBytes: maxBytes}
	// The callback runs inside Add and Remove*, under c.mu.
	l, err := simplelru.NewLRU(maxEntries, func(_ K, old entry[V]) { c.bytes -= old.size })
	if err != nil {
		panic("lru: " + err.Error()) // only a non-positive maxEntries
	}
	c.lru = l
	return c
}

// Get returns the value cached for k and marks it recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(k)
	return e.v, ok
}

// Add caches v, which holds size bytes, under k (replacing what k held),
// evicting the least recently used entries until it fits. A value larger
// than the whole cache is not kept.
func (c *Cache[K, V]) Add(k K, v V, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(k) // Add would replace it without the callback
	if size > c.maxBytes {
		return
	}
	for c.bytes+size > c.maxBytes {
		c.lru.RemoveOldest()
	}
	c.lru.Add(k, entry[V]{v, size})
	c.bytes += size
}

// Len returns how many entries the cache holds.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Bytes returns the sum of the sizes of the entries held.
func (c *Cache[K, V]) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
