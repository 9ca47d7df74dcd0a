package lineage_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/lineage/oltest"
)

// FuzzParseBatch feeds the batch parser what a producer (or anyone who can
// reach the endpoint) might send, seeded with every fixture event: it never
// panics; a body that is not an array is an invalid error about "body";
// every element's error is an invalid *quarry.Error that names a field
// (or, with an empty field, is about the element as a whole); and each
// element parses alone as it parsed in the batch. FuzzParseEvent covers
// the single event. `make fuzz` runs both for a while; `go test` runs the
// seeds and testdata/fuzz.
func FuzzParseBatch(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(oltest.Dir, "events", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no OpenLineage fixture events in %s (%v): they live in ../shared/fixtures beside the repository", oltest.Dir, err)
	}
	for _, file := range files {
		rel, _ := filepath.Rel(oltest.Dir, file)
		evs := oltest.Events(f, rel)
		f.Add(append(append([]byte("["), bytes.Join(evs, []byte(","))...), ']'))
		raw, _ := os.ReadFile(file)
		f.Add(raw) // placeholders as they are
	}
	for _, s := range []string{``, `null`, `[]`, `{}`, `[{}]`, `[1,"x",null,[]]`, `[{"eventType":"START"}]`, `["\ud800"]`, `[[[[[[[[`, `[{"run":{"runId":1}}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		evs, errs, err := lineage.ParseBatch(raw)
		if err != nil {
			if e := checkParseError(t, err); e.Field != "body" {
				t.Fatalf("the batch refused as a whole, not about body: %v", err)
			}
			return
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		if len(elems) != len(evs) || len(errs) != len(evs) {
			t.Fatalf("%d elements, %d events, %d errors", len(elems), len(evs), len(errs))
		}
		for i, elem := range elems {
			alone, err := lineage.ParseEvent(elem)
			if (err == nil) != (errs[i] == nil) {
				t.Fatalf("element %d: in the batch %v, alone %v", i, errs[i], err)
			}
			if errs[i] != nil {
				checkParseError(t, errs[i])
				continue
			}
			if alone.Digest != evs[i].Digest {
				t.Fatalf("element %d: digest %x in the batch, %x alone", i, evs[i].Digest, alone.Digest)
			}
		}
	})
}

func checkParseError(t *testing.T, err error) *quarry.Error {
	t.Helper()
	e, ok := errors.AsType[*quarry.Error](err)
	if !ok || e.Code != quarry.EINVALID || e.Message == "" ||
		(e.Field == "" && !strings.HasPrefix(e.Message, "an event must ")) {
		t.Fatalf("error %#v (%v) is not an invalid *quarry.Error naming a field", err, err)
	}
	return e
}
