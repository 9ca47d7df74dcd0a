package search_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/internal/mapped"
	"github.com/quarrydata/quarry/search"
)

// The pages of the index's segment files that searches read stay in the
// process's resident set until they are released; released, searches
// answer as before, mapping back what they read.
func TestReleasedSegmentMapsLeaveTheResidentSet(t *testing.T) {
	c := newCatalog(t)
	for i := range 300 {
		mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://db:5432", Name: fmt.Sprintf("crm.public.resident_%03d", i),
			Provided: quarry.Metadata{Description: fmt.Sprintf("Resident orders of customer %d.", i)}})
	}
	c.idx.Close()
	c.open(t) // every segment from its file
	// Merges read segments: the test's reads alone are measured.
	waitFor(t, 30*time.Second, func() bool { return !c.idx.Settling() })
	queries := []search.Query{{Text: "resident orders"}, {Text: "customer 17"}, {Text: "revenue"}, {}}
	search1 := func() [][]string {
		var out [][]string
		for _, q := range queries {
			out = append(out, c.names(t, q))
		}
		return out
	}
	before := search1()
	read := residentSegments(t, c.dir)
	if read == 0 {
		t.Fatal("no page of a segment file is resident after searches")
	}
	c.idx.ReleaseMappedForTest()
	if n := residentSegments(t, c.dir); n != 0 {
		t.Errorf("released, %d kB of the segment files are resident (%d before)", n, read)
	}
	after := search1()
	for i := range queries {
		if !slices.Equal(after[i], before[i]) {
			t.Errorf("%+v after the release: %v, before: %v", queries[i], after[i], before[i])
		}
	}
	if residentSegments(t, c.dir) == 0 {
		t.Error("searches after the release mapped nothing back")
	}
}

// residentSegments is the resident kB of the maps of the segment files in
// the index in dir.
func residentSegments(t *testing.T, dir string) int {
	t.Helper()
	segs, err := filepath.Abs(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	n, maps, err := mapped.Resident(func(p string) bool { return strings.HasPrefix(p, segs+"/") && strings.HasSuffix(p, ".zap") })
	if err != nil {
		t.Fatal(err)
	}
	if maps == 0 {
		t.Fatalf("no segment file of %s is mapped", segs)
	}
	return int(n >> 10)
}
