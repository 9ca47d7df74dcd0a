// Package oltest reads the OpenLineage fixture events of ../shared/fixtures
// for tests, substituting the placeholders of TEMPLATE events.
package oltest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// fixtures is the shared fixture tree (see its SOURCES.md), beside the
// repository: /work/shared next to /work/<worktree>.
// Dir is the OpenLineage fixture tree, from a package directory of the
// repository.
var Dir = filepath.Join("..", "..", "shared", "fixtures", "openlineage")

// Read returns a file of the OpenLineage fixtures.
func Read(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Dir, rel))
	if err != nil {
		tb.Fatalf("read fixture: %v (the OpenLineage fixtures live in ../shared/fixtures beside the repository; see SOURCES.md there)", err)
	}
	return b
}

// Events returns the events of a fixture file (an event or an array
// of them), with TEMPLATE placeholders substituted as SOURCES.md says: a run
// UUID derived from the job's name (so that a child's parent run id is its
// parent job's run id), a timestamp, and a run for an expected event that
// lacks one.
func Events(tb testing.TB, rel string) [][]byte {
	tb.Helper()
	raw := Read(tb, rel)
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if err := json.Unmarshal(raw, &list); err != nil {
			tb.Fatal(err)
		}
	} else {
		list = []json.RawMessage{raw}
	}
	out := make([][]byte, len(list))
	for i, ev := range list {
		if !placeholder.Match(ev) && bytes.Contains(ev, []byte(`"eventTime"`)) {
			out[i] = ev // a real event: as the producer sent it
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(ev, &m); err != nil {
			tb.Fatal(err)
		}
		substitute(m)
		b, err := json.Marshal(m)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = b
	}
	return out
}

var placeholder = regexp.MustCompile(`\{\{[^}]*\}\}|\$\{json-unit[^}]*\}`)

// TemplateTime is the event time given to template events without one.
const TemplateTime = "2024-05-06T07:08:09.123456Z"

// RunIDFor is the run id a template event of the job gets.
func RunIDFor(job map[string]any) string {
	ns, _ := job["namespace"].(string)
	name, _ := job["name"].(string)
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(ns+"\x00"+name)).String()
}

func substitute(ev map[string]any) {
	job, _ := ev["job"].(map[string]any)
	run, _ := ev["run"].(map[string]any)
	if run == nil && ev["eventType"] != nil && job != nil {
		run = map[string]any{}
		ev["run"] = run
	}
	if run != nil {
		if s, _ := run["runId"].(string); s == "" || placeholder.MatchString(s) {
			run["runId"] = RunIDFor(job)
		}
		facets, _ := run["facets"].(map[string]any)
		if parent, _ := facets["parent"].(map[string]any); parent != nil {
			prun, _ := parent["run"].(map[string]any)
			pjob, _ := parent["job"].(map[string]any)
			if s, _ := prun["runId"].(string); placeholder.MatchString(s) {
				prun["runId"] = RunIDFor(pjob)
			}
		}
	}
	if s, _ := ev["eventTime"].(string); s == "" || placeholder.MatchString(s) {
		ev["eventTime"] = TemplateTime
	}
	replacePlaceholders(ev, "")
}

// replacePlaceholders replaces what is left: times where a time belongs,
// any text elsewhere.
func replacePlaceholders(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = replacePlaceholders(x, k)
		}
	case []any:
		for i, x := range v {
			v[i] = replacePlaceholders(x, key)
		}
	case string:
		if placeholder.MatchString(v) {
			if strings.HasSuffix(strings.ToLower(key), "time") {
				return TemplateTime
			}
			return "placeholder"
		}
	}
	return v
}
