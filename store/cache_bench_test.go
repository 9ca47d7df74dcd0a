package store_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// BenchmarkDatasetRead reads datasets by ID through the record cache
// (2,048 records): all of a small catalog (every read a hit after the
// first), a skewed mix over a large one (a few datasets are read far more
// often, as on search pages and lineage views), and a cyclic scan of a
// catalog twice the cache's size (no cache can hold it).
func BenchmarkDatasetRead(b *testing.B) {
	for _, c := range []struct {
		name     string
		datasets int
		next     func(r *rand.Rand, n int) int
	}{
		{"fits", 1000, func(r *rand.Rand, n int) int { return r.IntN(n) }},
		{"skewed", 20000, zipf()},
		{"scan", 4096, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := storetest.MustOpen(b, &store.Options{NoSync: true})
			ctx := context.Background()
			ids := wideCatalog(b, s, c.datasets)
			r := rand.New(rand.NewPCG(1, 2))
			i := 0
			for b.Loop() {
				k := i % len(ids)
				if c.next != nil {
					k = c.next(r, len(ids))
				}
				i++
				if _, err := s.Dataset(ctx, ids[k]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// zipf picks indexes with Zipf's law (s = 1.1): the first few most often.
func zipf() func(r *rand.Rand, n int) int {
	var z *rand.Zipf
	return func(r *rand.Rand, n int) int {
		if z == nil {
			z = rand.NewZipf(r, 1.1, 1, uint64(n-1))
		}
		return int(z.Uint64())
	}
}

// BenchmarkIdentity reads the lineage identity (namespace, name, removal)
// of datasets of fifteen columns, as the lineage graph does for every
// dataset written, over a catalog twice the record cache's size.
func BenchmarkIdentity(b *testing.B) {
	s := storetest.MustOpen(b, &store.Options{NoSync: true})
	ctx := context.Background()
	ids := wideCatalog(b, s, 4096)
	i := 0
	for b.Loop() {
		if _, err := s.Identity(ctx, quarry.EntityDataset, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// wideCatalog stores n datasets of fifteen columns (storetest.Wide) and
// returns their IDs.
func wideCatalog(b *testing.B, s *store.Store, n int) []string {
	var ids []string
	batch := make([]quarry.Dataset, 0, 1000)
	for i := range n {
		batch = append(batch, storetest.Wide(i))
		if len(batch) == cap(batch) || i == n-1 {
			res, err := s.UpsertDatasets(context.Background(), batch)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, res.IDs...)
			batch = batch[:0]
		}
	}
	return ids
}
