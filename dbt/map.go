package dbt

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
)

// Options say where a project's relations live and how its jobs are named.
type Options struct {
	// Namespace is the warehouse's namespace, e.g. postgres://wh:5432: the
	// one its crawler and dbt-ol use. Required.
	Namespace string
	// JobNamespace is the namespace of the jobs, as dbt-ol's
	// OPENLINEAGE_NAMESPACE names them; empty means "default", dbt-ol's.
	JobNamespace string
	// DocsURL is the address of the project's dbt docs site; when given,
	// each dataset links to its page there.
	DocsURL string
	// Project overrides the project's name (manifest v10 and later carry
	// it; before, the most common package of the nodes is taken).
	Project string
	// Now is the clock that decides whether a deprecation date has passed;
	// nil means time.Now.
	Now func() time.Time
}

// maxWarningsOfAKind bounds the warnings of one kind: the rest are counted
// in one more (a flood of warnings hides the one that matters).
const maxWarningsOfAKind = 5

// Map maps a project's artifacts to an import. Errors are EINVALID and
// name the option or file; what cannot be mapped is a warning.
func Map(a *Artifacts, o Options) (*quarry.DBTImport, error) {
	if a == nil || a.Manifest == nil {
		return nil, quarry.Invalid("manifest", "is required")
	}
	if strings.TrimSpace(o.Namespace) == "" {
		return nil, quarry.Invalid("namespace", "is required: the warehouse's namespace, e.g. postgres://host:5432 (or name a registered source)")
	}
	ns, err := quarry.NormalizeNamespace(o.Namespace)
	if err != nil {
		return nil, quarry.InField("namespace", err)
	}
	if o.JobNamespace == "" {
		o.JobNamespace = "default"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := a.Manifest
	mp := &mapper{o: o, ns: ns, m: m, a: a, index: map[string]int{}, jobIndex: map[string]int{}, tests: map[string]testRef{}}
	mp.im = &quarry.DBTImport{Namespace: ns, Project: mp.project()}
	mp.build()
	return mp.im, nil
}

type mapper struct {
	o        Options
	ns       string
	m        *Manifest
	a        *Artifacts
	im       *quarry.DBTImport
	index    map[string]int // unique_id -> index in im.Datasets
	jobIndex map[string]int // unique_id -> index in im.Jobs
	tests    map[string]testRef
	resolved map[string][]int // unique_id -> the datasets it stands for (an ephemeral model: its inputs)
}

type testRef struct {
	ds       int
	name     string
	column   string
	severity string
}

func (mp *mapper) warn(format string, args ...any) {
	mp.im.Warnings = append(mp.im.Warnings, fmt.Sprintf(format, args...))
}

// warnSome warns of the first few of a list and counts the rest.
func (mp *mapper) warnSome(items []string, one func(string) string, rest func(int) string) {
	for i, it := range items {
		if i == maxWarningsOfAKind {
			mp.warn("%s", rest(len(items)-i))
			return
		}
		mp.warn("%s", one(it))
	}
}

func (mp *mapper) project() string {
	if mp.o.Project != "" {
		return mp.o.Project
	}
	if p := mp.m.Metadata.ProjectName; p != "" {
		return p
	}
	count := map[string]int{}
	for _, n := range mp.m.Nodes {
		count[n.PackageName]++
	}
	best := ""
	for _, p := range slices.Sorted(maps.Keys(count)) {
		if p != "" && count[p] > count[best] {
			best = p
		}
	}
	if best == "" {
		best = mp.m.Metadata.ProjectID
	}
	if best == "" {
		best = "dbt"
	}
	return best
}

func (mp *mapper) build() {
	m, c := mp.m, &mp.im.Counts
	// Datasets: models, seeds, snapshots, then sources, in unique_id order.
	for _, id := range slices.Sorted(maps.Keys(m.Nodes)) {
		n := m.Nodes[id]
		if n.Config.Enabled != nil && !*n.Config.Enabled {
			continue
		}
		switch n.ResourceType {
		case "model":
			c.Models++
			if n.Config.Materialized == "ephemeral" {
				c.Ephemeral++
				continue
			}
		case "seed":
			c.Seeds++
		case "snapshot":
			c.Snapshots++
		default:
			continue
		}
		mp.addNode(id, n)
	}
	for _, id := range slices.Sorted(maps.Keys(m.Sources)) {
		c.Sources++
		mp.addNode(id, m.Sources[id])
	}
	mp.resolved = map[string][]int{}
	// Lineage through one job per model or snapshot.
	for _, id := range slices.Sorted(maps.Keys(m.Nodes)) {
		i, ok := mp.index[id]
		if !ok {
			continue
		}
		ds := &mp.im.Datasets[i]
		ds.Upstream = mp.upstream(m.Nodes[id].DependsOn.Nodes, map[string]bool{id: true})
		c.Edges += len(ds.Upstream)
	}
	mp.exposures()
	mp.mapTests()
	mp.catalog()
	mp.runResults()
	mp.sourceResults()
	c.Jobs = len(mp.im.Jobs)
}

// relationName is database.schema.alias, as the crawler and dbt-ol name a
// relation (parts dbt leaves empty, as some adapters do for the database,
// are left out).
func relationName(n *Node) string {
	table := n.Alias
	if n.ResourceType == "source" {
		table = n.Identifier
	}
	if table == "" {
		table = n.Name
	}
	parts := make([]string, 0, 3)
	for _, p := range []string{n.Database, n.Schema, table} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

func kindOf(n *Node) (quarry.DatasetKind, string) {
	switch n.ResourceType {
	case "seed":
		return quarry.KindTable, "seed"
	case "snapshot":
		return quarry.KindTable, "snapshot"
	case "source":
		return quarry.KindTable, ""
	}
	switch n.Config.Materialized {
	case "view":
		return quarry.KindView, "view"
	case "materialized_view", "materializedview":
		return quarry.KindMaterializedView, n.Config.Materialized
	}
	return quarry.KindTable, n.Config.Materialized // table, incremental, custom ones
}

func (mp *mapper) addNode(id string, n *Node) {
	kind, materialized := kindOf(n)
	info := quarry.DBTInfo{
		Project: mp.im.Project, UniqueID: id, ResourceType: n.ResourceType, Materialized: materialized,
		Package: n.PackageName, Path: n.OriginalFilePath, Description: n.Description,
	}
	if mp.o.DocsURL != "" {
		info.DocsURL = strings.TrimRight(mp.o.DocsURL, "/") + "/#!/" + n.ResourceType + "/" + id
	}
	props := map[string]string{}
	meta := mergeMeta(n.SourceMeta, n.Config.Meta, n.Meta)
	info.Owners, info.Tags = mp.ownersAndTags(id, meta, n.Tags, n.Config.Tags)
	for k, v := range meta {
		if k != "owner" && k != "owners" && k != "tags" {
			props[k] = text(v)
		}
	}
	mp.facts(n, props, &info)
	if len(props) > 0 {
		info.Properties = props
	}
	for _, col := range n.Columns {
		dc := quarry.DBTColumn{Name: col.Name, Description: col.Description, Tags: normalizeLabels(col.Tags)}
		if col.DataType != nil {
			dc.Type = *col.DataType
		}
		if len(col.Meta) > 0 {
			dc.Meta = map[string]string{}
			for k, v := range col.Meta {
				dc.Meta[k] = text(v)
			}
		}
		info.Columns = append(info.Columns, dc)
	}
	d := quarry.DBTDataset{
		Dataset: quarry.Dataset{Namespace: mp.ns, Name: relationName(n), Kind: kind, Database: n.Database, Schema: n.Schema},
		Info:    info, Job: -1,
	}
	// The declared columns, until the catalog says what the relation has.
	seen := make(map[string]bool, len(n.Columns))
	for _, c := range info.Columns {
		if c.Name != "" && !seen[c.Name] {
			seen[c.Name] = true
			d.Dataset.Columns = append(d.Dataset.Columns, quarry.Column{Name: c.Name, Type: c.Type, Nullable: true})
		}
	}
	raw, compiled := n.RawCode, n.CompiledCode
	if raw == "" {
		raw = n.RawSQL
	}
	if compiled == "" {
		compiled = n.CompiledSQL
	}
	if raw != "" || compiled != "" {
		d.Code = &quarry.DBTCode{Language: n.Language, Raw: raw, Compiled: compiled}
	}
	if n.ResourceType == "model" || n.ResourceType == "snapshot" {
		mp.jobIndex[id] = len(mp.im.Jobs)
		d.Job = len(mp.im.Jobs)
		d.Info.JobID = quarry.NewID(quarry.EntityJob, mp.o.JobNamespace, mp.jobName(n, id))
		mp.im.Jobs = append(mp.im.Jobs, quarry.Job{
			Namespace: mp.o.JobNamespace, Name: mp.jobName(n, id), Type: "BATCH/DBT/" + strings.ToUpper(map[bool]string{true: "snapshot", false: "model"}[n.ResourceType == "snapshot"]),
			Description: n.Description, SQL: compiled, Owners: info.Owners,
		})
	}
	if n.ResourceType == "source" && n.Freshness != nil {
		if p, ok := mp.freshness(id, n.Freshness); ok {
			d.Info.Freshness = p
			mp.im.Counts.Freshness++
		}
	}
	mp.index[id] = len(mp.im.Datasets)
	mp.im.Datasets = append(mp.im.Datasets, d)
}

// jobName is the job's name as dbt-ol gives it: the model's database and
// schema, then its unique_id without the resource type; dbt-ol's build
// command adds .build.run (.build.snapshot), its snapshot command
// .snapshot. Which command ran is run_results.json's args.which.
func (mp *mapper) jobName(n *Node, id string) string {
	which := ""
	if mp.a.RunResults != nil {
		which = mp.a.RunResults.Which
	}
	rest, _ := strings.CutPrefix(id, n.ResourceType+".")
	name := n.Database + "." + n.Schema + "." + rest
	switch {
	case n.ResourceType == "snapshot" && which == "build":
		name += ".build.snapshot"
	case n.ResourceType == "snapshot":
		name += ".snapshot"
	case which == "build":
		name += ".build.run"
	}
	return name
}

// facts records what dbt says beyond the catalog's vocabulary as
// properties, and marks a model past its deprecation date deprecated.
func (mp *mapper) facts(n *Node, props map[string]string, info *quarry.DBTInfo) {
	set := func(k, v string) {
		if v != "" && v != "null" {
			props[k] = v
		}
	}
	access := n.Access
	if access == "" {
		access = n.Config.Access
	}
	set("dbt.access", access)
	if n.Group != nil {
		set("dbt.group", *n.Group)
	} else if n.Config.Group != nil {
		set("dbt.group", *n.Config.Group)
	}
	set("dbt.version", strings.Trim(string(n.Version), `"`))
	set("dbt.latest_version", strings.Trim(string(n.LatestVersion), `"`))
	if ct := n.Contract; ct != nil && ct.Enforced || n.Config.Contract != nil && n.Config.Contract.Enforced {
		props["dbt.contract.enforced"] = "true"
	}
	if n.Language != "" && n.Language != "sql" {
		set("dbt.language", n.Language)
	}
	if n.DeprecationDate != nil && *n.DeprecationDate != "" {
		props["dbt.deprecation_date"] = *n.DeprecationDate
		if t, err := parseTime(*n.DeprecationDate); err == nil && !t.After(mp.o.Now()) {
			info.Deprecated = true
		}
	}
	if n.ResourceType == "source" {
		set("dbt.source_name", n.SourceName)
		set("dbt.loader", n.Loader)
		if n.LoadedAtField != nil {
			set("dbt.loaded_at_field", *n.LoadedAtField)
		}
	}
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}

// mergeMeta merges meta blocks, later ones winning.
func mergeMeta(metas ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range metas {
		maps.Copy(out, m)
	}
	return out
}

// ownersAndTags reads owners from meta's owner and owners (a name, an
// email, an object with either, or a list of them) and tags from the
// node's tags and meta's tags.
func (mp *mapper) ownersAndTags(id string, meta map[string]any, tags ...stringList) ([]string, []string) {
	var owners []string
	for _, k := range []string{"owner", "owners"} {
		owners = append(owners, people(meta[k])...)
	}
	var all []string
	for _, t := range tags {
		all = append(all, t...)
	}
	switch t := meta["tags"].(type) {
	case string:
		all = append(all, t)
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				all = append(all, s)
			}
		}
	}
	return normalizeLabels(owners), normalizeLabels(all)
}

func people(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, people(e)...)
		}
		return out
	case map[string]any:
		for _, k := range []string{"email", "name"} {
			if s, ok := x[k].(string); ok && s != "" {
				return []string{s}
			}
		}
	}
	return nil
}

// normalizeLabels trims, dedupes and bounds labels as a dataset's are.
func normalizeLabels(in []string) []string {
	var ok []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if len(s) > quarry.MaxLabelLen {
			s = quarry.Truncate(s, quarry.MaxLabelLen-3)
		}
		ok = append(ok, s)
	}
	slices.Sort(ok)
	ok = slices.Compact(ok)
	if len(ok) > quarry.MaxLabels {
		ok = ok[:quarry.MaxLabels]
	}
	return ok
}

// text is a meta value as text: a string as it is, anything else as JSON.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func (mp *mapper) freshness(id string, f *Freshness) (*quarry.FreshnessPolicy, bool) {
	dur := func(p *Period) time.Duration {
		if p == nil || p.Count == nil || p.Period == nil {
			return 0
		}
		unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[*p.Period]
		return time.Duration(*p.Count * float64(unit))
	}
	p := quarry.FreshnessPolicy{WarnAfter: dur(f.WarnAfter), ErrorAfter: dur(f.ErrorAfter)}
	if p.WarnAfter == 0 && p.ErrorAfter == 0 {
		return nil, false
	}
	if err := p.Validate(); err != nil {
		mp.warn("manifest: %s: its freshness is not kept: %s", id, quarry.ErrorMessage(err))
		return nil, false
	}
	return &p, true
}

// upstream returns the datasets that nodes stand for, passing through
// ephemeral models (which have no relation) to their own inputs.
func (mp *mapper) upstream(nodes []string, visiting map[string]bool) []int {
	var out []int
	for _, dep := range nodes {
		if i, ok := mp.index[dep]; ok {
			out = append(out, i)
			continue
		}
		if r, ok := mp.resolved[dep]; ok {
			out = append(out, r...)
			continue
		}
		n := mp.m.Nodes[dep]
		if n == nil || n.ResourceType != "model" || visiting[dep] {
			continue // a macro, a metric, a cycle
		}
		visiting[dep] = true
		r := mp.upstream(n.DependsOn.Nodes, visiting)
		delete(visiting, dep)
		mp.resolved[dep] = r
		out = append(out, r...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (mp *mapper) exposures() {
	for _, id := range slices.Sorted(maps.Keys(mp.m.Exposures)) {
		e := mp.m.Exposures[id]
		mp.im.Counts.Exposures++
		kind := quarry.KindApplication
		switch e.Type {
		case "dashboard":
			kind = quarry.KindDashboard
		case "ml":
			kind = quarry.KindMLModel
		}
		info := quarry.DBTInfo{Project: mp.im.Project, UniqueID: id, ResourceType: "exposure", Package: e.PackageName, Path: e.OriginalFilePath, Description: e.Description}
		if mp.o.DocsURL != "" {
			info.DocsURL = strings.TrimRight(mp.o.DocsURL, "/") + "/#!/exposure/" + id
		}
		if e.URL != nil {
			info.URL = *e.URL
		}
		var owner []string
		if e.Owner.Email != nil && *e.Owner.Email != "" {
			owner = []string{*e.Owner.Email}
		} else if e.Owner.Name != nil {
			owner = []string{*e.Owner.Name}
		}
		meta := mergeMeta(e.Meta)
		metaOwners, tags := mp.ownersAndTags(id, meta, e.Tags)
		info.Owners, info.Tags = normalizeLabels(append(owner, metaOwners...)), tags
		props := map[string]string{"dbt.exposure_type": e.Type}
		if e.Owner.Name != nil && *e.Owner.Name != "" {
			props["dbt.owner_name"] = *e.Owner.Name
		}
		if e.Maturity != nil && *e.Maturity != "" {
			props["dbt.maturity"] = *e.Maturity
		}
		if e.Label != nil && *e.Label != "" {
			props["dbt.label"] = *e.Label
		}
		for k, v := range meta {
			if k != "owner" && k != "owners" && k != "tags" {
				props[k] = text(v)
			}
		}
		info.Properties = props
		d := quarry.DBTDataset{
			Dataset: quarry.Dataset{Namespace: "dbt://" + mp.im.Project, Name: e.Name, Kind: kind},
			Info:    info, Job: -1,
		}
		d.Upstream = mp.upstream(e.DependsOn.Nodes, map[string]bool{})
		mp.im.Counts.Edges += len(d.Upstream)
		mp.index[id] = len(mp.im.Datasets)
		mp.im.Datasets = append(mp.im.Datasets, d)
	}
}

var refArg = regexp.MustCompile(`(ref|source)\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"])?`)

// testTarget returns the dataset a test is on: its attached_node (manifest
// v10 and later), else the one of its dependencies its model argument
// names, else its only (or first) dependency that is a dataset.
func (mp *mapper) testTarget(n *Node) (int, bool) {
	if n.AttachedNode != nil {
		if i, ok := mp.index[*n.AttachedNode]; ok {
			return i, true
		}
	}
	var deps []string
	for _, dep := range n.DependsOn.Nodes {
		if _, ok := mp.index[dep]; ok {
			deps = append(deps, dep)
		}
	}
	if len(deps) == 0 {
		return 0, false
	}
	if n.TestMetadata != nil && len(deps) > 1 {
		if model, ok := n.TestMetadata.Kwargs["model"].(string); ok {
			if sm := refArg.FindStringSubmatch(model); sm != nil {
				want := sm[2]
				if sm[3] != "" {
					want = sm[3] // ref('package', 'model') or source('source', 'table')
				}
				for _, dep := range deps {
					nd := mp.m.Nodes[dep]
					if nd == nil {
						nd = mp.m.Sources[dep]
					}
					if nd != nil && nd.Name == want && (sm[1] == "source") == (nd.ResourceType == "source") {
						return mp.index[dep], true
					}
				}
			}
		}
	}
	return mp.index[deps[0]], true
}

func (mp *mapper) mapTests() {
	var lost, onEphemeral []string
	add := func(id string, n *Node, typ string) {
		i, ok := mp.testTarget(n)
		if !ok {
			if slices.ContainsFunc(n.DependsOn.Nodes, func(dep string) bool {
				d := mp.m.Nodes[dep]
				return d != nil && d.Config.Materialized == "ephemeral"
			}) {
				onEphemeral = append(onEphemeral, id)
			} else {
				lost = append(lost, id)
			}
			return
		}
		col := ""
		if n.ColumnName != nil {
			col = *n.ColumnName
		} else if n.TestMetadata != nil {
			if s, ok := n.TestMetadata.Kwargs["column_name"].(string); ok {
				col = s
			}
		}
		sev := strings.ToUpper(n.Config.Severity)
		name := n.Name
		ds := &mp.im.Datasets[i]
		ds.Info.Tests = append(ds.Info.Tests, quarry.DBTTest{UniqueID: id, Name: name, Type: typ, Column: col, Severity: sev, Description: n.Description})
		mp.tests[id] = testRef{ds: i, name: name, column: col, severity: sev}
	}
	for _, id := range slices.Sorted(maps.Keys(mp.m.Nodes)) {
		n := mp.m.Nodes[id]
		if n.ResourceType != "test" || n.Config.Enabled != nil && !*n.Config.Enabled {
			continue
		}
		mp.im.Counts.Tests++
		typ := "singular"
		if n.TestMetadata != nil {
			typ = n.TestMetadata.Name
		}
		add(id, n, typ)
	}
	for _, id := range slices.Sorted(maps.Keys(mp.m.UnitTests)) {
		mp.im.Counts.UnitTests++
		add(id, mp.m.UnitTests[id], "unit")
	}
	mp.warnSome(onEphemeral, func(id string) string {
		return fmt.Sprintf("manifest: %s tests an ephemeral model, which has no relation; it is not kept", id)
	}, func(n int) string {
		return fmt.Sprintf("manifest: %d more tests test ephemeral models", n)
	})
	mp.warnSome(lost, func(id string) string {
		return fmt.Sprintf("manifest: %s tests no model, seed, snapshot or source; it is not kept", id)
	}, func(n int) string {
		return fmt.Sprintf("manifest: %d more tests test no model, seed, snapshot or source", n)
	})
}

func (mp *mapper) catalog() {
	cat := mp.a.Catalog
	if cat == nil {
		return
	}
	var lost []string
	for _, group := range []map[string]*CatalogTable{cat.Nodes, cat.Sources} {
		for _, id := range slices.Sorted(maps.Keys(group)) {
			t := group[id]
			i, ok := mp.index[id]
			if !ok {
				lost = append(lost, id)
				continue
			}
			ds := &mp.im.Datasets[i]
			cols := make([]quarry.Column, 0, len(t.Columns))
			for _, c := range t.Columns {
				cols = append(cols, quarry.Column{Name: c.Name, Type: c.Type, Ordinal: c.Index, Nullable: true})
			}
			slices.SortFunc(cols, func(a, b quarry.Column) int { return a.Ordinal - b.Ordinal })
			for j := range cols {
				cols[j].Ordinal = j + 1 // the catalog's indexes may have gaps or repeats
			}
			ds.Dataset.Columns = cols
			for j := range ds.Info.Columns {
				dc := &ds.Info.Columns[j]
				if dc.Type != "" {
					continue
				}
				for _, c := range cols {
					if strings.EqualFold(c.Name, dc.Name) {
						dc.Type = c.Type
					}
				}
			}
			if ds.Info.ResourceType == "source" && strings.EqualFold(t.Metadata.Type, "view") {
				ds.Dataset.Kind = quarry.KindView
			}
			ds.Dataset.RowCount = stat(t, "num_rows", "row_count", "rows")
			ds.Dataset.SizeBytes = stat(t, "num_bytes", "bytes")
		}
	}
	mp.warnSome(lost, func(id string) string {
		return fmt.Sprintf("catalog: %s is not in the manifest; its columns are not kept", id)
	}, func(n int) string { return fmt.Sprintf("catalog: %d more nodes are not in the manifest", n) })
}

func stat(t *CatalogTable, keys ...string) *int64 {
	for _, k := range keys {
		s, ok := t.Stats[k]
		if !ok {
			continue
		}
		switch v := s.Value.(type) {
		case float64:
			n := int64(v)
			return &n
		case string:
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				n := int64(f)
				return &n
			}
		}
	}
	return nil
}

var statuses = map[string]quarry.CheckStatus{
	"pass": quarry.CheckPass, "fail": quarry.CheckFail, "warn": quarry.CheckWarn,
	"error": quarry.CheckError, "runtime error": quarry.CheckError,
}

func (mp *mapper) runResults() {
	rr := mp.a.RunResults
	if rr == nil || len(rr.Results) == 0 {
		return
	}
	generated, _ := parseTime(rr.Metadata.GeneratedAt)
	var missing []string
	matched := 0
	for _, r := range rr.Results {
		t, isTest := mp.tests[r.UniqueID]
		if !isTest {
			if mp.known(r.UniqueID) {
				matched++
			} else {
				missing = append(missing, r.UniqueID)
			}
			continue
		}
		matched++
		st, ok := statuses[r.Status]
		if !ok {
			continue // skipped, or only compiled (success)
		}
		at := generated
		for _, tm := range r.Timing {
			if tm.Name == "execute" && tm.CompletedAt != nil {
				at = *tm.CompletedAt
			}
		}
		c := quarry.Check{Column: t.column, Name: t.name, Status: st, Severity: t.severity, ObservedAt: at.UTC(), Failures: r.Failures, ExecutionTime: r.ExecutionTime}
		if r.Message != nil {
			c.Message = quarry.Truncate(*r.Message, quarry.MaxDescriptionLen-8)
		}
		ds := &mp.im.Datasets[t.ds]
		ds.Results = append(ds.Results, c)
		mp.im.Counts.TestResults++
	}
	if matched == 0 {
		mp.warn("run_results: none of its %d results names a node of this manifest (is it another project's?); none is kept", len(rr.Results))
		return
	}
	mp.warnSome(missing, func(id string) string {
		return fmt.Sprintf("run_results: %s is not in the manifest (changed since?); its result is not kept", id)
	}, func(n int) string {
		return fmt.Sprintf("run_results: %d more results name nodes that are not in the manifest", n)
	})
}

// known reports whether the manifest has a node of that unique_id.
func (mp *mapper) known(id string) bool {
	if _, ok := mp.index[id]; ok {
		return true
	}
	_, n := mp.m.Nodes[id]
	_, u := mp.m.UnitTests[id]
	_, e := mp.m.Exposures[id]
	return n || u || e
}

func (mp *mapper) sourceResults() {
	sr := mp.a.Sources
	if sr == nil {
		return
	}
	var missing []string
	for _, r := range sr.Results {
		i, ok := mp.index[r.UniqueID]
		if !ok {
			missing = append(missing, r.UniqueID)
			continue
		}
		if r.MaxLoadedAt != nil && !r.MaxLoadedAt.IsZero() {
			t := r.MaxLoadedAt.UTC()
			mp.im.Datasets[i].LoadedAt = &t
		}
	}
	mp.warnSome(missing, func(id string) string {
		return fmt.Sprintf("sources: %s is not in the manifest; its freshness is not kept", id)
	}, func(n int) string { return fmt.Sprintf("sources: %d more results name sources not in the manifest", n) })
}
