package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// BenchmarkUpsertBulk upserts new datasets with 15 columns, 1000 per
// transaction (how a crawl writes), fsync'd.
func BenchmarkUpsertBulk(b *testing.B) {
	s := storetest.MustOpen(b, nil)
	ctx := context.Background()
	const per = 1000
	batch := make([]quarry.Dataset, per)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for i := range batch {
			batch[i] = storetest.Wide(n)
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
			s := storetest.MustOpen(b, nil)
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
						if _, err := s.UpsertDatasets(ctx, []quarry.Dataset{storetest.Wide(n)}); err != nil {
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

// BenchmarkApplyLineage applies run events (START and COMPLETE of runs of
// 200 jobs, each reading one dataset and writing another with 4 column
// edges) to an fsync'd store, one writer at a time and from 32 writers
// sharing commits: the store's part of OpenLineage ingestion. apply writes
// each event into the catalog as it commits (reportRun's path); accept
// commits it to the lineage log (OpenLineage's path), and the applier folds
// the log in behind; accept-replica (PostgreSQL only) is a replica's
// accept, which commits the events to the shared queue in the database.
func BenchmarkApplyLineage(b *testing.B) {
	event := func(i int) quarry.LineageEvent {
		run := i / 2
		state := quarry.RunStart
		if i%2 == 1 {
			state = quarry.RunComplete
		}
		ev := runEvent(fmt.Sprintf("copy_%d", run%200), quarry.NewID("run", "bench", fmt.Sprint(run)), state, shT0.Add(time.Duration(i)*time.Second),
			[]string{fmt.Sprintf("shop.public.src_%d", run%200)}, []string{fmt.Sprintf("shop.public.dst_%d", run%200)})
		for _, c := range []string{"a", "b", "c", "d"} {
			ev.Outputs[0].ColumnLineage = append(ev.Outputs[0].ColumnLineage, quarry.ColumnLineage{Column: c,
				Inputs: []quarry.ColumnSource{{Namespace: shopNS, Name: ev.Inputs[0].Name, Field: c, Transformation: "DIRECT/IDENTITY"}}})
		}
		digest(&ev)
		return ev
	}
	for _, c := range []struct {
		accept   bool
		writers  int
		replicas bool
	}{{false, 1, false}, {false, 32, false}, {true, 1, false}, {true, 32, false}, {true, 1, true}, {true, 32, true}} {
		accept, writers := c.accept, c.writers
		name := "apply"
		if accept {
			name = "accept"
		}
		if c.replicas {
			name = "accept-replica"
		}
		b.Run(fmt.Sprintf("%s/writers=%d", name, writers), func(b *testing.B) {
			if c.replicas && storetest.Engine() != "postgres" {
				b.Skip("replicas are PostgreSQL's")
			}
			reg := prometheus.NewRegistry()
			s := storetest.MustOpen(b, &store.Options{Registerer: reg, Replicas: c.replicas})
			evs := make([]quarry.LineageEvent, b.N)
			for i := range evs {
				evs[i] = event(i)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range writers {
				wg.Go(func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						var err error
						if accept {
							err = s.AcceptLineage(context.Background(), evs[i:i+1])[0]
						} else {
							_, err = s.ApplyLineage(context.Background(), &evs[i])
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(commitsPerSecond(b, reg), "commits/s")
			if accept { // and until the applier has folded them all in
				if err := s.SyncLineage(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "applied/s")
			}
		})
	}
}

// commitsPerSecond reads the store's group-commit histogram: how many
// transactions the benchmark's writes took, per second.
func commitsPerSecond(b *testing.B, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "quarry_store_group_commit_writes" {
			return float64(mf.GetMetric()[0].GetHistogram().GetSampleCount()) / b.Elapsed().Seconds()
		}
	}
	return 0
}

// BenchmarkRunsOfALargeSQLJob applies runs (START, COMPLETE) of a job
// whose SQL is 900 KiB, sent once: what a run of it costs beyond its own
// event, in bytes allocated per event (B/op) and bytes the file grew per
// event. Claiming the job's edges rewrote the whole record, SQL and all,
// at every completed run, and each event decoded it (issue 15: memory grew
// ~15 MB/s under ordinary writes after a 10 MB sql facet).
func BenchmarkRunsOfALargeSQLJob(b *testing.B) {
	s := storetest.MustOpen(b, nil)
	var sql strings.Builder
	for i := 0; sql.Len() < 900<<10; i++ {
		fmt.Fprintf(&sql, "t%d.col_%d AS alias_%d, ", i%50, i, i)
	}
	first := runEvent("big", quarry.NewID("run", "bench", "first"), quarry.RunComplete, shT0, []string{"shop.public.a"}, []string{"shop.public.b"})
	first.Job.SQL = "SELECT " + sql.String() + "1"
	mustApply(b, s, first)
	evs := make([]quarry.LineageEvent, b.N)
	for i := range evs {
		state := quarry.RunStart
		if i%2 == 1 {
			state = quarry.RunComplete
		}
		evs[i] = runEvent("big", quarry.NewID("run", "bench", fmt.Sprint(i/2)), state, shT0.Add(time.Duration(i+1)*time.Second), []string{"shop.public.a"}, []string{"shop.public.b"})
		digest(&evs[i])
	}
	size := func() int64 {
		st, err := s.Stats(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		return st.FileBytes
	}
	before := size()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range evs {
		if _, err := s.ApplyLineage(context.Background(), &evs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(size()-before)/float64(b.N), "file-B/event")
}

// BenchmarkLineageRead reads lineage from a store holding a chain of 200
// datasets, each written by a job from the one before with 4 column edges:
// ten hops upstream from the chain's end, one Edges read per hop (what a
// lineage view asks the store for), and every edge of the store (what the
// in-memory lineage graph loads at start).
func BenchmarkLineageRead(b *testing.B) {
	s := storetest.MustOpen(b, &store.Options{NoSync: true})
	ctx := context.Background()
	for i := range 200 {
		ev := runEvent(fmt.Sprintf("step_%d", i), quarry.NewID("run", "bench", fmt.Sprint(i)), quarry.RunComplete, shT0.Add(time.Duration(i)*time.Second),
			[]string{fmt.Sprintf("shop.public.t_%d", i)}, []string{fmt.Sprintf("shop.public.t_%d", i+1)})
		for _, c := range []string{"a", "b", "c", "d"} {
			ev.Outputs[0].ColumnLineage = append(ev.Outputs[0].ColumnLineage, quarry.ColumnLineage{Column: c,
				Inputs: []quarry.ColumnSource{{Namespace: shopNS, Name: ev.Inputs[0].Name, Field: c, Transformation: "DIRECT/IDENTITY"}}})
		}
		mustApply(b, s, ev)
	}
	up := map[string]string{} // dataset -> the one it is made from
	total := 0
	if err := s.EachEdge(ctx, func(e *quarry.Edge) error {
		total++
		if e.FromColumn == "" {
			up[e.To] = e.From
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	end := ""
	for to := range up {
		n := 0
		for at := to; up[at] != ""; at = up[at] {
			n++
		}
		if n == 200 {
			end = to
		}
	}
	if end == "" {
		b.Fatalf("no chain of 200 among %d edges", total)
	}
	b.Run("upstream10", func(b *testing.B) {
		for b.Loop() {
			at := end
			for range 10 {
				edges, err := s.Edges(ctx, at, true)
				if err != nil {
					b.Fatal(err)
				}
				next := ""
				for _, e := range edges {
					if e.FromColumn == "" {
						next = e.From
					}
				}
				if next == "" {
					b.Fatalf("no upstream of %s among %d edges", at, len(edges))
				}
				at = next
			}
		}
	})
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := s.EachEdge(ctx, func(*quarry.Edge) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			if n != total {
				b.Fatalf("%d edges, want %d", n, total)
			}
		}
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "edges/s")
	})
}

// BenchmarkCommitFreelist is what writing the freelist with each commit
// (openBolt) costs: one-key bbolt commits, fsync'd, on a file with free
// pages (5,000 is what the scale benchmark's 1M-dataset catalog has; a
// catalog that shed much of its data has more), with the freelist synced
// and, for comparison, rebuilt at open instead as builds before did.
func BenchmarkCommitFreelist(b *testing.B) {
	for _, free := range []int{5_000, 50_000} {
		for _, synced := range []bool{true, false} {
			b.Run(fmt.Sprintf("free=%d/synced=%t", free, synced), func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "raw.db")
				opts := &bolt.Options{FreelistType: bolt.FreelistMapType, NoFreelistSync: !synced, NoSync: true}
				db, err := bolt.Open(path, 0o600, opts)
				if err != nil {
					b.Fatal(err)
				}
				big := make([]byte, 3000) // about a page each
				err = db.Update(func(tx *bolt.Tx) error {
					bk, err := tx.CreateBucket([]byte("shed"))
					if err != nil {
						return err
					}
					for i := range free {
						if err := bk.Put(fmt.Appendf(nil, "%08d", i), big); err != nil {
							return err
						}
					}
					return nil
				})
				if err == nil {
					err = db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("shed")) })
				}
				if err == nil {
					err = db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err })
				}
				if err != nil {
					b.Fatal(err)
				}
				db.NoSync = false
				i := 0
				for b.Loop() {
					i++
					err := db.Update(func(tx *bolt.Tx) error {
						return tx.Bucket([]byte("b")).Put(fmt.Append(nil, i), make([]byte, 1500))
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
				b.ReportMetric(float64(db.Stats().FreePageN), "free-pages")
				b.StopTimer()
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
