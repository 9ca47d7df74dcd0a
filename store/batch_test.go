package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store/storetest"
)

// The reads of many datasets at once answer what the reads of each one
// answer, in the order asked, unknown ids and repeats included.
func TestBatchReadsAnswerAsSingleReads(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	ids := mustUpsert(t, s, orders(1), orders(2), orders(3), orders(4))
	now := time.Now().UTC().Truncate(time.Second)
	for i := 5; i >= 1; i-- { // daily loads of 1: a policy can be learned
		if _, err := s.RecordDataChange(ctx, ids[1], now.Add(-time.Duration(i)*24*time.Hour), ""); err != nil {
			t.Fatal(err)
		}
	}
	for i := 5; i >= 1; i-- { // hourly loads of 3
		if _, err := s.RecordDataChange(ctx, ids[3], now.Add(-time.Duration(i)*time.Hour), ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RecordDataChange(ctx, ids[2], now, ""); err != nil { // too few
		t.Fatal(err)
	}
	for i, id := range ids[:3] {
		if err := s.SetFreshnessPolicy(ctx, id, &quarry.FreshnessPolicy{WarnAfter: time.Duration(i+1) * time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []quarry.Check{
		{DatasetID: ids[0], Name: "row_count", Status: quarry.CheckPass},
		{DatasetID: ids[0], Column: "id", Name: "unique", Status: quarry.CheckFail},
		{DatasetID: ids[2], Column: "total", Name: "not_null", Status: quarry.CheckWarn},
	} {
		if _, err := s.PutCheck(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	ask := []string{ids[3], "00000000-0000-0000-0000-000000000000", ids[0], ids[1], ids[2], ids[0]}
	policies, err := s.FreshnessPolicies(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	inferred, err := s.InferredPolicies(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := s.ChecksOf(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(policies) != len(ask) || len(inferred) != len(ask) || len(checks) != len(ask) {
		t.Fatalf("%d ids: %d policies, %d inferred, %d check lists", len(ask), len(policies), len(inferred), len(checks))
	}
	var some [3]int // of each answer, how many are not empty
	for i, id := range ask {
		p, err := s.FreshnessPolicy(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ip, err := s.InferredPolicy(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := s.Checks(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(policies[i], p) || !reflect.DeepEqual(inferred[i], ip) || !reflect.DeepEqual(checks[i], cs) {
			t.Errorf("%d (%s): %+v %+v %+v at once, %+v %+v %+v alone", i, id, policies[i], inferred[i], checks[i], p, ip, cs)
		}
		for j, empty := range []bool{p == nil, ip == nil, len(cs) == 0} {
			if !empty {
				some[j]++
			}
		}
	}
	if some != [3]int{4, 2, 3} {
		t.Errorf("policies, inferred policies and checks of %d of the ids, want 4, 2 and 3", some)
	}
}
