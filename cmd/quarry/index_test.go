package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestIndexRebuild: `quarry index rebuild` prints its result once, names a
// missing store once, and exits 1 when the server it asks is rebuilding
// already (409 conflict).
func TestIndexRebuild(t *testing.T) {
	t.Run("ErrNoStore", func(t *testing.T) {
		dir := t.TempDir()
		out, err := exec.Command(binary, "index", "rebuild", "--data", dir).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "has no store") {
			t.Fatalf("index rebuild of an empty dir: %v\n%s", err, out)
		}
		if n := strings.Count(string(out), dir); n != 1 {
			t.Fatalf("the error names the directory %d times, want once:\n%s", n, out)
		}
	})

	data := t.TempDir()
	p := start(t, "--data", data)
	// Enough datasets that a rebuild takes a while (a second or so).
	for batch := range 10 {
		var in []any
		for i := range 1000 {
			var cols []any
			for c := range 10 {
				cols = append(cols, map[string]any{"name": fmt.Sprintf("col_%d", c), "type": "text", "description": "a column of many words"})
			}
			in = append(in, map[string]any{"namespace": "postgres://wh:5432", "name": fmt.Sprintf("db.s%d.table_%d", batch, i),
				"description": "A table to make the index large.", "columns": cols, "tags": []string{"bulk"}})
		}
		p.graphql(t, `mutation($in: [DatasetInput!]!) { upsertDatasets(input: $in) { count } }`, map[string]any{"in": in})
	}
	waitSearchReady(t, p)

	// A second rebuild asked while one runs is refused. The second asks
	// once the first's has begun; on a loaded machine starting the second
	// command can take longer than the whole rebuild, which then answers
	// it normally: the pair is tried again.
	for attempt := 1; ; attempt++ {
		first := exec.Command(binary, "index", "rebuild", "--data", data)
		var firstOut strings.Builder
		first.Stdout, first.Stderr = &firstOut, &firstOut
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() bool { return health(t, p).Search == "rebuilding" })
		out, err := exec.Command(binary, "index", "rebuild", "--data", data).CombinedOutput()
		if werr := first.Wait(); werr != nil || !strings.Contains(firstOut.String(), "search index") {
			t.Fatalf("the first index rebuild: %v\n%s", werr, firstOut.String())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 && strings.Contains(string(out), "409 Conflict: the search index is being rebuilt already") {
			break
		}
		if err == nil && strings.Contains(string(out), "search index rebuilt") && attempt < 5 {
			t.Logf("attempt %d: the first rebuild ended before the second asked; again", attempt)
			waitSearchReady(t, p)
			continue
		}
		t.Fatalf("index rebuild while one runs: %v, want exit 1 and the conflict\n%s", err, out)
	}
	p.stop(t)

	// Without a server: the result, once (the index's own log stays quiet).
	out, err := exec.Command(binary, "index", "rebuild", "--data", data).CombinedOutput()
	if err != nil || strings.Count(string(out), "\n") != 1 || !strings.HasPrefix(string(out), "search index rebuilt up to changelog record ") {
		t.Fatalf("index rebuild of a stopped data dir: %v, want one line\n%s", err, out)
	}
}
