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

// Usage: what the crawls read of how datasets are used (quarry.Usage).
// It is statistics beside the entities, not a change to one: recording it
// appends nothing to the changelog (a crawl every few minutes of 10,000
// used tables would otherwise flood the followers with records that
// change no document). Search reads popularity from here when it ranks.
//
// Buckets:
//
//	usage_days     dataset id \x00 YYYY-MM-DD -> quarry.UsageDay
//	usage_recent   dataset id -> UsageRecent: the last PopularityDays added up
//	usage_state    namespace \x00 database -> usageState: the counters the last crawl read, and whether usage is available

// UsageBaseline is what one crawl of a database read of the server's
// cumulative counters, for the next crawl to subtract.
type UsageBaseline struct {
	At         time.Time                   `json:"at"`
	Tables     map[string][2]int64         `json:"tables,omitempty"`     // dataset id -> reads, writes
	Statements map[string]StatementCounter `json:"statements,omitempty"` // the engine's statement key -> counters
}

// StatementCounter is one statement's cumulative counters, and the
// datasets it touches once a crawl has parsed it (Parsed), so that the
// next crawls need not parse it again.
type StatementCounter struct {
	Calls   int64    `json:"calls"`
	TotalMs float64  `json:"totalMs"`
	Parsed  bool     `json:"parsed,omitempty"`
	Touches []string `json:"touches,omitempty"` // dataset ids
}

// UsageStatus says whether a database's usage could be read, and why not.
type UsageStatus struct {
	Available bool      `json:"available"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
}

// UsageRecord is what one crawl of a database found: its status, the
// counters to keep as the next baseline, and the use since the last
// crawl per dataset, counted in Day.
type UsageRecord struct {
	Status   UsageStatus
	Baseline *UsageBaseline
	Day      string // YYYY-MM-DD
	Datasets map[string]quarry.UsageDay
}

// UsageRecent is a dataset's use over the last PopularityDays: what
// popularity counts.
type UsageRecent struct {
	Reads int64    `json:"reads"`
	Calls int64    `json:"calls"`
	Users []string `json:"users,omitempty"`
	Until string   `json:"until"` // the last day counted
}

type usageState struct {
	Status   UsageStatus    `json:"status"`
	Baseline *UsageBaseline `json:"baseline,omitempty"`
}

func usageStateKey(ns, db string) []byte { return []byte(ns + "\x00" + db) }

func usageDayKey(id, day string) []byte { return []byte(id + "\x00" + day) }

// UsageBaseline returns the counters the last crawl of a database read,
// or nil if none has.
func (s *Store) UsageBaseline(ctx context.Context, ns, db string) (*UsageBaseline, error) {
	st, err := s.usageState(ns, db)
	if err != nil || st == nil {
		return nil, err
	}
	return st.Baseline, nil
}

// UsageStatus returns whether a database's usage could be read at its
// last crawl; nil if no crawl has tried.
func (s *Store) UsageStatus(ctx context.Context, ns, db string) (*UsageStatus, error) {
	st, err := s.usageState(ns, db)
	if err != nil || st == nil {
		return nil, err
	}
	return &st.Status, nil
}

func (s *Store) usageState(ns, db string) (*usageState, error) {
	var st *usageState
	err := s.view(func(tx kvTx) error {
		raw := tx.Bucket(bucketUsageState).Get(usageStateKey(ns, db))
		if raw == nil {
			return nil
		}
		st = &usageState{}
		return json.Unmarshal(raw, st)
	})
	if err != nil {
		return nil, fmt.Errorf("usage state of %s %s: %w", ns, db, err)
	}
	return st, nil
}

// RecordUsage stores one crawl's usage of a database in one transaction:
// each dataset's use is added to its day (bounded: quarry.MaxUsageUsers,
// MaxUsageQueries), days older than quarry.UsageRetentionDays are
// dropped, the datasets' recent totals are recounted, and the baseline and
// status replace the last crawl's.
func (s *Store) RecordUsage(ctx context.Context, ns, db string, rec UsageRecord) error {
	if _, err := time.Parse(time.DateOnly, rec.Day); err != nil && len(rec.Datasets) > 0 {
		return quarry.Invalid("day", "%q is not a day: want YYYY-MM-DD", rec.Day)
	}
	ids := make([]string, 0, len(rec.Datasets))
	for id := range rec.Datasets {
		ids = append(ids, id)
	}
	slices.Sort(ids) // bbolt writes in key order are the cheapest
	return s.bulk(ctx, func(tx kvTx) error {
		days, recent := tx.Bucket(bucketUsageDays), tx.Bucket(bucketUsageRecent)
		for _, id := range ids {
			d := rec.Datasets[id]
			d.Day = rec.Day
			k := usageDayKey(id, rec.Day)
			if raw := days.Get(k); raw != nil {
				var have quarry.UsageDay
				if err := json.Unmarshal(raw, &have); err != nil {
					return fmt.Errorf("usage of %s on %s: %w", id, rec.Day, err)
				}
				have.Merge(d)
				d = have
			} else {
				d.Users = quarry.MergeUsers(nil, d.Users, quarry.MaxUsageUsers)
				d.Queries = quarry.MergeQueries(nil, d.Queries, quarry.MaxUsageQueries)
			}
			for i := range d.Queries {
				d.Queries[i].Text = quarry.TruncateQuery(d.Queries[i].Text)
			}
			if err := putJSON(days, k, d); err != nil {
				return err
			}
			r, err := pruneAndSum(days, id, rec.Day, &d)
			if err != nil {
				return err
			}
			if err := putJSON(recent, []byte(id), r); err != nil {
				return err
			}
		}
		return putJSON(tx.Bucket(bucketUsageState), usageStateKey(ns, db), usageState{Status: rec.Status, Baseline: rec.Baseline})
	})
}

// pruneAndSum drops a dataset's days older than the retention and adds up
// its last PopularityDays up to today, whose use the caller just wrote
// (it is not decoded again: that was a third of a crawl's usage write).
func pruneAndSum(days kvBucket, id, today string, todays *quarry.UsageDay) (UsageRecent, error) {
	t, _ := time.Parse(time.DateOnly, today)
	keep := t.AddDate(0, 0, -quarry.UsageRetentionDays+1).Format(time.DateOnly)
	recent := t.AddDate(0, 0, -quarry.PopularityDays+1).Format(time.DateOnly)
	r := UsageRecent{Until: today}
	prefix := []byte(id + "\x00")
	c := days.Cursor()
	var old [][]byte
	users := map[string]bool{}
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		day := string(k[len(prefix):])
		if day < keep {
			old = append(old, slices.Clone(k))
			continue
		}
		if day < recent || day > today {
			continue
		}
		d := todays
		if day != today {
			d = &quarry.UsageDay{}
			if err := json.Unmarshal(v, d); err != nil {
				return r, fmt.Errorf("usage of %s on %s: %w", id, day, err)
			}
		}
		r.Reads += d.Reads
		r.Calls += d.Calls
		for _, u := range d.Users {
			if !users[u.Name] {
				users[u.Name] = true
				r.Users = append(r.Users, u.Name)
			}
		}
	}
	for _, k := range old {
		if err := days.Delete(k); err != nil {
			return r, err
		}
	}
	slices.Sort(r.Users)
	return r, nil
}

// DatasetUsage returns a dataset's days of use from since (YYYY-MM-DD) on,
// oldest first.
func (s *Store) DatasetUsage(ctx context.Context, id, since string) ([]quarry.UsageDay, error) {
	var out []quarry.UsageDay
	err := s.view(func(tx kvTx) error {
		prefix := []byte(id + "\x00")
		c := tx.Bucket(bucketUsageDays).Cursor()
		for k, v := c.Seek(usageDayKey(id, since)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var d quarry.UsageDay
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("usage of %s: %w", k, err)
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// RecentUsage returns every used dataset's recent totals (UsageRecent),
// by dataset id, counting only those whose last day counted is on or
// after since: a dataset no crawl has seen used for PopularityDays has
// none.
func (s *Store) RecentUsage(ctx context.Context, since string) (map[string]UsageRecent, error) {
	out := map[string]UsageRecent{}
	err := s.view(func(tx kvTx) error {
		n := 0
		return tx.Bucket(bucketUsageRecent).ForEach(func(k, v []byte) error {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var r UsageRecent
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("recent usage of %s: %w", k, err)
			}
			if r.Until >= since {
				out[string(k)] = r
			}
			return nil
		})
	})
	return out, err
}

// ReaderJobs returns, by dataset id, how many jobs read it, as their runs
// report (the jobs among DatasetJobs' readers).
func (s *Store) ReaderJobs(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketDatasetJobs).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) > idLen && k[idLen] == roleReads {
				out[string(k[:idLen])]++
			}
		}
		return ctx.Err()
	})
	return out, err
}

// Usage returns a dataset's use from since (YYYY-MM-DD) on, added up, and
// whether its database's usage could be read (the status of the last
// crawl of the database it was crawled in). Popularity is the caller's.
func (s *Store) Usage(ctx context.Context, d *quarry.Dataset, since string) (*quarry.Usage, error) {
	days, err := s.DatasetUsage(ctx, d.ID, since)
	if err != nil {
		return nil, err
	}
	u := quarry.SumUsage(days)
	if u.Daily == nil {
		u.Daily = []quarry.UsageDay{}
	}
	// A crawl names the database; a dataset others reported is named
	// db.schema.table or db.table as crawls name theirs.
	db := d.Database
	if db == "" {
		db, _, _ = strings.Cut(d.Name, ".")
	}
	status, err := s.UsageStatus(ctx, d.Namespace, db)
	switch {
	case err != nil:
		return nil, err
	case status == nil:
		u.Reason = "no crawl has read the usage of its database: usage is read from the statistics of crawled PostgreSQL and MySQL databases"
	default:
		u.Available, u.Reason = status.Available, status.Reason
	}
	return &u, nil
}

// PopularityInputs returns what popularity counts of each dataset that
// was used since (YYYY-MM-DD) or that a job reads.
func (s *Store) PopularityInputs(ctx context.Context, since string) (map[string]quarry.PopularityInput, error) {
	recent, err := s.RecentUsage(ctx, since)
	if err != nil {
		return nil, err
	}
	jobs, err := s.ReaderJobs(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]quarry.PopularityInput, len(recent)+len(jobs))
	for id, r := range recent {
		out[id] = quarry.PopularityInput{Reads: r.Reads, Users: int64(len(r.Users))}
	}
	for id, n := range jobs {
		in := out[id]
		in.ReaderJobs = int64(n)
		out[id] = in
	}
	return out, nil
}
