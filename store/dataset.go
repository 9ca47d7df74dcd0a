package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/quarrydata/quarry"
)

// UpsertResult says what an UpsertDatasets call did.
type UpsertResult struct {
	IDs      []string // the ID of each input dataset, in input order
	Changed  int      // how many were created, changed or restored (the rest were already as given)
	Created  int      // of Changed, how many are new
	Restored int      // of Changed, how many had been removed
}

// UpsertDatasets creates or updates datasets as a crawler or pushing tool
// sees them, all in one transaction: either every dataset is stored or none
// is. For an existing dataset the provided metadata, kind, columns,
// definition and partitions are replaced; row count, size and stats are
// replaced when given; people's edits, creation time and data-change time
// are kept; a removed dataset is restored.
//
// Each schema difference is recorded in the dataset's schema history, and a
// rise of the stats' modification counters as a data change (which moves
// LastUpdatedAt). A dataset that is already as given adds no changelog
// record; one whose row count, size or stats alone moved is rewritten
// quietly, without a changelog record.
//
// Namespaces that a source declared as aliases are stored under the
// source's namespace. Validation errors are quarry.EINVALID with a field
// path like "[3].columns[0].name".
func (s *Store) UpsertDatasets(ctx context.Context, in []quarry.Dataset) (UpsertResult, error) {
	// Times are taken now, so that records can be encoded before the write
	// transaction: a write holds the one write lock as briefly as it can.
	now := s.now().UTC()
	ps, err := s.prepare(in, now)
	if err != nil {
		return UpsertResult{}, err
	}
	res := UpsertResult{IDs: make([]string, len(ps))}
	seen := make(map[string]int, len(ps))
	for i := range ps {
		id := ps[i].d.ID
		if j, dup := seen[id]; dup {
			return UpsertResult{}, quarry.Invalid(fmt.Sprintf("[%d]", i), "names the same dataset as [%d] (%s %s)", j, ps[i].d.Namespace, ps[i].d.Name)
		}
		seen[id] = i
		res.IDs[i] = id
	}
	write := func(tx kvTx) error {
		res.Changed, res.Created, res.Restored = 0, 0, 0
		if _, ok := tx.Bucket(bucketDatasets).(kvPrefetcher); ok && len(ps) > 1 { // a round trip per batch, not per dataset
			ids, names := make([][]byte, len(ps)), make([][]byte, len(ps))
			for i := range ps {
				ids[i], names[i] = []byte(ps[i].d.ID), nameKey(ps[i].d.Namespace, ps[i].d.Name)
			}
			prefetch(tx.Bucket(bucketDatasets), ids)
			prefetch(tx.Bucket(bucketDatasetNames), names)
			prefetchAll(tx, []kvRead{{bucket: bucketCanBeLate, keys: ids, existsOnly: true}})
		}
		for i := range ps {
			o, err := upsertDataset(tx, &ps[i], now)
			if err != nil {
				return fmt.Errorf("upsert %s %s: %w", ps[i].d.Namespace, ps[i].d.Name, err)
			}
			switch o {
			case created:
				res.Created++
			case restored:
				res.Restored++
			}
			if o != unchanged {
				res.Changed++
			}
			if i%256 == 255 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if len(ps) <= 1 {
		err = s.update(ctx, write)
	} else {
		err = s.bulk(ctx, write)
	}
	if err != nil {
		return UpsertResult{}, err
	}
	return res, nil
}

// prepared is an input dataset validated, normalized and encoded outside
// the write transaction.
type prepared struct {
	d      quarry.Dataset
	digest [32]byte
	rec    []byte // its record as a new dataset, created at now
}

// prepare validates and encodes the inputs, on every CPU for large
// batches. The first invalid input (by position) is the error.
func (s *Store) prepare(in []quarry.Dataset, now time.Time) ([]prepared, error) {
	ps := make([]prepared, len(in))
	errs := make([]error, len(in))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(in)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(in); i += workers {
				errs[i] = s.prepareOne(&in[i], &ps[i], now)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, quarry.InField(fmt.Sprintf("[%d]", i), err)
		}
	}
	return ps, nil
}

func (s *Store) prepareOne(in *quarry.Dataset, p *prepared, now time.Time) error {
	d := *in // copies of what Normalize rewrites: the caller's input is not touched
	d.Columns = slices.Clone(d.Columns)
	for j := range d.Columns {
		if fk := d.Columns[j].ForeignKey; fk != nil {
			c := *fk
			d.Columns[j].ForeignKey = &c
		}
	}
	d.Constraints = slices.Clone(d.Constraints)
	for j := range d.Constraints {
		if r := d.Constraints[j].References; r != nil {
			c := *r
			d.Constraints[j].References = &c
		}
	}
	if err := d.Normalize(); err != nil {
		return err
	}
	s.applyAliases(&d)
	p.d, p.digest = d, d.ProvidedDigest()
	nd := d
	nd.Edited = quarry.Edits{}
	nd.CreatedAt, nd.UpdatedAt, nd.LastUpdatedAt, nd.RemovedAt = now, now, nil, nil
	var err error
	p.rec, err = encodeRecord(&nd)
	return err
}

type outcome int

const (
	unchanged outcome = iota
	created
	changed
	restored
)

func upsertDataset(tx kvTx, p *prepared, now time.Time) (outcome, error) {
	in := &p.d
	raw := tx.Bucket(bucketDatasets).Get([]byte(in.ID))
	if raw == nil {
		d := *in
		d.Edited = quarry.Edits{}
		d.CreatedAt, d.UpdatedAt, d.LastUpdatedAt, d.RemovedAt = now, now, nil, nil
		if err := writeDataset(tx, &d, true, p.rec, &p.digest); err != nil {
			return 0, err
		}
		if err := addCounter(tx, keyDatasetCount, 1); err != nil {
			return 0, err
		}
		// Its history starts with DATASET_CREATED, which SchemaHistory
		// derives from CreatedAt rather than storing it.
		_, err := appendChange(tx, now, quarry.EntityDataset, d.ID, quarry.OpUpsert)
		return created, err
	}

	// The common case of a recrawl: the provided facts are as stored (same
	// digest and source) and the dataset is not removed. Only the volatile
	// figures may have moved, and the record is not decoded.
	id := []byte(in.ID)
	if e := decodeNameEntry(tx.Bucket(bucketDatasetNames).Get(nameKey(in.Namespace, in.Name))); !e.removed {
		if e.digest != nil && (in.Source == "" || e.source == in.Source) {
			if bytes.Equal(e.digest, p.digest[:]) {
				inV := volatileOf(in)
				switch {
				case inV == volatile{}:
					return unchanged, nil // nothing given, nothing to change (a view)
				case inV.RowCount != nil && inV.SizeBytes != nil && inV.Stats != nil:
					// All given: equal bytes mean equal figures, no decoding.
					if nv, err := json.Marshal(&inV); err == nil && bytes.Equal(nv, tx.Bucket(bucketVolatile).Get(id)) {
						return unchanged, nil
					}
				}
				old, err := getVolatile(tx, id)
				if err != nil {
					return 0, err
				}
				if !in.Stats.Modified(old.Stats) {
					v := old.merge(in)
					return unchanged, putVolatile(tx, id, &v, &old)
				}
				// The data changed: that is news (LastUpdatedAt moves), so
				// it takes the full path below.
			}
		}
	}

	d, err := decodeDataset(tx, in.ID, raw)
	if err != nil {
		return 0, err
	}
	old := *d
	d.Kind, d.Columns, d.Provided, d.Definition, d.Partitions, d.Constraints = in.Kind, in.Columns, in.Provided, in.Definition, in.Partitions, in.Constraints
	d.Database, d.Schema = in.Database, in.Schema
	if in.Source != "" {
		d.Source = in.Source
	}
	oldV := volatileOf(&old)
	v := oldV.merge(in)
	d.RowCount, d.SizeBytes, d.Stats = v.RowCount, v.SizeBytes, v.Stats
	history := quarry.DiffSchema(&old, d)
	op, result := quarry.OpUpsert, changed
	if d.RemovedAt != nil {
		d.RemovedAt = nil
		op, result = quarry.OpRestore, restored
		history = append([]quarry.SchemaChange{{Kind: quarry.DatasetRestored}}, history...)
		if err := addCounter(tx, keyRemovedCount, -1); err != nil {
			return 0, err
		}
	}
	dataChanged := in.Stats.Modified(old.Stats)
	if dataChanged {
		t := now
		d.LastUpdatedAt = &t
	}

	// Row counts, sizes and stats move on every crawl: alone they are not a
	// change anyone follows, so they are stored without a changelog record.
	rec, err := encodeRecord(d)
	if err != nil {
		return 0, err
	}
	if bytes.Equal(rec, raw) {
		return unchanged, putVolatile(tx, id, &v, &oldV)
	}
	d.UpdatedAt = now
	if err := putDataset(tx, d); err != nil {
		return 0, err
	}
	seq, err := appendChange(tx, now, quarry.EntityDataset, d.ID, op)
	if err != nil {
		return 0, err
	}
	if err := putHistory(tx, d.ID, seq, now, history); err != nil {
		return 0, err
	}
	if dataChanged {
		detail := d.Stats.ChangeDetail(old.Stats)
		if err := putDataChange(tx, d.ID, seq, quarry.DataChange{At: now, Signal: quarry.SignalCrawler, Detail: detail}); err != nil {
			return 0, err
		}
	}
	return result, nil
}

// volatile are the figures that move on every crawl. They are kept apart
// from the dataset's record, so that rewriting them neither rewrites the
// record nor counts as a change.
type volatile struct {
	RowCount  *int64             `json:"rowCount,omitempty"`
	SizeBytes *int64             `json:"sizeBytes,omitempty"`
	Stats     *quarry.TableStats `json:"stats,omitempty"`
}

func volatileOf(d *quarry.Dataset) volatile {
	return volatile{RowCount: d.RowCount, SizeBytes: d.SizeBytes, Stats: d.Stats}
}

// merge returns v with the figures that in gives replacing the stored ones.
func (v volatile) merge(in *quarry.Dataset) volatile {
	if in.RowCount != nil {
		v.RowCount = in.RowCount
	}
	if in.SizeBytes != nil {
		v.SizeBytes = in.SizeBytes
	}
	if in.Stats != nil {
		v.Stats = in.Stats
	}
	return v
}

func getVolatile(tx kvTx, id []byte) (volatile, error) {
	var v volatile
	if raw := tx.Bucket(bucketVolatile).Get(id); raw != nil {
		if err := json.Unmarshal(raw, &v); err != nil {
			return v, fmt.Errorf("decode figures of %s: %w", id, err)
		}
	}
	return v, nil
}

// putVolatile stores v, unless it equals old (when old is given).
func putVolatile(tx kvTx, id []byte, v, old *volatile) error {
	nv, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if old != nil {
		if ov, err := json.Marshal(old); err == nil && bytes.Equal(nv, ov) {
			return nil
		}
	}
	if string(nv) == "{}" {
		return tx.Bucket(bucketVolatile).Delete(id)
	}
	return tx.Bucket(bucketVolatile).Put(id, nv)
}

// encodeRecord encodes a dataset's record: everything but its volatile
// figures, as JSON compressed (recordSnappy).
func encodeRecord(d *quarry.Dataset) ([]byte, error) {
	r := *d
	r.RowCount, r.SizeBytes, r.Stats = nil, nil, nil
	j, err := json.Marshal(&r)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+snappy.MaxEncodedLen(len(j)))
	out[0] = recordSnappy
	return out[:1+len(snappy.Encode(out[1:], j))], nil
}

// recordSnappy starts a dataset record whose JSON is compressed (snappy's
// block format). A record of fifteen columns is about 2 KB of JSON, most
// of it the same keys and words again, and 0.8 KB compressed. bbolt put
// one or two such records on a 4 KB page where it now puts four or five:
// at 100,000 datasets the records took 301 MB of pages instead of 134,
// the store's file 391 MB instead of 210, and an ingest (which reads
// every page of it into memory) peaked 300 MB lower (issue 24).
// Compressing costs about 3 µs a record and reading 2 (the record cache
// keeps what searches show). A record written before starts with '{': it
// is read as it is.
const recordSnappy = 0x01

// unmarshalRecord decodes a dataset's record raw (all of it, or the
// fields v has) into v.
func unmarshalRecord(raw []byte, v any) error {
	j, err := recordJSON(raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(j, v)
}

// recordJSON returns the JSON of a dataset's record as stored (raw is
// not changed; the JSON may be raw itself).
func recordJSON(raw []byte) ([]byte, error) {
	if len(raw) > 0 && raw[0] == recordSnappy {
		j, err := snappy.Decode(nil, raw[1:])
		if err != nil {
			return nil, fmt.Errorf("record not snappy: %w", err)
		}
		return j, nil
	}
	return raw, nil
}

// putDataset writes a dataset: its record, its volatile figures and its
// name index entry (removal mark, digest and source of its provided facts).
func putDataset(tx kvTx, d *quarry.Dataset) error {
	return writeDataset(tx, d, false, nil, nil)
}

// writeDataset is putDataset for callers that know more: a new dataset has
// no volatile figures to clear, and its record and digest may be encoded
// already.
func writeDataset(tx kvTx, d *quarry.Dataset, isNew bool, rec []byte, digest *[32]byte) error {
	var err error
	if rec == nil {
		if rec, err = encodeRecord(d); err != nil {
			return err
		}
	}
	id := []byte(d.ID)
	if err := tx.Bucket(bucketDatasets).Put(id, rec); err != nil {
		return err
	}
	if err := noteCanBeLate(tx, id, d, isNew); err != nil {
		return err
	}
	if v := volatileOf(d); !isNew || v != (volatile{}) {
		old, err := getVolatile(tx, id)
		if err != nil {
			return err
		}
		if err := putVolatile(tx, id, &v, &old); err != nil {
			return err
		}
	}
	if digest == nil {
		dg := d.ProvidedDigest()
		digest = &dg
	}
	entry := encodeNameEntry(d.ID, d.RemovedAt != nil, *digest, d)
	names, key := tx.Bucket(bucketDatasetNames), nameKey(d.Namespace, d.Name)
	if bytes.Equal(names.Get(key), entry) {
		return nil // a put would dirty the page for nothing
	}
	return names.Put(key, entry)
}

func getDataset(tx kvTx, id string) (*quarry.Dataset, error) {
	raw := tx.Bucket(bucketDatasets).Get([]byte(id))
	if raw == nil {
		return nil, quarry.Errorf(quarry.ENOTFOUND, "dataset %s not found", id)
	}
	return decodeDataset(tx, id, raw)
}

func decodeDataset(tx kvTx, id string, raw []byte) (*quarry.Dataset, error) {
	var d quarry.Dataset
	if err := unmarshalRecord(raw, &d); err != nil {
		return nil, fmt.Errorf("decode dataset %s: %w", id, err)
	}
	v, err := getVolatile(tx, []byte(id))
	if err != nil {
		return nil, err
	}
	d.RowCount, d.SizeBytes, d.Stats = v.RowCount, v.SizeBytes, v.Stats
	return &d, nil
}

// idKeys returns ids as keys, for a read ahead of a page's records
// (prefetchAll): one statement on PostgreSQL instead of a round trip per
// record and per bucket.
func idKeys(ids []string) [][]byte {
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		keys[i] = []byte(id)
	}
	return keys
}

func nameKey(namespace, name string) []byte {
	k := make([]byte, 0, len(namespace)+1+len(name))
	k = append(k, namespace...)
	k = append(k, 0)
	return append(k, name...)
}

func addCounter(tx kvTx, key []byte, delta int64) error {
	meta := tx.Bucket(bucketMeta)
	var n int64
	if v := meta.Get(key); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	return meta.Put(key, u64(uint64(n+delta)))
}

func counter(tx kvTx, key []byte) int {
	if v := tx.Bucket(bucketMeta).Get(key); len(v) == 8 {
		return int(binary.BigEndian.Uint64(v))
	}
	return 0
}

// Dataset returns the dataset with the given ID, or a quarry.ENOTFOUND
// error.
func (s *Store) Dataset(ctx context.Context, id string) (*quarry.Dataset, error) {
	var d *quarry.Dataset
	err := s.view(func(tx kvTx) (err error) {
		d, err = s.cachedDataset(tx, id)
		return err
	})
	return d, err
}

// cachedDataset is getDataset through the record cache.
func (s *Store) cachedDataset(tx kvTx, id string) (*quarry.Dataset, error) {
	raw := tx.Bucket(bucketDatasets).Get([]byte(id))
	if raw == nil {
		return nil, quarry.Errorf(quarry.ENOTFOUND, "dataset %s not found", id)
	}
	d, ok := s.records.get(id, raw)
	if !ok {
		var err error
		if d, err = decodeDataset(tx, id, raw); err != nil {
			return nil, err
		}
		s.records.put(id, raw, d)
		return d, nil
	}
	v, err := getVolatile(tx, []byte(id)) // always read: they change without the record
	if err != nil {
		return nil, err
	}
	d.RowCount, d.SizeBytes, d.Stats = v.RowCount, v.SizeBytes, v.Stats
	return d, nil
}

// DatasetByName returns the dataset named (namespace, name), normalizing
// the namespace, or a quarry.ENOTFOUND error.
func (s *Store) DatasetByName(ctx context.Context, namespace, name string) (*quarry.Dataset, error) {
	ns, err := quarry.NormalizeNamespace(namespace)
	if err != nil {
		return nil, quarry.InField("namespace", err)
	}
	n, err := quarry.NormalizeName(name)
	if err != nil {
		return nil, quarry.InField("name", err)
	}
	id := quarry.NewID(quarry.EntityDataset, s.ResolveNamespace(ns), n)
	d, err := s.Dataset(ctx, id)
	if quarry.ErrorCode(err) == quarry.ENOTFOUND {
		return nil, quarry.Errorf(quarry.ENOTFOUND, "dataset %s %s not found", namespace, name)
	}
	return d, err
}

// ListOptions page through datasets.
type ListOptions struct {
	First          int    // page size; 0 means 50, at most 1000
	After          string // cursor of the last dataset of the previous page
	IncludeRemoved bool
}

// DatasetPage is one page of datasets in (namespace, name) order.
type DatasetPage struct {
	Datasets  []*quarry.Dataset
	Cursors   []string // the cursor of each dataset
	HasNext   bool
	Total     int // datasets in all pages
	EndCursor string
}

// ListDatasets returns a page of datasets ordered by namespace and name.
func (s *Store) ListDatasets(ctx context.Context, o ListOptions) (*DatasetPage, error) {
	switch {
	case o.First == 0:
		o.First = 50
	case o.First < 0 || o.First > 1000:
		return nil, quarry.Invalid("first", "must be between 1 and 1000, got %d", o.First)
	}
	var after []byte
	if o.After != "" {
		var err error
		if after, err = base64.RawURLEncoding.DecodeString(o.After); err != nil || len(after) == 0 {
			return nil, quarry.Invalid("after", "%q is not a cursor from this listing", o.After)
		}
	}
	page := &DatasetPage{}
	err := s.view(func(tx kvTx) error {
		page.Total = counter(tx, keyDatasetCount)
		if !o.IncludeRemoved {
			page.Total -= counter(tx, keyRemovedCount)
		}
		c := tx.Bucket(bucketDatasetNames).Cursor()
		k, v := c.First()
		if after != nil {
			k, v = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for n := 0; k != nil; k, v = c.Next() {
			if n%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			n++
			e := decodeNameEntry(v)
			if e.removed && !o.IncludeRemoved {
				continue
			}
			d, err := getDataset(tx, e.id)
			if err != nil {
				return err
			}
			if len(page.Datasets) == o.First {
				page.HasNext = true
				break
			}
			page.Datasets = append(page.Datasets, d)
			page.Cursors = append(page.Cursors, base64.RawURLEncoding.EncodeToString(k))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n := len(page.Cursors); n > 0 {
		page.EndCursor = page.Cursors[n-1]
	}
	return page, nil
}

// UpdateDataset applies a person's edit (the actor comes from ctx, see
// quarry.WithActor) and records each changed field in the dataset's
// metadata history. Edits are never overwritten by UpsertDatasets.
func (s *Store) UpdateDataset(ctx context.Context, id string, u quarry.DatasetUpdate) (*quarry.Dataset, error) {
	if err := u.Normalize(); err != nil {
		return nil, err
	}
	actor := quarry.ActorFrom(ctx)
	var out *quarry.Dataset
	err := s.update(ctx, func(tx kvTx) error {
		d, err := getDataset(tx, id)
		if err != nil {
			return err
		}
		out = d
		return editDataset(tx, d, u, actor, s.now().UTC())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// editDataset applies u to d as actor's edit inside tx, recording each
// changed field in the metadata history.
func editDataset(tx kvTx, d *quarry.Dataset, u quarry.DatasetUpdate, actor string, now time.Time) error {
	before, err := json.Marshal(d.Edited)
	if err != nil {
		return err
	}
	edits, err := applyUpdate(d, u)
	if err != nil {
		return err
	}
	trust, err := applyTrust(tx, d, u, actor, now)
	if err != nil {
		return err
	}
	edits = append(edits, trust...)
	// Store the edit whenever it changed, even when what is shown did
	// not (an edit equal to the provided value must outlive the next
	// crawl); history records what people see change.
	after, err := json.Marshal(d.Edited)
	if err != nil {
		return err
	}
	if bytes.Equal(before, after) {
		return nil
	}
	d.UpdatedAt = now
	if err := putDataset(tx, d); err != nil {
		return err
	}
	seq, err := appendChange(tx, now, quarry.EntityDataset, d.ID, quarry.OpEdit)
	if err != nil {
		return err
	}
	eb := tx.Bucket(bucketDatasetEdits)
	for i, e := range edits {
		e.Seq, e.At, e.Actor = seq, now, actor
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		k := append(append([]byte(d.ID), u64(seq)...), byte(i>>8), byte(i))
		if err := eb.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

// applyUpdate applies u to d and returns an edit record for each field that
// changed.
func applyUpdate(d *quarry.Dataset, u quarry.DatasetUpdate) ([]quarry.MetadataEdit, error) {
	var edits []quarry.MetadataEdit
	if u.Description != nil {
		old := d.Description()
		if *u.Description == "" {
			d.Edited.Description = nil
		} else {
			desc := *u.Description
			d.Edited.Description = &desc
		}
		if nw := d.Description(); nw != old {
			edits = append(edits, quarry.MetadataEdit{Field: "description", Old: old, New: nw})
		}
	}
	for _, f := range []struct {
		name  string
		value *[]string
		shown func() []string
		set   func(*[]string)
	}{
		{"owners", u.Owners, d.Owners, func(v *[]string) { d.Edited.Owners = v }},
		{"tags", u.Tags, d.Tags, func(v *[]string) { d.Edited.Tags = v }},
	} {
		if f.value == nil {
			continue
		}
		old := f.shown()
		f.set(f.value)
		if nw := f.shown(); !slices.Equal(old, nw) {
			edits = append(edits, quarry.MetadataEdit{Field: f.name, Old: strings.Join(old, ", "), New: strings.Join(nw, ", ")})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(u.ColumnDescriptions)) {
		c := d.Column(name)
		if c == nil {
			return nil, quarry.Invalid("columns."+name, "%s has no column %q", d.Name, name)
		}
		old := c.Description
		if e, ok := d.Edited.ColumnDescriptions[name]; ok {
			old = e
		}
		desc := u.ColumnDescriptions[name]
		if desc == "" {
			delete(d.Edited.ColumnDescriptions, name)
			desc = c.Description
		} else {
			if d.Edited.ColumnDescriptions == nil {
				d.Edited.ColumnDescriptions = make(map[string]string)
			}
			d.Edited.ColumnDescriptions[name] = desc
		}
		if desc != old {
			edits = append(edits, quarry.MetadataEdit{Field: "columns." + name + ".description", Old: old, New: desc})
		}
	}
	return edits, nil
}

// applyTrust applies u's deprecation and endorsement to d as actor's at
// now, and returns an edit record for each that changed. A replacement
// must be another dataset that exists.
func applyTrust(tx kvTx, d *quarry.Dataset, u quarry.DatasetUpdate, actor string, now time.Time) ([]quarry.MetadataEdit, error) {
	var edits []quarry.MetadataEdit
	if u.Deprecation != nil {
		old := d.Deprecated().String()
		if set := u.Deprecation.Set; set != nil {
			if r := set.ReplacementID; r != "" {
				if r == d.ID {
					return nil, quarry.Invalid("deprecated.replacement", "a dataset cannot replace itself")
				}
				if _, err := getDataset(tx, r); err != nil {
					if quarry.ErrorCode(err) == quarry.ENOTFOUND {
						return nil, quarry.Invalid("deprecated.replacement", "no dataset has ID %q", r)
					}
					return nil, err
				}
			}
			dep := *set
			dep.At, dep.By, dep.FromDBT = now, actor, false
			if cur := d.Deprecated(); cur != nil && !cur.FromDBT {
				dep.At = cur.At // still deprecated since then: only the note or replacement changed
			}
			d.Edited.Deprecated = &dep
		} else if d.DBT != nil && d.DBT.Deprecated {
			d.Edited.Deprecated = &quarry.Deprecation{By: actor} // a zero At overrides dbt's
		} else {
			d.Edited.Deprecated = nil
		}
		if nw := d.Deprecated().String(); nw != old {
			edits = append(edits, quarry.MetadataEdit{Field: "deprecated", Old: old, New: nw})
		}
	}
	if u.Endorsement != nil {
		old := d.Endorsed().String()
		if set := u.Endorsement.Set; set != nil {
			e := *set
			e.By, e.At = actor, now
			d.Edited.Endorsed = &e
		} else {
			d.Edited.Endorsed = nil
		}
		if nw := d.Endorsed().String(); nw != old {
			edits = append(edits, quarry.MetadataEdit{Field: "endorsed", Old: old, New: nw})
		}
	}
	return edits, nil
}

// MetadataHistory returns the dataset's metadata edits, newest first.
func (s *Store) MetadataHistory(ctx context.Context, id string) ([]quarry.MetadataEdit, error) {
	var out []quarry.MetadataEdit
	err := s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketDatasetEdits).Cursor()
		prefix := []byte(id)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var e quarry.MetadataEdit
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode edit of %s: %w", id, err)
			}
			out = append(out, e)
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// MarkRemoved marks datasets removed at the given time (a complete crawl no
// longer sees them). They are never deleted: their history, lineage and
// checks remain, and an upsert or Restore brings them back. Datasets already
// removed keep their first removal time. Unknown IDs fail the whole call.
func (s *Store) MarkRemoved(ctx context.Context, at time.Time, ids ...string) error {
	return s.setRemoved(ctx, ids, func(d *quarry.Dataset) (string, bool) {
		if d.RemovedAt != nil {
			return "", false
		}
		t := at.UTC()
		d.RemovedAt = &t
		return quarry.OpRemove, true
	})
}

// Restore clears the removed mark of datasets.
func (s *Store) Restore(ctx context.Context, ids ...string) error {
	return s.setRemoved(ctx, ids, func(d *quarry.Dataset) (string, bool) {
		if d.RemovedAt == nil {
			return "", false
		}
		d.RemovedAt = nil
		return quarry.OpRestore, true
	})
}

func (s *Store) setRemoved(ctx context.Context, ids []string, apply func(*quarry.Dataset) (string, bool)) error {
	write := func(tx kvTx) error {
		now := s.now().UTC()
		for _, id := range ids {
			d, err := getDataset(tx, id)
			if err != nil {
				return err
			}
			op, changed := apply(d)
			if !changed {
				continue
			}
			delta := int64(1)
			if op == quarry.OpRestore {
				delta = -1
			}
			if err := addCounter(tx, keyRemovedCount, delta); err != nil {
				return err
			}
			d.UpdatedAt = now
			if err := putDataset(tx, d); err != nil {
				return err
			}
			seq, err := appendChange(tx, now, quarry.EntityDataset, d.ID, op)
			if err != nil {
				return err
			}
			kind := quarry.DatasetRemoved
			if op == quarry.OpRestore {
				kind = quarry.DatasetRestored
			}
			if err := putHistory(tx, d.ID, seq, now, []quarry.SchemaChange{{Kind: kind}}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(ids) <= 1 {
		return s.update(ctx, write)
	}
	return s.bulk(ctx, write)
}

// DatasetsByID returns the datasets with the given IDs, in order, skipping
// unknown ones, in one read transaction.
func (s *Store) DatasetsByID(ctx context.Context, ids []string) ([]*quarry.Dataset, error) {
	out := make([]*quarry.Dataset, 0, len(ids))
	err := s.view(func(tx kvTx) error {
		keys := idKeys(ids)
		prefetchAll(tx, []kvRead{{bucket: bucketDatasets, keys: keys}, {bucket: bucketVolatile, keys: keys}})
		for _, id := range ids {
			d, err := s.cachedDataset(tx, id)
			if quarry.ErrorCode(err) == quarry.ENOTFOUND {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return ctx.Err()
	})
	return out, err
}
