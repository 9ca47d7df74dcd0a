package crawler

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// Usage (quarry.Usage) is read on every crawl from the statistics the
// server keeps anyway, never from a log or an agent: per table, cumulative
// read and write counters (postgres_usage.go: pg_stat_user_tables;
// mysql_usage.go: performance_schema's table I/O summary); per normalized
// statement, cumulative calls and time (pg_stat_statements;
// events_statements_summary_by_digest), whose SQL a real parser reads for
// the tables it reads and writes. What a crawl stores is the difference
// from the last crawl's counters (the baseline, kept in the store),
// counted on the day of the crawl. The first crawl of a database only
// sets the baseline: counters since an unknown time are not a day's use.
// A counter that went backwards was reset (a stats reset, a restart, an
// evicted statement): what it holds now is what happened since, and
// becomes the new baseline; a count is never negative.
//
// Statistics that are off (no pg_stat_statements, performance_schema off)
// make usage not available, with the reason, never a failed crawl. The
// crawl's own role's statements are left out, and so are statements that
// touch no crawled table (the catalog queries among them).

// usageRead is what one crawl read of a database's usage statistics.
type usageRead struct {
	// available: table counters were read; reason: what is missing, if
	// anything (statement statistics, or everything).
	available  bool
	reason     string
	tables     map[string][2]int64 // dataset id -> cumulative reads, writes
	statements map[string]*stmtRead
	known      map[string]string // the snapshot's dataset IDs (by name): what a statement's cached tables must still be
	took       time.Duration     // reading it

	// base is the last crawl's baseline, once prepareUsage has read it.
	base     *store.UsageBaseline
	baseRead bool
}

// stmtRead is one statement's cumulative counters and how to find the
// datasets it touches: parsing is the costly part of usage, so only the
// statements run since the last crawl are parsed. tables may be called
// from several goroutines at once.
type stmtRead struct {
	user, text string
	calls      int64
	totalMs    float64
	tables     func() (reads, writes []string) // dataset ids
}

// usageDeltas turns a read and the last crawl's baseline into the use
// since then per dataset, and the next baseline. With no baseline, there
// is no use to count yet.
func usageDeltas(u *usageRead, base *store.UsageBaseline, noText bool) (map[string]quarry.UsageDay, *store.UsageBaseline) {
	next := &store.UsageBaseline{Tables: u.tables, Statements: map[string]store.StatementCounter{}}
	for k, s := range u.statements {
		c := store.StatementCounter{Calls: s.calls, TotalMs: s.totalMs}
		if base != nil {
			// A key is one normalized text: what it touches stays known.
			c.Parsed, c.Touches = base.Statements[k].Parsed, base.Statements[k].Touches
		}
		next.Statements[k] = c
	}
	if base == nil {
		return nil, next
	}
	valid := make(map[string]bool, len(u.known))
	for _, id := range u.known {
		valid[id] = true
	}
	cached := func(c store.StatementCounter) bool {
		if !c.Parsed {
			return false
		}
		for _, id := range c.Touches {
			if !valid[id] {
				return false // a table gone or renamed since: parse again
			}
		}
		return true
	}
	days := map[string]quarry.UsageDay{}
	for id, cur := range u.tables {
		prev := base.Tables[id]
		reads, writes := delta(cur[0], prev[0]), delta(cur[1], prev[1])
		if reads == 0 && writes == 0 {
			continue
		}
		d := days[id]
		d.Reads += reads
		d.Writes += writes
		days[id] = d
	}
	// The statements that ran since the last crawl, in the same order every
	// time (ties among queries break alike); of them, those no crawl has
	// parsed yet are parsed, over the CPUs.
	var keys []string
	for k, s := range u.statements {
		if delta(s.calls, base.Statements[k].Calls) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	touches := make([][]string, len(keys))
	var parse []int
	for i, k := range keys {
		if c := next.Statements[k]; cached(c) {
			touches[i] = c.Touches
		} else {
			parse = append(parse, i)
		}
	}
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(parse))
	for w := range workers {
		wg.Go(func() {
			for j := w; j < len(parse); j += workers {
				i := parse[j]
				reads, writes := u.statements[keys[i]].tables()
				ids := append(slices.Clone(reads), writes...)
				slices.Sort(ids)
				touches[i] = slices.Compact(ids)
			}
		})
	}
	wg.Wait()
	for _, i := range parse {
		c := next.Statements[keys[i]]
		c.Parsed, c.Touches = true, touches[i]
		next.Statements[keys[i]] = c
	}
	for i, k := range keys {
		s := u.statements[k]
		prev := base.Statements[k]
		calls := delta(s.calls, prev.Calls)
		ms := s.totalMs - prev.TotalMs
		if s.calls < prev.Calls || ms < 0 {
			ms = s.totalMs
		}
		q := quarry.UsageQuery{Text: s.text, User: s.user, Calls: calls, MeanMs: round3(ms / float64(calls))}
		for _, id := range touches[i] {
			d := days[id]
			d.Calls += calls
			if s.user != "" {
				d.Users = append(d.Users, quarry.UsageUser{Name: s.user, Calls: calls})
			}
			if !noText && s.text != "" {
				d.Queries = append(d.Queries, q)
			}
			days[id] = d
		}
	}
	for id, d := range days {
		d.Users = quarry.MergeUsers(nil, d.Users, quarry.MaxUsageUsers)
		d.Queries = quarry.MergeQueries(nil, d.Queries, quarry.MaxUsageQueries)
		days[id] = d
	}
	return days, next
}

// delta is a cumulative counter's growth since prev; a counter below prev
// was reset, and counts from zero.
func delta(cur, prev int64) int64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

func round3(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}

// prepareUsage reads the last crawl's baseline before the snapshot is
// written, and starts parsing the statements that ran since and that no
// crawl has parsed: the parse then runs while the catalog is written,
// which waits on the disk, instead of after it. recordUsage takes the
// parses as they are (each statement's tables are computed once) and
// parses the rest itself.
func prepareUsage(ctx context.Context, st Store, ns string, snap *snapshot, res *Result) error {
	u := snap.usage
	if u == nil || !u.available && len(u.statements) == 0 {
		return nil
	}
	start := time.Now()
	defer func() { res.UsageTime += time.Since(start) }()
	base, err := st.UsageBaseline(ctx, ns, snap.database)
	if err != nil {
		return fmt.Errorf("usage: %w", err)
	}
	u.base, u.baseRead = base, true
	if base == nil {
		return nil // the first crawl only sets the baseline
	}
	var todo []*stmtRead
	for k, s := range u.statements {
		if c := base.Statements[k]; !c.Parsed && delta(s.calls, c.Calls) > 0 {
			s.tables = sync.OnceValues(s.tables)
			todo = append(todo, s)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	for w := range workers {
		go func() {
			for j := w; j < len(todo) && ctx.Err() == nil; j += workers {
				todo[j].tables()
			}
		}()
	}
	return nil
}

// recordUsage stores what a snapshot read of its database's usage: the
// use since the last crawl, the next baseline and whether usage is
// available.
func recordUsage(ctx context.Context, st Store, ns string, snap *snapshot, o *Options, res *Result) error {
	u := snap.usage
	if u == nil {
		return nil
	}
	start := time.Now()
	defer func() { res.UsageTime += u.took + time.Since(start) }()
	now := o.Now()
	rec := store.UsageRecord{Status: store.UsageStatus{Available: u.available, Reason: u.reason, At: now.UTC()}, Day: quarry.UsageDayOf(now)}
	if u.available || len(u.statements) > 0 {
		base := u.base
		if !u.baseRead {
			var err error
			if base, err = st.UsageBaseline(ctx, ns, snap.database); err != nil {
				return fmt.Errorf("usage: %w", err)
			}
		}
		rec.Datasets, rec.Baseline = usageDeltas(u, base, o.NoQueryText)
		rec.Baseline.At = now.UTC()
	}
	if err := st.RecordUsage(ctx, ns, snap.database, rec); err != nil {
		return fmt.Errorf("store usage: %w", err)
	}
	return nil
}

// datasetIDs maps a snapshot's dataset names (db.schema.table or
// db.table) to their IDs.
func (snap *snapshot) datasetIDs(ns string) map[string]string {
	if snap.ids != nil {
		return snap.ids // a hash each: 10,000 take 10 ms
	}
	ids := make(map[string]string, len(snap.datasets))
	for _, d := range snap.datasets {
		ids[d.Name] = quarry.NewID(quarry.EntityDataset, ns, d.Name)
	}
	return ids
}
