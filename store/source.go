package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/quarrydata/quarry"
)

// PutSource registers a source or replaces its settings (by name). Its
// aliases take effect at once: datasets upserted or looked up under an alias
// namespace land on the source's namespace. An alias that another source
// claims, or that is another source's namespace, is a conflict.
func (s *Store) PutSource(ctx context.Context, src quarry.Source) (*quarry.Source, error) {
	if err := src.Normalize(); err != nil {
		return nil, err
	}
	if src.Namespace == "" {
		return nil, quarry.Invalid("namespace", "is required (the crawler derives it from the DSN)")
	}
	// Registrations are serialized so that each reloads the aliases after
	// its own commit and before the next one's: a reload can never install
	// an older map over a newer one.
	s.sourcesMu.Lock()
	defer s.sourcesMu.Unlock()
	var out quarry.Source
	err := s.update(ctx, func(tx kvTx) error {
		b := tx.Bucket(bucketSources)
		now := s.now().UTC()
		out = src
		out.CreatedAt, out.UpdatedAt = now, now
		out.UpdatedBy = quarry.ActorFrom(ctx)
		if raw := b.Get([]byte(src.Name)); raw != nil {
			var old quarry.Source
			if err := json.Unmarshal(raw, &old); err != nil {
				return err
			}
			out.CreatedAt = old.CreatedAt
		}
		err := b.ForEach(func(k, v []byte) error {
			if string(k) == src.Name {
				return nil
			}
			var other quarry.Source
			if err := json.Unmarshal(v, &other); err != nil {
				return err
			}
			for _, a := range out.Aliases {
				if a == other.Namespace || slices.Contains(other.Aliases, a) {
					return quarry.Invalid("aliases", "%s already belongs to source %q", a, other.Name)
				}
			}
			if slices.Contains(other.Aliases, out.Namespace) {
				return quarry.Invalid("namespace", "%s is an alias of source %q", out.Namespace, other.Name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Datasets already stored under a new alias would be unreachable by
		// name once it resolves elsewhere.
		for i, a := range out.Aliases {
			c := tx.Bucket(bucketDatasetNames).Cursor()
			prefix := nameKey(a, "")
			if k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
				return quarry.Invalid(fmt.Sprintf("aliases[%d]", i), "datasets are stored under %s already; an alias must be a name nothing is stored under", a)
			}
		}
		v, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return b.Put([]byte(out.Name), v)
	})
	if err != nil {
		return nil, err
	}
	return &out, s.loadAliases()
}

// Source returns the source with the given name, or quarry.ENOTFOUND.
func (s *Store) Source(ctx context.Context, name string) (*quarry.Source, error) {
	var src *quarry.Source
	err := s.view(func(tx kvTx) error {
		raw := tx.Bucket(bucketSources).Get([]byte(name))
		if raw == nil {
			return quarry.Errorf(quarry.ENOTFOUND, "source %q not found", name)
		}
		src = new(quarry.Source)
		return json.Unmarshal(raw, src)
	})
	return src, err
}

// Sources returns every source, by name.
func (s *Store) Sources(ctx context.Context) ([]quarry.Source, error) {
	var out []quarry.Source
	err := s.view(func(tx kvTx) error {
		return tx.Bucket(bucketSources).ForEach(func(k, v []byte) error {
			var src quarry.Source
			if err := json.Unmarshal(v, &src); err != nil {
				return fmt.Errorf("decode source %s: %w", k, err)
			}
			out = append(out, src)
			return nil
		})
	})
	return out, err
}

func (s *Store) loadAliases() error {
	m := map[string]string{}
	err := s.view(func(tx kvTx) error {
		b := tx.Bucket(bucketSources)
		if b == nil { // a read-only store of an older schema
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var src quarry.Source
			if err := json.Unmarshal(v, &src); err != nil {
				return err
			}
			for _, a := range src.Aliases {
				m[a] = src.Namespace
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.aliases.Store(&m)
	return nil
}

// ResolveNamespace maps a normalized namespace that a source declared as an
// alias to that source's namespace; any other namespace is returned as is.
func (s *Store) ResolveNamespace(ns string) string {
	if m := s.aliases.Load(); m != nil {
		if to, ok := (*m)[ns]; ok {
			return to
		}
	}
	return ns
}

func (s *Store) applyAliases(d *quarry.Dataset) {
	if ns := s.ResolveNamespace(d.Namespace); ns != d.Namespace {
		d.Namespace = ns
		d.ID = quarry.NewID(quarry.EntityDataset, d.Namespace, d.Name)
	}
	for i := range d.Columns {
		if fk := d.Columns[i].ForeignKey; fk != nil {
			fk.Namespace = s.ResolveNamespace(fk.Namespace)
		}
	}
	for i := range d.Constraints {
		if r := d.Constraints[i].References; r != nil {
			r.Namespace = s.ResolveNamespace(r.Namespace)
		}
	}
}

func crawlRunKey(source string, started time.Time) []byte {
	return append(append([]byte(source), 0), u64(uint64(started.UnixNano()))...)
}

// PutCrawlRun records a crawl run, keyed by source and start time: call it
// when the run starts and again when it ends.
func (s *Store) PutCrawlRun(ctx context.Context, run quarry.CrawlRun) error {
	v, err := json.Marshal(run)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx kvTx) error {
		return tx.Bucket(bucketCrawlRuns).Put(crawlRunKey(run.Source, run.StartedAt), v)
	})
}

// CrawlRuns returns up to limit runs of a source, newest first.
func (s *Store) CrawlRuns(ctx context.Context, source string, limit int) ([]quarry.CrawlRun, error) {
	if limit <= 0 {
		limit = 20
	}
	var out []quarry.CrawlRun
	err := s.view(func(tx kvTx) error {
		return newestFirst(tx.Bucket(bucketCrawlRuns).Cursor(), append([]byte(source), 0), limit, func(v []byte) error {
			var r quarry.CrawlRun
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// NamedID is a dataset's name, ID, removal state, and where its crawler
// found it (empty for datasets no crawler provided).
type NamedID struct {
	Name     string
	ID       string
	Removed  bool
	Source   string
	Database string
	Schema   string
}

// DatasetsUnder lists the datasets of a namespace whose names start with
// prefix (e.g. "shop." for one database), in name order: what a crawl of
// that scope compares itself with.
func (s *Store) DatasetsUnder(ctx context.Context, namespace, prefix string) ([]NamedID, error) {
	var out []NamedID
	err := s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketDatasetNames).Cursor()
		start := nameKey(namespace, prefix)
		ns := len(namespace) + 1
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, start); k, v = c.Next() {
			if len(out)%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			e := decodeNameEntry(v)
			out = append(out, NamedID{Name: string(k[ns:]), ID: e.id, Removed: e.removed, Source: e.source, Database: e.database, Schema: e.schema})
		}
		return nil
	})
	return out, err
}
