package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry"
)

// wide returns a dataset with 15 columns, like a typical warehouse table.
func wide(n int) quarry.Dataset {
	d := quarry.Dataset{
		Namespace: "redshift://analytics.us-east-1:5439",
		Name:      fmt.Sprintf("analytics.marts.table_%07d", n),
		Provided:  quarry.Metadata{Description: "One row per order line, deduplicated, with currency converted to USD.", Owners: []string{"team:data-eng"}, Tags: []string{"finance", "tier1"}},
	}
	for c := range 15 {
		d.Columns = append(d.Columns, quarry.Column{Name: fmt.Sprintf("column_%02d", c), Type: "varchar(256)", Nullable: c > 0, Description: "A column of the table."})
	}
	return d
}

// BenchmarkUpsertBulk upserts new datasets with 15 columns, 1000 per
// transaction (how a crawl writes), fsync'd.
func BenchmarkUpsertBulk(b *testing.B) {
	s := MustOpen(b, nil)
	ctx := context.Background()
	const per = 1000
	batch := make([]quarry.Dataset, per)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for i := range batch {
			batch[i] = wide(n)
			n++
		}
		b.StartTimer()
		if _, err := s.UpsertDatasets(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "datasets/s")
}

// BenchmarkFsyncCommit is the physical limit: one bare bbolt transaction
// writing one key, fsync'd, one after another.
func BenchmarkFsyncCommit(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	i := 0
	for b.Loop() {
		i++
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			return bk.Put([]byte(fmt.Sprint(i)), make([]byte, 1500))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkUpsertSingle is single-dataset upserts from 1 and from 32
// concurrent writers: with group commit, 32 writers share fsyncs.
func BenchmarkUpsertSingle(b *testing.B) {
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := MustOpen(b, nil)
			ctx := context.Background()
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for {
						n := int(next.Add(1))
						if n > b.N {
							return
						}
						if _, err := s.UpsertDatasets(ctx, []quarry.Dataset{wide(n)}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "upserts/s")
		})
	}
}
