package auth_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// BenchmarkTokenCheck is the cost of authenticating one request by its
// Bearer token, with 10 and 10,000 tokens stored: one map lookup and one
// SHA-256 whatever their number (goal: the same, under 5 µs).
func BenchmarkTokenCheck(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			ctx := context.Background()
			st := storetest.MustOpen(b, &store.Options{NoSync: true})
			toks, err := auth.NewTokens(ctx, st, nil)
			if err != nil {
				b.Fatal(err)
			}
			var secrets []string
			for i := range n {
				s, _, err := toks.Create(ctx, fmt.Sprintf("tool-%05d", i), auth.Ingest, 0)
				if err != nil {
					b.Fatal(err)
				}
				secrets = append(secrets, s)
			}
			// Every token checked in turn, the map's whole spread.
			r := httptest.NewRequest("POST", "/api/v1/lineage", nil)
			i := 0
			for b.Loop() {
				r.Header.Set("Authorization", "Bearer "+secrets[i%n])
				p, err := toks.Authenticate(r)
				if err != nil || p == nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/check")
		})
	}
}
