package store

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/quarrydata/quarry"
)

// TestRecordCache: a record is found only by the bytes it was decoded
// from, a copy is handed out, a very wide record is not kept, and the
// cache's bounds hold (internal/lru tests the eviction order).
func TestRecordCache(t *testing.T) {
	c := newRecordCache()
	raw := func(i, n int) []byte { return fmt.Appendf(bytes.Repeat([]byte{' '}, n), "%d", i) }
	d := &quarry.Dataset{Name: "x", Columns: []quarry.Column{{Name: "a"}}}

	t.Run("Replace", func(t *testing.T) {
		c.put("a", raw(0, 10), d)
		c.put("a", raw(0, 100), d)
		if _, ok := c.get("a", raw(0, 10)); ok {
			t.Error("a record replaced in the store was found by its old bytes")
		}
		got, ok := c.get("a", raw(0, 100))
		if !ok {
			t.Fatal("the new record is not cached")
		}
		got.Columns[0].Name = "changed"
		if again, _ := c.get("a", raw(0, 100)); again.Columns[0].Name != "a" {
			t.Error("a caller's change reached the cached record")
		}
	})

	t.Run("Bounds", func(t *testing.T) {
		for i := range recordCacheSize + 10 {
			c.put(fmt.Sprint("id", i), raw(i, recordCacheBytes/100), d)
		}
		if c.lru.Len() > recordCacheSize || c.lru.Bytes() > recordCacheBytes {
			t.Fatalf("%d records of %d bytes held, limits %d and %d", c.lru.Len(), c.lru.Bytes(), recordCacheSize, recordCacheBytes)
		}
	})

	t.Run("TooWide", func(t *testing.T) {
		c.put("wide", raw(0, recordCacheBytes/64+1), d)
		if _, ok := c.get("wide", raw(0, recordCacheBytes/64+1)); ok {
			t.Error("a record wider than a 64th of the cache was cached")
		}
	})
}
