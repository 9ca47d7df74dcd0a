package store

import (
	"bytes"
	"slices"
	"sync"

	"github.com/quarrydata/quarry"
)

// recordCache keeps decoded dataset records for reads: a search page or a
// lineage view reads the same datasets again and again, and decoding a
// record is most of what such a read costs. An entry is used only while
// the stored record is byte for byte the one it was decoded from, so it
// can never be stale; writes need not know about it.
type recordCache struct {
	mu sync.Mutex
	m  map[string]cachedRecord
}

type cachedRecord struct {
	raw []byte
	d   *quarry.Dataset
}

const recordCacheSize = 2048

// get returns a copy of the dataset decoded from raw, if it is cached.
func (c *recordCache) get(id string, raw []byte) (*quarry.Dataset, bool) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if !ok || !bytes.Equal(e.raw, raw) {
		return nil, false
	}
	return copyRecord(e.d), true
}

// put caches d, decoded from raw (which it copies: raw is bbolt's memory).
func (c *recordCache) put(id string, raw []byte, d *quarry.Dataset) {
	e := cachedRecord{raw: bytes.Clone(raw), d: copyRecord(d)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cachedRecord, recordCacheSize)
	}
	if len(c.m) >= recordCacheSize {
		for k := range c.m { // map order is random enough for an eviction
			delete(c.m, k)
			break
		}
	}
	c.m[id] = e
}

// copyRecord copies what a caller could change in place without touching
// the cached dataset: its slices (column edits of a copy stay the copy's).
func copyRecord(d *quarry.Dataset) *quarry.Dataset {
	c := *d
	c.Columns = slices.Clone(d.Columns)
	c.Constraints = slices.Clone(d.Constraints)
	c.Partitions = slices.Clone(d.Partitions)
	c.Provided.Owners = slices.Clone(d.Provided.Owners)
	c.Provided.Tags = slices.Clone(d.Provided.Tags)
	return &c
}
