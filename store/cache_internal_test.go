package store

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/quarrydata/quarry"
)

// TestRecordCacheBounds fills the cache past its count and its bytes: the
// least recently used records go, and the bytes it counts stay what it
// holds.
func TestRecordCacheBounds(t *testing.T) {
	var c recordCache
	raw := func(i, n int) []byte { return fmt.Appendf(bytes.Repeat([]byte{' '}, n), "%d", i) }
	d := &quarry.Dataset{Name: "x"}
	id := func(i int) string { return fmt.Sprint("id", i) }
	held := func() int {
		n := 0
		for _, k := range c.lru.Keys() {
			e, _ := c.lru.Peek(k)
			n += len(e.raw)
		}
		return n
	}

	t.Run("Count", func(t *testing.T) {
		for i := range recordCacheSize {
			c.put(id(i), raw(i, 10), d)
		}
		if _, ok := c.get(id(0), raw(0, 10)); !ok { // now the most recently used
			t.Fatal("record 0 is not cached")
		}
		c.put(id(recordCacheSize), raw(recordCacheSize, 10), d)
		if c.lru.Len() != recordCacheSize {
			t.Fatalf("%d records held, want %d", c.lru.Len(), recordCacheSize)
		}
		if _, ok := c.get(id(0), raw(0, 10)); !ok {
			t.Error("the most recently used record was evicted")
		}
		if _, ok := c.get(id(1), raw(1, 10)); ok {
			t.Error("the least recently used record was kept")
		}
		if c.bytes != held() {
			t.Errorf("bytes = %d, the records hold %d", c.bytes, held())
		}
	})

	t.Run("Replace", func(t *testing.T) {
		c.put(id(0), raw(0, 100), d)
		if _, ok := c.get(id(0), raw(0, 10)); ok {
			t.Error("a record replaced in the store was found by its old bytes")
		}
		if _, ok := c.get(id(0), raw(0, 100)); !ok {
			t.Error("the new record is not cached")
		}
		if c.bytes != held() {
			t.Errorf("bytes = %d, the records hold %d", c.bytes, held())
		}
	})

	t.Run("Bytes", func(t *testing.T) {
		const size = recordCacheBytes / 100 // 100 fit, by bytes, not by count
		for i := range 150 {
			c.put(id(i), raw(i, size), d)
		}
		if c.bytes > recordCacheBytes || c.bytes != held() {
			t.Fatalf("bytes = %d (limit %d), the records hold %d", c.bytes, recordCacheBytes, held())
		}
		if _, ok := c.get(id(149), raw(149, size)); !ok {
			t.Error("the last record put is not cached")
		}
		if _, ok := c.get(id(0), raw(0, size)); ok {
			t.Error("the first record put was kept past the byte limit")
		}
	})

	t.Run("TooWide", func(t *testing.T) {
		c.put("wide", raw(0, recordCacheBytes/64+1), d)
		if _, ok := c.get("wide", raw(0, recordCacheBytes/64+1)); ok {
			t.Error("a record wider than a 64th of the cache was cached")
		}
	})
}
