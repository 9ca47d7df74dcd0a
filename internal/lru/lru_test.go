package lru_test

import (
	"fmt"
	"testing"

	"github.com/quarrydata/quarry/internal/lru"
)

// TestBounds fills a cache past its count and past its bytes: the least
// recently used entries go, and the bytes it counts stay what it holds.
func TestBounds(t *testing.T) {
	key := func(i int) string { return fmt.Sprint("k", i) }
	t.Run("Count", func(t *testing.T) {
		c := lru.New[string, int](4, 1000)
		for i := range 4 {
			c.Add(key(i), i, 10)
		}
		if v, ok := c.Get(key(0)); !ok || v != 0 { // now the most recently used
			t.Fatalf("Get(k0) = %v, %v", v, ok)
		}
		c.Add(key(4), 4, 10)
		if c.Len() != 4 || c.Bytes() != 40 {
			t.Fatalf("Len %d, Bytes %d; want 4, 40", c.Len(), c.Bytes())
		}
		if _, ok := c.Get(key(0)); !ok {
			t.Error("the most recently used entry was evicted")
		}
		if _, ok := c.Get(key(1)); ok {
			t.Error("the least recently used entry was kept")
		}
	})
	t.Run("Bytes", func(t *testing.T) {
		c := lru.New[string, int](100, 100)
		for i := range 10 {
			c.Add(key(i), i, 10)
		}
		c.Get(key(0))
		c.Add(key(10), 10, 25) // evicts k1, k2, k3
		if c.Len() != 8 || c.Bytes() != 95 {
			t.Fatalf("Len %d, Bytes %d; want 8, 95", c.Len(), c.Bytes())
		}
		for i, want := range map[int]bool{0: true, 1: false, 2: false, 3: false, 4: true, 10: true} {
			if _, ok := c.Get(key(i)); ok != want {
				t.Errorf("k%d cached = %v, want %v", i, ok, want)
			}
		}
	})
	t.Run("Replace", func(t *testing.T) {
		c := lru.New[string, int](10, 100)
		c.Add("a", 1, 10)
		c.Add("a", 2, 30)
		if v, _ := c.Get("a"); v != 2 || c.Len() != 1 || c.Bytes() != 30 {
			t.Fatalf("after replacing: %v, Len %d, Bytes %d", v, c.Len(), c.Bytes())
		}
	})
	t.Run("TooLarge", func(t *testing.T) {
		c := lru.New[string, int](10, 100)
		c.Add("a", 1, 10)
		c.Add("a", 2, 101)
		if _, ok := c.Get("a"); ok || c.Len() != 0 || c.Bytes() != 0 {
			t.Fatalf("a value larger than the cache is held (Len %d, Bytes %d), or the old one is", c.Len(), c.Bytes())
		}
	})
}
