package store

import (
	"bytes"
	"maps"
	"slices"

	"github.com/quarrydata/quarry/internal/lru"

	"github.com/quarrydata/quarry"
)

// recordCache keeps decoded dataset records for reads: a search page or a
// lineage view reads the same datasets again and again, and decoding a
// record is most of what such a read costs. An entry is used only while
// the stored record is byte for byte the one it was decoded from, so it
// can never be stale; writes need not know about it. The least recently
// used records go first when it is full, by count or by bytes (of the raw
// records: the decoded ones take about as much again).
type recordCache struct {
	lru *lru.Cache[string, cachedRecord]
}

type cachedRecord struct {
	raw []byte
	d   *quarry.Dataset
}

// The cache holds up to this many records, of up to this many bytes.
const (
	recordCacheSize  = 2048
	recordCacheBytes = 8 << 20
)

func newRecordCache() recordCache {
	return recordCache{lru.New[string, cachedRecord](recordCacheSize, recordCacheBytes)}
}

// get returns a copy of the dataset decoded from raw, if it is cached.
func (c recordCache) get(id string, raw []byte) (*quarry.Dataset, bool) {
	e, ok := c.lru.Get(id)
	if !ok || !bytes.Equal(e.raw, raw) {
		return nil, false
	}
	return copyRecord(e.d), true
}

// put caches d, decoded from raw (which it copies: raw is bbolt's memory).
func (c recordCache) put(id string, raw []byte, d *quarry.Dataset) {
	if len(raw) > recordCacheBytes/64 {
		return // a very wide record would crowd out the rest
	}
	c.lru.Add(id, cachedRecord{raw: bytes.Clone(raw), d: copyRecord(d)}, len(raw))
}

// copyRecord copies everything of a dataset a caller could change in
// place: slices, maps and pointers, so that no copy shares them with the
// cached one.
func copyRecord(d *quarry.Dataset) *quarry.Dataset {
	c := *d
	c.Columns = slices.Clone(d.Columns)
	for i := range c.Columns {
		c.Columns[i].ForeignKey = clonePtr(c.Columns[i].ForeignKey)
	}
	c.Constraints = slices.Clone(d.Constraints)
	for i := range c.Constraints {
		k := &c.Constraints[i]
		k.Columns = slices.Clone(k.Columns)
		if k.References != nil {
			r := *k.References
			r.Columns = slices.Clone(r.Columns)
			k.References = &r
		}
	}
	c.Partitions = slices.Clone(d.Partitions)
	c.Provided.Owners = slices.Clone(d.Provided.Owners)
	c.Provided.Tags = slices.Clone(d.Provided.Tags)
	c.Edited.Description = clonePtr(d.Edited.Description)
	if d.Edited.Owners != nil {
		o := slices.Clone(*d.Edited.Owners)
		c.Edited.Owners = &o
	}
	if d.Edited.Tags != nil {
		t := slices.Clone(*d.Edited.Tags)
		c.Edited.Tags = &t
	}
	c.Edited.ColumnDescriptions = maps.Clone(d.Edited.ColumnDescriptions)
	c.Edited.Deprecated, c.Edited.Endorsed = clonePtr(d.Edited.Deprecated), clonePtr(d.Edited.Endorsed)
	c.LastUpdatedAt = clonePtr(d.LastUpdatedAt)
	c.RemovedAt = clonePtr(d.RemovedAt)
	c.RowCount, c.SizeBytes, c.Stats = clonePtr(d.RowCount), clonePtr(d.SizeBytes), clonePtr(d.Stats)
	c.DBT = clonePtr(d.DBT) // its slices and maps are only ever replaced whole
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
