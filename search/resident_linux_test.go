package search_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
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
// the index in dir, from /proc/self/smaps.
func residentSegments(t *testing.T, dir string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	segs, err := filepath.Abs(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	kB, in, maps := 0, false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-"): // a map's first line; its file's path is the sixth field
			in = len(fields) >= 6 && strings.HasPrefix(fields[5], segs+"/") && strings.HasSuffix(fields[5], ".zap")
			if in {
				maps++
			}
		case in && fields[0] == "Rss:":
			n, _ := strconv.Atoi(fields[1])
			kB += n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if maps == 0 {
		t.Fatalf("no segment file of %s is mapped", segs)
	}
	return kB
}
