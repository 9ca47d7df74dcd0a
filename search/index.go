package search

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// mappingVersion changes whenever the mapping or the documents change
// shape; an index of another version is rebuilt.
const mappingVersion = "1"

var (
	keySeq     = []byte("quarry_seq")
	keyVersion = []byte("quarry_mapping_version")
)

// Store is what the index needs of the store.
type Store interface {
	Changes(ctx context.Context, after uint64, limit int) ([]store.Change, error)
	Dataset(ctx context.Context, id string) (*quarry.Dataset, error)
	Changed() <-chan struct{}
}

// Index is the search index of a catalog.
type Index struct {
	idx     bleve.Index
	st      Store
	log     *slog.Logger
	mu      sync.Mutex // one catch-up at a time
	applied atomic.Uint64

	closeOnce sync.Once
}

// Options configure Open; nil means defaults.
type Options struct {
	Logger *slog.Logger
}

// Open opens the index in dir, creating or rebuilding it as needed, and
// catches it up with the store's changelog.
func Open(ctx context.Context, dir string, st Store, o *Options) (*Index, error) {
	log := slog.Default()
	if o != nil && o.Logger != nil {
		log = o.Logger
	}
	idx, err := bleve.Open(dir)
	if err == nil {
		if v, _ := idx.GetInternal(keyVersion); string(v) != mappingVersion {
			log.Info("search index has another mapping version; rebuilding", "have", string(v), "want", mappingVersion)
			idx.Close()
			err = errors.New("mapping version changed")
		}
	} else if !errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		log.Warn("search index unreadable; rebuilding from the store", "err", err)
	}
	if err != nil {
		if idx, err = create(dir); err != nil {
			return nil, err
		}
	}
	x := &Index{idx: idx, st: st, log: log}
	if v, _ := idx.GetInternal(keySeq); len(v) == 8 {
		x.applied.Store(binary.BigEndian.Uint64(v))
	}
	if err := x.CatchUp(ctx); err != nil {
		idx.Close()
		return nil, err
	}
	return x, nil
}

func create(dir string) (bleve.Index, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	idx, err := bleve.New(dir, m)
	if err != nil {
		return nil, fmt.Errorf("create search index: %w", err)
	}
	if err := idx.SetInternal(keyVersion, []byte(mappingVersion)); err != nil {
		idx.Close()
		return nil, err
	}
	return idx, nil
}

// Close closes the index. Closing it again does nothing.
func (x *Index) Close() error {
	var err error
	x.closeOnce.Do(func() { err = x.idx.Close() })
	return err
}

// Applied is the sequence of the last changelog record in the index.
func (x *Index) Applied() uint64 { return x.applied.Load() }

// CatchUp applies every changelog record after the last one applied, a
// page at a time: each page's documents and its last sequence go into the
// index in one batch.
func (x *Index) CatchUp(ctx context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for {
		after := x.applied.Load()
		changes, err := x.st.Changes(ctx, after, 1000)
		if err != nil {
			return fmt.Errorf("read changelog after %d: %w", after, err)
		}
		if len(changes) == 0 {
			return nil
		}
		b := x.idx.NewBatch()
		done := map[string]bool{}
		for i := len(changes) - 1; i >= 0; i-- { // the newest state of each dataset, once
			c := changes[i]
			if c.Entity != quarry.EntityDataset || done[c.ID] {
				continue
			}
			done[c.ID] = true
			d, err := x.st.Dataset(ctx, c.ID)
			switch {
			case quarry.ErrorCode(err) == quarry.ENOTFOUND:
				b.Delete(c.ID)
			case err != nil:
				return err
			default:
				if err := b.Index(c.ID, newDatasetDoc(d)); err != nil {
					return fmt.Errorf("index %s: %w", c.ID, err)
				}
			}
		}
		last := changes[len(changes)-1].Seq
		b.SetInternal(keySeq, binary.BigEndian.AppendUint64(nil, last))
		if err := x.idx.Batch(b); err != nil {
			return fmt.Errorf("write search index: %w", err)
		}
		x.applied.Store(last)
	}
}

// Run keeps the index caught up with the store until ctx ends: each commit
// that appends to the changelog wakes it.
func (x *Index) Run(ctx context.Context) {
	for {
		changed := x.st.Changed()
		if err := x.CatchUp(ctx); err != nil && ctx.Err() == nil {
			x.log.Error("search index catch-up", "err", err) // retried on the next change
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// Field names of the index. Several are the same value analyzed in
// different ways.
const (
	fType        = "type"
	fQName       = "qname"       // full name, exact
	fNames       = "names"       // the name and each dot-separated tail, exact
	fName        = "name"        // last segment, camelCase split
	fNameParts   = "name_parts"  // last segment, split at punctuation
	fNameStem    = "name_stem"   // last segment, stemmed
	fPath        = "path"        // full name, camelCase split
	fPathParts   = "path_parts"  // full name, split at punctuation
	fColumns     = "columns"     // column names, camelCase split
	fColumnExact = "column"      // column names, exact
	fColumnStem  = "column_stem" // column names, stemmed
	fDesc        = "description"
	fColumnDesc  = "column_description"
	fTags        = "tags"      // exact, for facets and filters
	fTagsText    = "tags_text" // split, for search
	fOwners      = "owners"
	fNamespace   = "namespace"
	fDatabase    = "database"
	fSchema      = "schema"
	fKind        = "kind"
	fRemoved     = "removed"
)

// datasetDoc is what the index holds of a dataset.
type datasetDoc struct {
	Type       string   `json:"type"`
	QName      string   `json:"qname"`
	Names      []string `json:"names"`
	Name       string   `json:"name"`
	Path       string   `json:"path"`
	Columns    []string `json:"columns"`
	Desc       string   `json:"description"`
	ColumnDesc []string `json:"column_description"`
	Tags       []string `json:"tags"`
	Owners     []string `json:"owners"`
	Namespace  string   `json:"namespace"`
	Database   string   `json:"database"`
	Schema     string   `json:"schema"`
	Kind       string   `json:"kind"`
	Removed    bool     `json:"removed"`
}

// BleveType tells bleve which document mapping applies.
func (*datasetDoc) BleveType() string { return "dataset" }

func newDatasetDoc(d *quarry.Dataset) *datasetDoc {
	doc := &datasetDoc{
		Type: "dataset", QName: d.Name, Path: d.Name, Desc: d.Description(),
		Tags: d.Tags(), Owners: d.Owners(), Namespace: d.Namespace, Kind: string(d.Kind), Removed: d.Removed(),
		Database: d.Database, Schema: d.Schema,
	}
	parts := strings.Split(d.Name, ".")
	for i := range parts {
		doc.Names = append(doc.Names, strings.Join(parts[i:], "."))
	}
	doc.Name = parts[len(parts)-1]
	if doc.Database == "" && len(parts) >= 3 { // db.schema.table from a producer
		doc.Database, doc.Schema = parts[0], parts[1]
	}
	for _, c := range d.ShownColumns() {
		doc.Columns = append(doc.Columns, c.Name)
		if c.Description != "" {
			doc.ColumnDesc = append(doc.ColumnDesc, c.Description)
		}
	}
	return doc
}

func newMapping() (mapping.IndexMapping, error) {
	m := bleve.NewIndexMapping()
	if err := addAnalyzers(m); err != nil {
		return nil, err
	}
	field := func(name, analyzer string, stored bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Name, f.Analyzer, f.Store = name, analyzer, stored
		f.IncludeTermVectors = stored // for highlighting
		f.IncludeInAll = false
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fType, field(fType, keyword.Name, false))
	dm.AddFieldMappingsAt(fQName, field(fQName, analyzerExact, false))
	dm.AddFieldMappingsAt(fNames, field(fNames, analyzerExact, false))
	dm.AddFieldMappingsAt(fName, field(fName, analyzerIdent, true), field(fNameParts, analyzerParts, false), field(fNameStem, analyzerIdentStem, false))
	dm.AddFieldMappingsAt(fPath, field(fPath, analyzerIdent, true), field(fPathParts, analyzerParts, false))
	dm.AddFieldMappingsAt(fColumns, field(fColumns, analyzerIdent, true), field(fColumnExact, analyzerExact, false), field(fColumnStem, analyzerIdentStem, false))
	dm.AddFieldMappingsAt(fDesc, field(fDesc, analyzerText, true))
	dm.AddFieldMappingsAt(fColumnDesc, field(fColumnDesc, analyzerText, true))
	dm.AddFieldMappingsAt(fTags, field(fTags, keyword.Name, false), field(fTagsText, analyzerIdent, true))
	for _, f := range []string{fOwners, fNamespace, fDatabase, fSchema, fKind} {
		dm.AddFieldMappingsAt(f, field(f, keyword.Name, false))
	}
	removed := bleve.NewBooleanFieldMapping()
	removed.Name = fRemoved
	dm.AddFieldMappingsAt(fRemoved, removed)
	m.AddDocumentMapping("dataset", dm)
	m.TypeField = fType
	m.DefaultMapping = bleve.NewDocumentDisabledMapping()
	return m, nil
}
