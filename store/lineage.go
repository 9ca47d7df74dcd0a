package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
)

const idLen = 36 // a UUID in text form; every dataset and job ID has it

// edgeKey orders an edge under its from and to: from to origin \0 job \0
// fromColumn \0 toColumn. The in-index swaps from and to.
func edgeKey(e *quarry.Edge) []byte {
	var b bytes.Buffer
	b.WriteString(e.From)
	b.WriteString(e.To)
	for _, s := range []string{string(e.Origin), e.JobID, e.FromColumn} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	b.WriteString(e.ToColumn)
	return b.Bytes()
}

func swapEnds(k []byte) []byte {
	out := make([]byte, 0, len(k))
	out = append(out, k[idLen:2*idLen]...)
	out = append(out, k[:idLen]...)
	return append(out, k[2*idLen:]...)
}

func edgeOrigin(k []byte) quarry.EdgeOrigin {
	rest := k[2*idLen:]
	if i := bytes.IndexByte(rest, 0); i >= 0 {
		return quarry.EdgeOrigin(rest[:i])
	}
	return ""
}

// ReplaceEdges sets, for each target dataset ID in byTarget, the complete
// set of edges of the given origin that lead into it (an empty list removes
// them), all in one transaction. Edges of other origins are untouched: a
// crawl rewriting a view's catalog lineage leaves the lineage that runs and
// people reported. A target whose edges change gets a changelog record.
func (s *Store) ReplaceEdges(ctx context.Context, origin quarry.EdgeOrigin, byTarget map[string][]quarry.Edge) error {
	targets := make([]string, 0, len(byTarget))
	for to, edges := range byTarget {
		if len(to) != idLen {
			return quarry.Invalid("to", "%q is not a dataset ID", to)
		}
		for i := range edges {
			e := &edges[i]
			if e.To != to || len(e.From) != idLen || e.Origin != origin {
				return quarry.Invalid("edges", "edge %s -> %s (%s) does not lead into %s with origin %s", e.From, e.To, e.Origin, to, origin)
			}
		}
		targets = append(targets, to)
	}
	slices.Sort(targets)
	return s.bulk(ctx, func(tx kvTx) error {
		now := s.now().UTC()
		for _, to := range targets {
			if err := replaceEdges(tx, now, to, origin, byTarget[to]); err != nil {
				return err
			}
		}
		return nil
	})
}

func replaceEdges(tx kvTx, now time.Time, to string, origin quarry.EdgeOrigin, edges []quarry.Edge) error {
	out, in := tx.Bucket(bucketEdgesOut), tx.Bucket(bucketEdgesIn)
	want := make(map[string]quarry.Edge, len(edges)) // copies: the caller's edges are not touched
	for _, e := range edges {
		want[string(edgeKey(&e))] = e
	}
	var stale [][]byte
	c := in.Cursor()
	prefix := []byte(to)
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if edgeOrigin(k) != origin {
			continue
		}
		outKey := swapEnds(k)
		if e, keep := want[string(outKey)]; keep {
			var have quarry.Edge
			if err := json.Unmarshal(out.Get(outKey), &have); err == nil && have.Transformation == e.Transformation {
				delete(want, string(outKey)) // already stored as given
			}
			continue
		}
		stale = append(stale, slices.Clone(k))
	}
	if len(stale) == 0 && len(want) == 0 {
		return nil
	}
	for _, k := range stale {
		if err := in.Delete(k); err != nil {
			return err
		}
		if err := out.Delete(swapEnds(k)); err != nil {
			return err
		}
	}
	for k, e := range want {
		e.UpdatedAt = now
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if err := out.Put([]byte(k), v); err != nil {
			return err
		}
		if err := in.Put(swapEnds([]byte(k)), nil); err != nil {
			return err
		}
	}
	_, err := appendChange(tx, now, quarry.EntityDataset, to, quarry.OpLineage)
	return err
}

// Edges returns the lineage edges one hop from a dataset: those leading
// into it (upstream) or out of it (downstream), table-level and
// column-level, of every origin.
func (s *Store) Edges(ctx context.Context, id string, upstream bool) ([]quarry.Edge, error) {
	var out []quarry.Edge
	err := s.view(func(tx kvTx) error {
		outB := tx.Bucket(bucketEdgesOut)
		b := outB
		if upstream {
			b = tx.Bucket(bucketEdgesIn)
		}
		c := b.Cursor()
		prefix := []byte(id)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if upstream {
				v = outB.Get(swapEnds(k))
			}
			var e quarry.Edge
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode edge %q: %w", strings.ToValidUTF8(string(k), "?"), err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
