package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
)

// Reads for an in-memory lineage graph: every edge and every node's
// identity in one scan each, and one node's identity at a time after a
// change.

// scanChunk is how many keys one read transaction of a full scan takes. A
// long read transaction holds back a writer that must grow the file (bbolt
// remaps it only when no reader is open), so full scans read in chunks.
const scanChunk = 16384

// EachEdge calls fn for every lineage edge of every origin, in key order
// (by From, then To). It reads each edge from its key, and only the
// transformation from its value; UpdatedAt is left zero. e is reused
// between calls: fn copies what it keeps.
//
// The scan reads in several transactions, so it is not a snapshot: an
// edge written meanwhile may or may not be seen. A caller that follows the
// changelog from a sequence taken before the scan (quarry.OpLineage records) sees
// every change anyway. A failing fn stops the scan with its error.
func (s *Store) EachEdge(ctx context.Context, fn func(e *quarry.Edge) error) error {
	var e quarry.Edge
	return s.scan(ctx, bucketEdgesOut, func(k, v []byte) error {
		if len(k) < 2*idLen {
			return fmt.Errorf("edge key %q is too short", strings.ToValidUTF8(string(k), "?"))
		}
		rest := k[2*idLen:]
		if bytes.Count(rest, []byte{0}) != 3 { // not a key edgeKey wrote (a NUL in a column name?): read the value
			e = quarry.Edge{}
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode edge %q: %w", strings.ToValidUTF8(string(k), "?"), err)
			}
			e.UpdatedAt = time.Time{}
			return fn(&e)
		}
		var parts [4][]byte // origin, job, from column, to column
		for i := range 3 {
			j := bytes.IndexByte(rest, 0)
			parts[i], rest = rest[:j], rest[j+1:]
		}
		parts[3] = rest
		// Neighbouring keys mostly share their from, to and job: share
		// their strings too.
		if string(k[:idLen]) != e.From {
			e.From = string(k[:idLen])
		}
		if string(k[idLen:2*idLen]) != e.To {
			e.To = string(k[idLen : 2*idLen])
		}
		if string(parts[1]) != e.JobID {
			e.JobID = string(parts[1])
		}
		e.Origin = origin(parts[0])
		e.FromColumn, e.ToColumn = string(parts[2]), string(parts[3])
		t, err := transformation(v)
		if err != nil {
			return fmt.Errorf("decode edge %q: %w", strings.ToValidUTF8(string(k), "?"), err)
		}
		e.Transformation = t
		return fn(&e)
	})
}

// origin returns the origin named b, sharing the constant's string.
func origin(b []byte) quarry.EdgeOrigin {
	for _, o := range []quarry.EdgeOrigin{quarry.OriginRun, quarry.OriginCatalog, quarry.OriginManual} {
		if string(b) == string(o) {
			return o
		}
	}
	return quarry.EdgeOrigin(b)
}

var transformationField = []byte(`"transformation":"`)

// transformation reads the transformation of an edge's JSON value without
// decoding the rest. The pattern can only match the field's key: inside a
// JSON string every quote is escaped.
func transformation(v []byte) (string, error) {
	i := bytes.Index(v, transformationField)
	if i < 0 {
		return "", nil // omitted when empty
	}
	rest := v[i+len(transformationField):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", fmt.Errorf("unterminated transformation")
	}
	if bytes.IndexByte(rest[:j], '\\') < 0 {
		return string(rest[:j]), nil
	}
	var e struct {
		Transformation string `json:"transformation"`
	}
	err := json.Unmarshal(v, &e) // escapes: let the decoder read them
	return e.Transformation, err
}

// EachIdentity calls fn with the identity of every dataset (entity
// quarry.EntityDataset, from the name index, removed ones included) or
// every job (quarry.EntityJob). Like EachEdge, it reads in several
// transactions.
func (s *Store) EachIdentity(ctx context.Context, entity string, fn func(quarry.Identity) error) error {
	switch entity {
	case quarry.EntityDataset:
		return s.scan(ctx, bucketDatasetNames, func(k, v []byte) error {
			ns, name, _ := bytes.Cut(k, []byte{0})
			e := decodeNameEntry(v)
			return fn(quarry.Identity{Entity: entity, ID: e.id, Namespace: string(ns), Name: string(name), Removed: e.removed})
		})
	case quarry.EntityJob:
		return s.scan(ctx, bucketJobs, func(k, v []byte) error {
			id, err := decodeJobIdentity(k, v)
			if err != nil {
				return err
			}
			return fn(id)
		})
	}
	return quarry.Invalid("entity", "%q has no identity", entity)
}

// DatasetCount returns how many datasets EachIdentity names, removed ones
// included, from the count kept as they are created: a lineage graph's
// load sizes itself with it.
func (s *Store) DatasetCount(ctx context.Context) (int, error) {
	n := 0
	err := s.view(func(tx kvTx) error {
		n = counter(tx, keyDatasetCount)
		return nil
	})
	return n, err
}

// quarry.Identity returns the identity of one dataset or job, or a
// quarry.ENOTFOUND error.
func (s *Store) Identity(ctx context.Context, entity, id string) (quarry.Identity, error) {
	var out quarry.Identity
	err := s.view(func(tx kvTx) error {
		switch entity {
		case quarry.EntityDataset:
			var err error
			out, err = datasetIdentity(tx, id)
			return err
		case quarry.EntityJob:
			v := tx.Bucket(bucketJobs).Get([]byte(id))
			if v == nil {
				return quarry.Errorf(quarry.ENOTFOUND, "job %s not found", id)
			}
			var err error
			out, err = decodeJobIdentity([]byte(id), v)
			return err
		}
		return quarry.Invalid("entity", "%q has no identity", entity)
	})
	return out, err
}

// datasetIdentity reads a dataset's identity from its record, decoding
// only the fields it needs.
func datasetIdentity(tx kvTx, id string) (quarry.Identity, error) {
	v := tx.Bucket(bucketDatasets).Get([]byte(id))
	if v == nil {
		return quarry.Identity{}, quarry.Errorf(quarry.ENOTFOUND, "dataset %s not found", id)
	}
	j, err := recordJSON(v)
	if err != nil {
		return quarry.Identity{}, fmt.Errorf("decode dataset %s: %w", id, err)
	}
	if ns, name, removed, ok := recordIdentity(j); ok {
		return quarry.Identity{Entity: quarry.EntityDataset, ID: id, Namespace: ns, Name: name, Removed: removed}, nil
	}
	var d struct {
		Namespace string     `json:"namespace"`
		Name      string     `json:"name"`
		RemovedAt *time.Time `json:"removedAt"`
	}
	if err := json.Unmarshal(j, &d); err != nil {
		return quarry.Identity{}, fmt.Errorf("decode dataset %s: %w", id, err)
	}
	return quarry.Identity{Entity: quarry.EntityDataset, ID: id, Namespace: d.Namespace, Name: d.Name, Removed: d.RemovedAt != nil}, nil
}

// recordIdentity reads a dataset's namespace, name and removal from the
// JSON of its record without decoding the rest (the lineage graph asks
// for every dataset written, and decoding a record of fifteen columns to
// read three fields was 5% of an ingest's CPU at a million datasets).
// The record is a quarry.Dataset as encoding/json writes it: its first
// keys are id, namespace and name, and its last is removedAt when it is
// removed, else updatedAt or lastUpdatedAt (those fields are last in
// every version of the type); the last key's value, a time, has no
// quote. ok is false for any other shape, a name with an escape among
// them: the caller then decodes the record.
func recordIdentity(j []byte) (ns, name string, removed, ok bool) {
	rest, ok := bytes.CutPrefix(j, []byte(`{"id":`))
	if !ok {
		return "", "", false, false
	}
	if _, rest, ok = plainString(rest); !ok {
		return "", "", false, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"namespace":`)); !ok {
		return "", "", false, false
	}
	if ns, rest, ok = plainString(rest); !ok {
		return "", "", false, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"name":`)); !ok {
		return "", "", false, false
	}
	if name, rest, ok = plainString(rest); !ok {
		return "", "", false, false
	}
	// The last member: ,"key":"value"}
	last, ok := bytes.CutSuffix(rest, []byte(`"}`))
	v := bytes.LastIndexByte(last, '"') // the value's opening quote
	if !ok || v < 0 || bytes.IndexByte(last[v:], '\\') >= 0 {
		return "", "", false, false
	}
	key, ok := bytes.CutSuffix(last[:v], []byte(`":`))
	k := bytes.LastIndexByte(key, '"')
	if !ok || k < 1 || key[k-1] != ',' {
		return "", "", false, false
	}
	switch string(key[k+1:]) {
	case "removedAt":
		return ns, name, true, true
	case "updatedAt", "lastUpdatedAt":
		return ns, name, false, true
	}
	return "", "", false, false
}

// plainString reads the JSON string that b starts with, if it has no
// escape, and returns it and what follows it.
func plainString(b []byte) (s string, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return "", nil, false
	}
	end := bytes.IndexByte(b[1:], '"') + 1
	if end < 1 || bytes.IndexByte(b[1:end], '\\') >= 0 {
		return "", nil, false
	}
	return string(b[1:end]), b[end+1:], true
}

func decodeJobIdentity(k, v []byte) (quarry.Identity, error) {
	var j struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	}
	if err := json.Unmarshal(v, &j); err != nil {
		return quarry.Identity{}, fmt.Errorf("decode job %s: %w", strings.ToValidUTF8(string(k), "?"), err)
	}
	return quarry.Identity{Entity: quarry.EntityJob, ID: string(k), Namespace: j.Namespace, Name: j.Name}, nil
}

// scan calls fn for every key of a bucket in order, scanChunk keys per
// read transaction, checking ctx between chunks. fn must copy what it
// keeps of k and v.
func (s *Store) scan(ctx context.Context, bucket []byte, fn func(k, v []byte) error) error {
	var next []byte // where the next chunk starts; nil for the first
	read := 0
	defer func() {
		if read >= releaseAfter {
			s.releaseMapped()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		more := false
		err := s.view(func(tx kvTx) error {
			c := tx.Bucket(bucket).Cursor()
			k, v := c.First()
			if next != nil {
				k, v = c.Seek(next)
			}
			for n := 0; k != nil; k, v = c.Next() {
				if n == scanChunk {
					next, more = bytes.Clone(k), true
					return nil
				}
				if err := fn(k, v); err != nil {
					return err
				}
				n++
				read++
			}
			return nil
		})
		if err != nil || !more {
			return err
		}
		if read%(16*releaseAfter) == 0 { // a long scan's pages, every 16 chunks: they are not read again
			s.releaseMapped()
		}
	}
}
