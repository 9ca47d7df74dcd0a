package quarry

import (
	"cmp"
	"slices"
	"time"
)

// Usage is how a dataset is used, as the crawls of its database read it
// from the server's own statistics (PostgreSQL's pg_stat_user_tables and
// pg_stat_statements; MySQL's and MariaDB's performance_schema): how often
// it was read and written, by whom, and with which normalized queries.
// Counters are deltas between crawls, attributed to the day of the crawl
// that read them.
type Usage struct {
	// Available is false when the server keeps no statistics the crawl can
	// read (performance_schema off, pg_stat_statements not installed) or
	// no crawl has read them yet; Reason says which. With table counters
	// but no statement statistics, Available is true and Reason says what
	// is missing (users and queries).
	Available bool
	Reason    string

	Reads, Writes, Calls int64
	Users                []UsageUser  // most calls first
	Queries              []UsageQuery // most calls first
	Daily                []UsageDay   // oldest first, days without use left out

	// Popularity is the dataset's percentile (0-100) among the catalog's
	// datasets by use over the last PopularityDays (see search/doc.go).
	Popularity float64
}

// UsageUser is one database role's calls of statements that touch a
// dataset.
type UsageUser struct {
	Name  string `json:"name"`
	Calls int64  `json:"calls"`
}

// UsageQuery is one normalized statement (literals replaced by
// placeholders, as the server normalizes them) run by one user.
type UsageQuery struct {
	Text   string  `json:"text"`
	User   string  `json:"user,omitempty"` // "" where the server does not say (MySQL's digests)
	Calls  int64   `json:"calls"`
	MeanMs float64 `json:"meanMs"`
}

// UsageDay is a dataset's use on one day (UTC).
type UsageDay struct {
	Day     string       `json:"day"` // YYYY-MM-DD
	Reads   int64        `json:"reads"`
	Writes  int64        `json:"writes"`
	Calls   int64        `json:"calls"`
	Users   []UsageUser  `json:"users,omitempty"`
	Queries []UsageQuery `json:"queries,omitempty"`
}

// Bounds of what is kept of usage.
const (
	UsageRetentionDays = 90   // days of usage kept per dataset
	PopularityDays     = 30   // days popularity counts
	MaxUsageUsers      = 50   // users kept per dataset and day
	MaxUsageQueries    = 20   // queries kept per dataset and day
	MaxUsageQueryLen   = 4000 // bytes of a query's text kept
	MaxUsageDays       = 365  // the most days usage(days:) may ask for
)

// UsageDayOf is the day (UTC) usage read at t is counted in.
func UsageDayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Merge adds o's counts into d (same day): users by name, queries by text
// and user (mean times weighted by calls), then bounded.
func (d *UsageDay) Merge(o UsageDay) {
	d.Reads += o.Reads
	d.Writes += o.Writes
	d.Calls += o.Calls
	d.Users = MergeUsers(d.Users, o.Users, MaxUsageUsers)
	d.Queries = MergeQueries(d.Queries, o.Queries, MaxUsageQueries)
}

// MergeUsers adds b's calls into a by name and keeps the max busiest.
func MergeUsers(a, b []UsageUser, limit int) []UsageUser {
	byName := map[string]int{}
	out := make([]UsageUser, 0, len(a)+len(b))
	for _, u := range slices.Concat(a, b) {
		if i, ok := byName[u.Name]; ok {
			out[i].Calls += u.Calls
			continue
		}
		byName[u.Name] = len(out)
		out = append(out, u)
	}
	slices.SortFunc(out, func(x, y UsageUser) int {
		return cmp.Or(cmp.Compare(y.Calls, x.Calls), cmp.Compare(x.Name, y.Name))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// MergeQueries adds b's calls into a by text and user and keeps the max
// most called.
func MergeQueries(a, b []UsageQuery, limit int) []UsageQuery {
	type key struct{ text, user string }
	at := map[key]int{}
	out := make([]UsageQuery, 0, len(a)+len(b))
	for _, q := range slices.Concat(a, b) {
		k := key{q.Text, q.User}
		if i, ok := at[k]; ok {
			p := &out[i]
			if total := p.Calls + q.Calls; total > 0 {
				p.MeanMs = (p.MeanMs*float64(p.Calls) + q.MeanMs*float64(q.Calls)) / float64(total)
			}
			p.Calls += q.Calls
			continue
		}
		at[k] = len(out)
		out = append(out, q)
	}
	slices.SortFunc(out, func(x, y UsageQuery) int {
		return cmp.Or(cmp.Compare(y.Calls, x.Calls), cmp.Compare(x.Text, y.Text), cmp.Compare(x.User, y.User))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// SumUsage is the usage of days added up; Available and Reason are the
// caller's.
func SumUsage(days []UsageDay) Usage {
	var u Usage
	for _, d := range days {
		u.Reads += d.Reads
		u.Writes += d.Writes
		u.Calls += d.Calls
		u.Users = MergeUsers(u.Users, d.Users, MaxUsageUsers)
		u.Queries = MergeQueries(u.Queries, d.Queries, MaxUsageQueries)
	}
	u.Daily = days
	return u
}

// TruncateQuery shortens a query's text to MaxUsageQueryLen bytes at a
// character boundary.
func TruncateQuery(s string) string { return Truncate(s, MaxUsageQueryLen) }

// PopularityInput is what a dataset's popularity counts over the last
// PopularityDays: reads, distinct users, and the jobs that read it (from
// lineage).
type PopularityInput struct {
	Reads, Users, ReaderJobs int64
}
