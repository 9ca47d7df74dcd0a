package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// TestRecordUsage: a day's use adds up over crawls (users by name, queries
// by text and user, mean times weighted), stays within its bounds, days
// past the retention are dropped, and the recent totals count the last
// PopularityDays' reads and distinct users.
func TestRecordUsage(t *testing.T) {
	ctx := context.Background()
	st := storetest.MustOpen(t, &store.Options{NoSync: true})
	id := quarry.NewID(quarry.EntityDataset, "postgres://db:5432", "shop.public.orders")
	ns, db := "postgres://db:5432", "shop"
	record := func(day string, d quarry.UsageDay) {
		t.Helper()
		err := st.RecordUsage(ctx, ns, db, store.UsageRecord{
			Status: store.UsageStatus{Available: true}, Baseline: &store.UsageBaseline{Tables: map[string][2]int64{id: {1, 2}}},
			Day: day, Datasets: map[string]quarry.UsageDay{id: d},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	record("2026-01-01", quarry.UsageDay{Reads: 100, Users: []quarry.UsageUser{{Name: "old", Calls: 1}}})
	q := func(user string, calls int64, ms float64) quarry.UsageQuery {
		return quarry.UsageQuery{Text: "SELECT * FROM orders", User: user, Calls: calls, MeanMs: ms}
	}
	record("2026-03-30", quarry.UsageDay{Reads: 5, Calls: 3, Users: []quarry.UsageUser{{Name: "a", Calls: 3}}, Queries: []quarry.UsageQuery{q("a", 3, 2)}})
	record("2026-03-30", quarry.UsageDay{Reads: 5, Calls: 1, Users: []quarry.UsageUser{{Name: "a", Calls: 1}}, Queries: []quarry.UsageQuery{q("a", 1, 6)}})
	var many quarry.UsageDay
	for i := range 100 {
		many.Users = append(many.Users, quarry.UsageUser{Name: fmt.Sprintf("u%03d", i), Calls: int64(i + 1)})
		many.Queries = append(many.Queries, quarry.UsageQuery{Text: fmt.Sprintf("SELECT %d FROM orders", i), Calls: int64(i + 1)})
	}
	record("2026-04-02", many)

	days, err := st.DatasetUsage(ctx, id, "0000-00-00")
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 || days[0].Day != "2026-03-30" || days[1].Day != "2026-04-02" {
		t.Fatalf("days = %+v (the January day is past the retention)", days)
	}
	d := days[0]
	if d.Reads != 10 || d.Calls != 4 || len(d.Users) != 1 || d.Users[0] != (quarry.UsageUser{Name: "a", Calls: 4}) ||
		len(d.Queries) != 1 || d.Queries[0].Calls != 4 || d.Queries[0].MeanMs != 3 {
		t.Fatalf("merged day = %+v", d)
	}
	d = days[1]
	if len(d.Users) != quarry.MaxUsageUsers || d.Users[0].Name != "u099" || len(d.Queries) != quarry.MaxUsageQueries || d.Queries[0].Calls != 100 {
		t.Fatalf("bounded day: %d users (first %+v), %d queries", len(d.Users), d.Users[0], len(d.Queries))
	}
	recent, err := st.RecentUsage(ctx, "2026-03-10")
	if err != nil {
		t.Fatal(err)
	}
	if r := recent[id]; r.Reads != 10 || len(r.Users) != 1+quarry.MaxUsageUsers || r.Until != "2026-04-02" {
		t.Fatalf("recent = %+v", r)
	}
	if recent, _ := st.RecentUsage(ctx, "2026-05-01"); len(recent) != 0 {
		t.Fatalf("recent usage of a dataset unused since April: %+v", recent)
	}
	status, err := st.UsageStatus(ctx, ns, db)
	if err != nil || status == nil || !status.Available {
		t.Fatalf("status = %+v, %v", status, err)
	}
	if base, err := st.UsageBaseline(ctx, ns, db); err != nil || base.Tables[id] != [2]int64{1, 2} {
		t.Fatalf("baseline = %+v, %v", base, err)
	}
	t.Run("ErrDay", func(t *testing.T) {
		err := st.RecordUsage(ctx, ns, db, store.UsageRecord{Day: "yesterday", Datasets: map[string]quarry.UsageDay{id: {Reads: 1}}})
		if quarry.ErrorCode(err) != quarry.EINVALID {
			t.Fatalf("err = %v", err)
		}
	})
}
