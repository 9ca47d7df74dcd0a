package graph

import (
	"testing"
	"time"
)

// TestRunInputDigest pins reportRun's event digest: digests are stored to
// recognize a retried mutation, so the digest of a given input must never
// change (a retry after an upgrade would be applied again).
func TestRunInputDigest(t *testing.T) {
	s := func(v string) *string { return &v }
	at := time.Date(2024, 1, 2, 3, 4, 5, 600, time.FixedZone("", 3600))
	in := RunInput{
		Job:       &JobInput{Namespace: "airflow", Name: "etl.load_orders", Description: s("Loads orders."), Type: s("BATCH"), SourceURL: s("https://git/x.py"), Owners: []string{"team:data"}},
		RunID:     s("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
		State:     "COMPLETE",
		EventTime: &at,
		Inputs:    []*DatasetRefInput{{Namespace: "postgres://db:5432", Name: "shop.public.orders"}},
		Outputs:   []*DatasetRefInput{{Namespace: "redshift://wh.us-east-1:5439", Name: "dw.public.orders"}},
		ColumnLineage: []*ColumnLineageInput{{
			Output: &DatasetRefInput{Namespace: "redshift://wh.us-east-1:5439", Name: "dw.public.orders"},
			Column: "total",
			Inputs: []*ColumnSourceInput{{Namespace: "postgres://db:5432", Name: "shop.public.orders", Column: "amount", Transformation: s("DIRECT/AGGREGATION")}, {Namespace: "postgres://db:5432", Name: "shop.public.orders", Column: "id"}},
		}},
		SQL:          s("INSERT INTO dw.public.orders SELECT \"x\" <&>"),
		ErrorMessage: s(""),
		ParentRunID:  s("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"),
	}
	ev, err := in.event(time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	const want = "d2ad2056fe7633ba4b5260fe65d8a5ee745d11461155e2f447ca455a30b81cff"
	if ev.Digest != want {
		t.Errorf("digest = %s, want %s", ev.Digest, want)
	}
}
