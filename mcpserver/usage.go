package mcpserver

import (
	"context"

	"github.com/quarrydata/quarry"
)

// Popularity gives a dataset's popularity percentile (search.Popularity),
// as the GraphQL API's Dataset.usage and SearchHit.popularity read it.
type Popularity interface {
	Popularity(ctx context.Context, id string) (float64, error)
}

// What get_dataset shows of usage: the GraphQL API's default window, and
// the few users and queries a model needs to say who uses a table and how
// it is queried (a day keeps up to quarry.MaxUsageQueries of 4,000 bytes).
const (
	usageDays    = 30
	usageUsers   = 5
	usageQueries = 5
	usageText    = 500
)

// Usage is how a dataset was used over the last 30 days, as the databases'
// own statistics counted it on each crawl.
type Usage struct {
	Available  bool         `json:"available" jsonschema:"false when no crawl could read its database's statistics; reason says why"`
	Reason     string       `json:"reason,omitempty" jsonschema:"what is not known, and why"`
	Reads      int64        `json:"reads,omitempty" jsonschema:"reads over the last 30 days (PostgreSQL: scans; MySQL: rows read)"`
	Writes     int64        `json:"writes,omitempty" jsonschema:"writes over the last 30 days (rows inserted, updated, deleted)"`
	Calls      int64        `json:"calls,omitempty" jsonschema:"calls of statements that touch it"`
	Users      []UsageUser  `json:"users,omitempty" jsonschema:"the database users that ran the most statements on it, most first"`
	UsersTotal int          `json:"usersTotal,omitempty" jsonschema:"distinct users; users lists the first of them"`
	Queries    []UsageQuery `json:"queries,omitempty" jsonschema:"its most run normalized queries (literals replaced by placeholders), most calls first: how people query it"`
	Popularity float64      `json:"popularityPercentile,omitempty" jsonschema:"0 to 100: the share of the catalog's used datasets it is used at least as much as (reads, users, reading jobs)"`
}

// UsageUser is one database user's calls.
type UsageUser struct {
	Name  string `json:"name"`
	Calls int64  `json:"calls"`
}

// UsageQuery is one normalized query.
type UsageQuery struct {
	Text   string  `json:"text" jsonschema:"the normalized SQL, cut to 500 characters"`
	Calls  int64   `json:"calls"`
	MeanMs float64 `json:"meanMs" jsonschema:"mean run time in milliseconds"`
	User   string  `json:"user,omitempty" jsonschema:"who ran it; absent where the database does not say (MySQL)"`
}

// usage reads d's usage as the GraphQL resolver of Dataset.usage does.
func (s *Server) usage(ctx context.Context, d *quarry.Dataset) (*Usage, error) {
	since := quarry.UsageDayOf(s.o.Now().AddDate(0, 0, -(usageDays - 1)))
	u, err := s.o.Store.Usage(ctx, d, since)
	if err != nil {
		return nil, err
	}
	out := &Usage{Available: u.Available, Reason: cut(u.Reason, shortText), Reads: u.Reads, Writes: u.Writes, Calls: u.Calls, UsersTotal: len(u.Users)}
	for _, x := range u.Users[:min(len(u.Users), usageUsers)] {
		out.Users = append(out.Users, UsageUser{Name: x.Name, Calls: x.Calls})
	}
	for _, q := range u.Queries[:min(len(u.Queries), usageQueries)] {
		out.Queries = append(out.Queries, UsageQuery{Text: cut(q.Text, usageText), Calls: q.Calls, MeanMs: q.MeanMs, User: q.User})
	}
	if s.o.Popularity != nil {
		if out.Popularity, err = s.o.Popularity.Popularity(ctx, d.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
