package search_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/search"
)

// judged is one line of testdata/relevance.tsv.
type judged struct {
	query, kind string
	want        []string
}

func readJudged(t *testing.T) []judged {
	f, err := os.Open("testdata/relevance.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []judged
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) != 3 {
			t.Fatalf("relevance.tsv:%d: want query<TAB>kind<TAB>names", n)
		}
		out = append(out, judged{parts[0], parts[1], strings.Split(parts[2], "|")})
	}
	return out
}

// TestRelevance crawls the fixture schemas into a catalog with the demo
// datasets, runs the judged queries, and fails under MRR@10 0.85.
func TestRelevance(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t) // the demo catalog
	pg := pgtest.New(t)
	if err := pg.LoadFixtures(ctx, "../../shared/fixtures/postgres"); err != nil {
		t.Fatal(err)
	}
	for db := range pgtest.Fixtures {
		if _, err := crawler.CrawlPostgres(ctx, c.st, pg.DSN(db), crawler.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}

	queries := readJudged(t)
	if len(queries) < 40 {
		t.Fatalf("%d judged queries; the suite wants 40 at least", len(queries))
	}
	var mrr, top1 float64
	byKind := map[string][2]float64{}
	var misses []string
	for _, q := range queries {
		got := c.names(t, search.Query{Text: q.query, First: 10})
		rank := slices.IndexFunc(got, func(n string) bool { return slices.Contains(q.want, n) })
		rr := 0.0
		if rank >= 0 {
			rr = 1 / float64(rank+1)
		}
		if rank != 0 {
			misses = append(misses, fmt.Sprintf("  %-28q %-11s rank %d, want %s, got %v", q.query, q.kind, rank+1, q.want[0], got[:min(3, len(got))]))
		} else {
			top1++
		}
		mrr += rr
		k := byKind[q.kind]
		byKind[q.kind] = [2]float64{k[0] + rr, k[1] + 1}
	}
	n := float64(len(queries))
	t.Logf("relevance: %d queries, MRR@10 %.3f, top-1 %.3f", len(queries), mrr/n, top1/n)
	for kind, k := range byKind {
		t.Logf("  %-11s MRR %.2f (%d queries)", kind, k[0]/k[1], int(k[1]))
	}
	if len(misses) > 0 {
		t.Logf("not first:\n%s", strings.Join(misses, "\n"))
	}
	if mrr/n < 0.85 {
		t.Fatalf("MRR@10 %.3f is under 0.85", mrr/n)
	}
}
