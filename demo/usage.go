package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// demoUsage is the use the demo's crawls would have read over the last two
// weeks (reads a day, users, queries), so that the front page's most used
// datasets, the search's popularity and the Usage tab have something to
// show. A real catalog reads it from its databases' statistics.
var demoUsage = []struct {
	ns, db, name string
	reads        int64 // a day
	users        []string
	queries      []string
}{
	{shopNS, "shop", "shop.public.orders", 1200, []string{"ana", "ben", "carla", "etl_loader"}, []string{
		"SELECT id, status, total_cents FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2",
		"SELECT date_trunc($1, created_at) AS day, sum(total_cents) FROM orders WHERE created_at >= $2 GROUP BY 1",
	}},
	{shopNS, "shop", "shop.public.users", 400, []string{"ana", "ben"}, []string{
		"SELECT id, email, country FROM users WHERE id = $1",
	}},
	{billingNS, "billing", "billing.subscriptions", 150, nil, []string{
		"SELECT `plan_id` , COUNT ( * ) FROM `subscriptions` WHERE `status` = ? GROUP BY `plan_id`",
	}},
}

// loadUsage records demoUsage once: a store that has the first dataset's
// use already keeps what it has.
func loadUsage(ctx context.Context, st *store.Store, now time.Time) error {
	first := demoUsage[0]
	have, err := st.DatasetUsage(ctx, quarry.NewID(quarry.EntityDataset, first.ns, first.name), "0000-00-00")
	if err != nil || len(have) > 0 {
		return err
	}
	for i := 13; i >= 0; i-- {
		day := quarry.UsageDayOf(now.AddDate(0, 0, -i))
		byDB := map[[2]string]map[string]quarry.UsageDay{}
		for _, u := range demoUsage {
			d := quarry.UsageDay{Reads: u.reads + int64(i*7%13)*u.reads/20, Writes: u.reads / 40}
			for j, name := range u.users {
				d.Users = append(d.Users, quarry.UsageUser{Name: name, Calls: u.reads / int64(2+j)})
			}
			for j, q := range u.queries {
				user := ""
				if len(u.users) > 0 {
					user = u.users[j%len(u.users)]
				}
				calls := u.reads / int64(1+j)
				d.Queries = append(d.Queries, quarry.UsageQuery{Text: q, User: user, Calls: calls, MeanMs: 1.5 + float64(j)})
				d.Calls += calls
			}
			k := [2]string{u.ns, u.db}
			if byDB[k] == nil {
				byDB[k] = map[string]quarry.UsageDay{}
			}
			byDB[k][quarry.NewID(quarry.EntityDataset, u.ns, u.name)] = d
		}
		for k, ds := range byDB {
			err := st.RecordUsage(ctx, k[0], k[1], store.UsageRecord{
				Status: store.UsageStatus{Available: true, At: now}, Baseline: &store.UsageBaseline{At: now}, Day: day, Datasets: ds})
			if err != nil {
				return fmt.Errorf("demo usage: %w", err)
			}
		}
	}
	return nil
}
