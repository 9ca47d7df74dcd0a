package demo

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry/internal/runreport"
	"github.com/quarrydata/quarry/lineage/oltest"
)

// schemas is the OpenLineage spec of the fixtures (2-0-2 and its facets),
// read as JSON Schema documents by their $id.
type schemas map[string]map[string]any

func readSchemas(t *testing.T) schemas {
	t.Helper()
	s := schemas{}
	read := func(rel string) string {
		var doc map[string]any
		if err := json.Unmarshal(oltest.Read(t, rel), &doc); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		id, _ := doc["$id"].(string)
		s[id] = doc
		return id
	}
	if id := read("spec/OpenLineage.json"); id != "https://openlineage.io/spec/2-0-2/OpenLineage.json" {
		t.Fatalf("the fixtures' spec is %s", id)
	}
	for _, name := range []string{"ColumnLineageDatasetFacet", "DataQualityAssertionsDatasetFacet", "DocumentationJobFacet", "ErrorMessageRunFacet",
		"JobTypeJobFacet", "NominalTimeRunFacet", "OwnershipJobFacet", "ParentRunFacet", "SQLJobFacet", "SchemaDatasetFacet"} {
		read("spec/facets/" + name + ".json")
	}
	return s
}

// facetSchema finds the facet file that a facet's _schemaURL names, which
// must be the version the fixtures hold.
func (s schemas) facetSchema(schemaURL string) (map[string]any, error) {
	doc, _, _ := strings.Cut(schemaURL, "#")
	if s[doc] == nil {
		return nil, fmt.Errorf("_schemaURL %s: no such facet schema in the spec", schemaURL)
	}
	return s[doc], nil
}

// resolve follows a $ref from the document base.
func (s schemas) resolve(base, ref string) (string, map[string]any, error) {
	doc, ptr, _ := strings.Cut(ref, "#")
	if doc == "" {
		doc = base
	}
	node := any(s[doc])
	if node == nil {
		return "", nil, fmt.Errorf("$ref %s: unknown document", ref)
	}
	for _, p := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if p == "" {
			continue
		}
		m, _ := node.(map[string]any)
		node = m[p]
	}
	m, ok := node.(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("$ref %s: not found", ref)
	}
	return doc, m, nil
}

// validate checks v against the schema sch of document base: the part of
// JSON Schema that the OpenLineage spec uses.
func (s schemas) validate(base string, sch map[string]any, v any, at string) error {
	if ref, ok := sch["$ref"].(string); ok {
		doc, target, err := s.resolve(base, ref)
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if err := s.validate(doc, target, v, at); err != nil {
			return err
		}
	}
	for _, sub := range list(sch["allOf"]) {
		if err := s.validate(base, sub, v, at); err != nil {
			return err
		}
	}
	if subs := list(sch["anyOf"]); len(subs) > 0 && !slices.ContainsFunc(subs, func(sub map[string]any) bool { return s.validate(base, sub, v, at) == nil }) {
		return fmt.Errorf("%s: matches none of anyOf", at)
	}
	if not, ok := sch["not"].(map[string]any); ok && s.validate(base, not, v, at) == nil {
		return fmt.Errorf("%s: matches what it must not", at)
	}
	if typ, ok := sch["type"].(string); ok && !hasType(v, typ) {
		return fmt.Errorf("%s: %v is not of type %s", at, v, typ)
	}
	if enum, ok := sch["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
	}
	if str, ok := v.(string); ok {
		if err := checkFormat(sch["format"], str); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
	}
	if arr, ok := v.([]any); ok {
		if items, ok := sch["items"].(map[string]any); ok {
			for i, x := range arr {
				if err := s.validate(base, items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	for _, r := range asSlice(sch["required"]) {
		if _, ok := obj[r.(string)]; !ok {
			return fmt.Errorf("%s: %s is required", at, r)
		}
	}
	props, _ := sch["properties"].(map[string]any)
	for k, x := range obj {
		if p, ok := props[k].(map[string]any); ok {
			if err := s.validate(base, p, x, at+"."+k); err != nil {
				return err
			}
		} else if ap, ok := sch["additionalProperties"].(map[string]any); ok {
			if err := s.validate(base, ap, x, at+"."+k); err != nil {
				return err
			}
		} else if sch["additionalProperties"] == false {
			return fmt.Errorf("%s: %s is not allowed", at, k)
		}
	}
	return nil
}

func list(v any) []map[string]any {
	var out []map[string]any
	for _, x := range asSlice(v) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func hasType(v any, typ string) bool {
	switch x := v.(type) {
	case map[string]any:
		return typ == "object"
	case []any:
		return typ == "array"
	case string:
		return typ == "string"
	case bool:
		return typ == "boolean"
	case float64:
		return typ == "number" || typ == "integer" && x == float64(int64(x))
	}
	return false
}

func checkFormat(format any, s string) error {
	switch format {
	case "date-time":
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Errorf("%q is not a date-time", s)
		}
	case "uuid":
		if _, err := uuid.Parse(s); err != nil {
			return fmt.Errorf("%q is not a UUID", s)
		}
	case "uri":
		if u, err := url.Parse(s); err != nil || u.Scheme == "" {
			return fmt.Errorf("%q is not a URI", s)
		}
	}
	return nil
}

// Every event the demo sends is an OpenLineage 2-0-2 RunEvent, and each of
// its facets is valid against the facet schema its _schemaURL names.
func TestEventsFollowTheSpec(t *testing.T) {
	s := readSchemas(t)
	const core = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
	_, runEvent, err := s.resolve(core, "#/$defs/RunEvent")
	if err != nil {
		t.Fatal(err)
	}
	_, runFacet, err := s.resolve(core, "#/$defs/RunFacet")
	if err != nil {
		t.Fatal(err)
	}
	all, err := runs(time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]int{}
	for _, r := range all {
		for _, raw := range r.events {
			var ev map[string]any
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			if err := s.validate(core, runEvent, ev, "event"); err != nil {
				t.Fatalf("%v\n%s", err, raw)
			}
			if ev["schemaURL"] != core+"#/$defs/RunEvent" {
				t.Fatalf("schemaURL %v", ev["schemaURL"])
			}
			// Each facets object, facet by facet.
			var facets []any
			run, job := ev["run"].(map[string]any), ev["job"].(map[string]any)
			facets = append(facets, run["facets"], job["facets"])
			for _, ds := range append(asSlice(ev["inputs"]), asSlice(ev["outputs"])...) {
				facets = append(facets, ds.(map[string]any)["facets"])
			}
			for _, fs := range facets {
				fs, _ := fs.(map[string]any)
				for name, f := range fs {
					schemaURL, _ := f.(map[string]any)["_schemaURL"].(string)
					if name == runreport.FacetName || strings.HasSuffix(schemaURL, "/OpenLineage.json#/$defs/RunFacet") {
						// A producer's own facet (quarry run's, Airflow's):
						// a RunFacet as the core spec defines one.
						if err := s.validate(core, runFacet, f, "facets."+name); err != nil {
							t.Fatalf("%s facet: %v\n%s", name, err, raw)
						}
						used[name]++
						continue
					}
					doc, err := s.facetSchema(schemaURL)
					if err != nil {
						t.Fatalf("facet %s: %v", name, err)
					}
					if v := regexp.MustCompile(`/facets/([0-9-]+)/`).FindStringSubmatch(schemaURL); v == nil || !strings.Contains(doc["$id"].(string), "/"+v[1]+"/") {
						t.Fatalf("facet %s: %s names another version than %s", name, schemaURL, doc["$id"])
					}
					if err := s.validate(doc["$id"].(string), doc, map[string]any{name: f}, "facets"); err != nil {
						t.Fatalf("%s facet: %v\n%s", path.Base(schemaURL), err, raw)
					}
					if props, _ := doc["properties"].(map[string]any); props[name] == nil {
						t.Fatalf("facet %s is named %v in its schema", name, props)
					}
					used[name]++
				}
			}
		}
	}
	for _, name := range []string{"parent", "nominalTime", "errorMessage", "jobType", "documentation", "ownership", "sql", "schema", "columnLineage", "dataQualityAssertions", runreport.FacetName, "airflow", "airflowDagRun"} {
		if used[name] == 0 {
			t.Errorf("no event has the %s facet", name)
		}
	}
}
