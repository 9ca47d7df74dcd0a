package lineage

import (
	"fmt"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
)

// dsContext is what dataset facets need from their event: checks and
// metrics are observed at the event's time, by its run.
type dsContext struct {
	at    time.Time
	runID string
}

// datasets maps the event's inputs or outputs.
func (d *doc) datasets(ev int32, key, ioFacets string, ctx dsContext) ([]quarry.DatasetReport, error) {
	arr, err := d.optArray(ev, key)
	if err != nil || arr < 0 || d.nodes[arr].n == 0 {
		return nil, err
	}
	out := make([]quarry.DatasetReport, 0, d.nodes[arr].n)
	i := 0
	for c := d.nodes[arr].first; c >= 0; c, i = d.nodes[c].next, i+1 {
		r, err := d.dataset(c, ioFacets, ctx)
		if err != nil {
			return nil, quarry.InField(fmt.Sprintf("%s[%d]", key, i), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// dataset maps one dataset and its facets: "facets", then ioFacets
// ("inputFacets" or "outputFacets", "" for a DatasetEvent), which
// producers use for some of the same facets (dataQualityAssertions,
// dataQualityMetrics).
func (d *doc) dataset(n int32, ioFacets string, ctx dsContext) (quarry.DatasetReport, error) {
	var r quarry.DatasetReport
	if err := d.want(n, jObject); err != nil {
		return r, err
	}
	var err error
	if r.Namespace, err = d.reqString(n, "namespace"); err != nil {
		return r, err
	}
	if r.Name, err = d.reqString(n, "name"); err != nil {
		return r, err
	}
	for _, key := range [2]string{"facets", ioFacets} {
		if key == "" {
			continue
		}
		f, err := d.optObject(n, key)
		if err != nil {
			return r, err
		}
		if f < 0 {
			continue
		}
		if err := d.datasetFacets(f, &r, ctx); err != nil {
			return r, quarry.InField(key, err)
		}
	}
	return r, nil
}

func (d *doc) datasetFacets(facets int32, r *quarry.DatasetReport, ctx dsContext) error {
	if f, err := d.facet(facets, "schema"); err != nil {
		return err
	} else if f >= 0 {
		cols, err := d.schema(f)
		if err != nil {
			return quarry.InField("schema", err)
		}
		if cols != nil {
			r.Columns = cols
		}
	}
	if s, err := d.documentation(facets); err != nil {
		return err
	} else if s != "" {
		r.Description = s
	}
	if owners, err := d.ownership(facets); err != nil {
		return err
	} else if owners != nil {
		r.Owners = owners
	}
	if f, err := d.facet(facets, "lifecycleStateChange"); err != nil {
		return err
	} else if f >= 0 {
		if err := d.lifecycle(f, r); err != nil {
			return quarry.InField("lifecycleStateChange", err)
		}
	}
	if f, err := d.facet(facets, "columnLineage"); err != nil {
		return err
	} else if f >= 0 {
		cl, err := d.columnLineage(f)
		if err != nil {
			return quarry.InField("columnLineage", err)
		}
		if cl != nil {
			r.ColumnLineage = cl
		}
	}
	if f, err := d.facet(facets, "dataQualityAssertions"); err != nil {
		return err
	} else if f >= 0 {
		checks, err := d.assertions(f, r.Checks, ctx)
		if err != nil {
			return quarry.InField("dataQualityAssertions", err)
		}
		r.Checks = checks
	}
	if f, err := d.facet(facets, "dataQualityMetrics"); err != nil {
		return err
	} else if f >= 0 {
		m, err := d.metrics(f, ctx)
		if err != nil {
			return quarry.InField("dataQualityMetrics", err)
		}
		r.Metrics = m
	}
	return nil
}

// schema maps the schema facet's fields to columns. Nested fields (of
// structs, arrays, maps) follow their parent as "parent.child".
func (d *doc) schema(f int32) ([]quarry.Column, error) {
	arr, err := d.optArray(f, "fields")
	if err != nil || arr < 0 || d.nodes[arr].n == 0 {
		return nil, err
	}
	cols, err := d.columns(arr, "", make([]quarry.Column, 0, d.nodes[arr].n))
	if err != nil {
		return nil, quarry.InField("fields", err)
	}
	if len(cols) > quarry.MaxColumns {
		return nil, quarry.Invalid("fields", "has %d columns; the limit is %d", len(cols), quarry.MaxColumns)
	}
	if dup := duplicateColumn(cols); dup != "" {
		return nil, quarry.Invalid("fields", "has two columns named %q", quarry.Truncate(dup, 64))
	}
	return cols, nil
}

// columns appends the columns of a fields array; errors name "[i].name".
func (d *doc) columns(arr int32, parent string, cols []quarry.Column) ([]quarry.Column, error) {
	i := 0
	for c := d.nodes[arr].first; c >= 0; c, i = d.nodes[c].next, i+1 {
		var err error
		if cols, err = d.column(c, parent, cols); err != nil {
			return nil, quarry.InField(fmt.Sprintf("[%d]", i), err)
		}
	}
	return cols, nil
}

func (d *doc) column(n int32, parent string, cols []quarry.Column) ([]quarry.Column, error) {
	if err := d.want(n, jObject); err != nil {
		return nil, err
	}
	name, err := d.reqString(n, "name")
	if err != nil {
		return nil, err
	}
	if parent != "" {
		name = parent + "." + name
	}
	col := quarry.Column{Name: name}
	if col.Type, _, err = d.optString(n, "type"); err != nil {
		return nil, err
	}
	if col.Description, _, err = d.optString(n, "description"); err != nil {
		return nil, err
	}
	cols = append(cols, col)
	sub, err := d.optArray(n, "fields")
	if err != nil || sub < 0 {
		return cols, err
	}
	if cols, err = d.columns(sub, name, cols); err != nil {
		return nil, quarry.InField("fields", err)
	}
	return cols, nil
}

func duplicateColumn(cols []quarry.Column) string {
	if len(cols) <= 16 {
		for i := range cols {
			for j := i + 1; j < len(cols); j++ {
				if cols[i].Name == cols[j].Name {
					return cols[i].Name
				}
			}
		}
		return ""
	}
	seen := make(map[string]struct{}, len(cols))
	for i := range cols {
		if _, dup := seen[cols[i].Name]; dup {
			return cols[i].Name
		}
		seen[cols[i].Name] = struct{}{}
	}
	return ""
}

// lifecycleStates are the states of the lifecycleStateChange facet.
var lifecycleStates = []string{"ALTER", "CREATE", "DROP", "OVERWRITE", "RENAME", "TRUNCATE"}

// lifecycle maps the lifecycleStateChange facet. A state this spec version
// does not list is ignored rather than failing the event, so a newer
// producer's events still ingest.
func (d *doc) lifecycle(f int32, r *quarry.DatasetReport) error {
	s, _, err := d.optString(f, "lifecycleStateChange")
	if err != nil {
		return err
	}
	for _, st := range lifecycleStates {
		if strings.EqualFold(s, st) {
			r.Lifecycle = st
			break
		}
	}
	prev, err := d.optObject(f, "previousIdentifier")
	if err != nil || prev < 0 {
		return err
	}
	if r.PreviousNamespace, err = d.reqString(prev, "namespace"); err != nil {
		return quarry.InField("previousIdentifier", err)
	}
	if r.PreviousName, err = d.reqString(prev, "name"); err != nil {
		return quarry.InField("previousIdentifier", err)
	}
	return nil
}

// columnLineage maps the columnLineage facet: per output column
// ("fields"), its input columns; the dataset-wide inputs ("dataset":
// filters, joins, sorts) become an entry with an empty Column.
func (d *doc) columnLineage(f int32) ([]quarry.ColumnLineage, error) {
	var out []quarry.ColumnLineage
	fields, err := d.optObject(f, "fields")
	if err != nil {
		return nil, err
	}
	if fields >= 0 {
		out = make([]quarry.ColumnLineage, 0, d.nodes[fields].n)
		for c := d.nodes[fields].first; c >= 0; c = d.nodes[c].next {
			if d.nodes[c].kind == jNull {
				continue
			}
			col := d.key(c)
			if isBlank(col) {
				// An empty Column means the whole dataset.
				return nil, quarry.Invalid("fields", "names an output column %q: a column name must not be empty", col)
			}
			ins, err := d.outputField(c)
			if err != nil {
				return nil, quarry.InField("fields."+col, err)
			}
			if len(ins) > 0 {
				out = append(out, quarry.ColumnLineage{Column: col, Inputs: ins})
			}
		}
	}
	ds, err := d.optArray(f, "dataset")
	if err != nil {
		return nil, err
	}
	if ds >= 0 {
		ins, err := d.inputFields(ds, "", nil)
		if err != nil {
			return nil, quarry.InField("dataset", err)
		}
		if len(ins) > 0 {
			out = append(out, quarry.ColumnLineage{Inputs: ins})
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// outputField maps one output column's entry. The older form gives the
// transformation once for all inputs (transformationType, e.g. IDENTITY).
func (d *doc) outputField(n int32) ([]quarry.ColumnSource, error) {
	if err := d.want(n, jObject); err != nil {
		return nil, err
	}
	legacy, _, err := d.optString(n, "transformationType")
	if err != nil {
		return nil, err
	}
	if legacy != "" && !strings.Contains(legacy, "/") {
		// The older form names the kind of a direct use (IDENTITY,
		// MASKED...): say it as the newer form does.
		legacy = "DIRECT/" + legacy
	}
	arr, err := d.optArray(n, "inputFields")
	if err != nil || arr < 0 {
		return nil, err
	}
	ins, err := d.inputFields(arr, legacy, make([]quarry.ColumnSource, 0, d.nodes[arr].n))
	if err != nil {
		return nil, quarry.InField("inputFields", err)
	}
	return ins, nil
}

// inputFields appends one ColumnInput per input field and transformation
// ("TYPE/SUBTYPE"); a field without transformations gets legacy.
func (d *doc) inputFields(arr int32, legacy string, out []quarry.ColumnSource) ([]quarry.ColumnSource, error) {
	i := 0
	for c := d.nodes[arr].first; c >= 0; c, i = d.nodes[c].next, i+1 {
		var err error
		if out, err = d.inputField(c, legacy, out); err != nil {
			return nil, quarry.InField(fmt.Sprintf("[%d]", i), err)
		}
	}
	return out, nil
}

func (d *doc) inputField(n int32, legacy string, out []quarry.ColumnSource) ([]quarry.ColumnSource, error) {
	if err := d.want(n, jObject); err != nil {
		return nil, err
	}
	var in, prev quarry.ColumnSource
	if len(out) > 0 {
		prev = out[len(out)-1]
	}
	var err error
	if in.Namespace, err = d.reqStringLike(n, "namespace", prev.Namespace); err != nil {
		return nil, err
	}
	if in.Name, err = d.reqStringLike(n, "name", prev.Name); err != nil {
		return nil, err
	}
	if in.Field, err = d.reqString(n, "field"); err != nil {
		return nil, err
	}
	ts, err := d.optArray(n, "transformations")
	if err != nil {
		return nil, err
	}
	if ts < 0 || d.nodes[ts].n == 0 {
		in.Transformation = legacy
		return append(out, in), nil
	}
	i := 0
	for c := d.nodes[ts].first; c >= 0; c, i = d.nodes[c].next, i+1 {
		if in.Transformation, err = d.transformation(c); err != nil {
			return nil, quarry.InField(fmt.Sprintf("transformations[%d]", i), err)
		}
		out = append(out, in)
	}
	return out, nil
}

func (d *doc) transformation(n int32) (string, error) {
	if err := d.want(n, jObject); err != nil {
		return "", err
	}
	typ, err := d.reqString(n, "type")
	if err != nil {
		return "", err
	}
	sub, _, err := d.optString(n, "subtype")
	if err != nil || sub == "" {
		return typ, err
	}
	return typ + "/" + sub, nil
}

// assertions appends the dataQualityAssertions facet's results as checks.
func (d *doc) assertions(f int32, out []quarry.Check, ctx dsContext) ([]quarry.Check, error) {
	arr, err := d.optArray(f, "assertions")
	if err != nil || arr < 0 {
		return out, err
	}
	i := 0
	for c := d.nodes[arr].first; c >= 0; c, i = d.nodes[c].next, i+1 {
		ch, err := d.assertion(c, ctx)
		if err != nil {
			return nil, quarry.InField(fmt.Sprintf("assertions[%d]", i), err)
		}
		out = append(out, ch)
	}
	return out, nil
}

func (d *doc) assertion(n int32, ctx dsContext) (quarry.Check, error) {
	ch := quarry.Check{ObservedAt: ctx.at, RunID: ctx.runID}
	if err := d.want(n, jObject); err != nil {
		return ch, err
	}
	var err error
	if ch.Name, err = d.reqString(n, "assertion"); err != nil {
		return ch, err
	}
	ok, present, err := d.optBool(n, "success")
	switch {
	case err != nil:
		return ch, err
	case !present:
		return ch, quarry.Invalid("success", "is required")
	case ok:
		ch.Status = quarry.CheckPass
	default:
		ch.Status = quarry.CheckFail
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"column", &ch.Column}, {"severity", &ch.Severity}, {"description", &ch.Message}} {
		if *f.dst, _, err = d.optString(n, f.key); err != nil {
			return ch, err
		}
	}
	// A failed assertion of severity warn (dbt's `severity: warn`) only
	// warns: the facet's spec says it does not block the pipeline.
	if ch.Status == quarry.CheckFail && strings.EqualFold(ch.Severity, "warn") {
		ch.Status = quarry.CheckWarn
	}
	if ch.Expected, err = d.scalarText(n, "expected"); err != nil {
		return ch, err
	}
	if ch.Observed, err = d.scalarText(n, "actual"); err != nil {
		return ch, err
	}
	return ch, nil
}

// scalarText reads a string, or a number or boolean as written (some
// producers send expected and actual values unquoted).
func (d *doc) scalarText(obj int32, key string) (string, error) {
	n := d.member(obj, key)
	if n < 0 {
		return "", nil
	}
	switch d.nodes[n].kind {
	case jString:
		return d.text(n), nil
	case jNumber:
		return d.numText(n), nil
	case jTrue:
		return "true", nil
	case jFalse:
		return "false", nil
	}
	return "", typeError(key, "a string", d.nodes[n].kind)
}

// metrics maps the dataQualityMetrics facet.
func (d *doc) metrics(f int32, ctx dsContext) (*quarry.DatasetMetrics, error) {
	m := &quarry.DatasetMetrics{ObservedAt: ctx.at, RunID: ctx.runID}
	var err error
	for _, c := range []struct {
		key string
		dst **int64
	}{{"rowCount", &m.RowCount}, {"bytes", &m.Bytes}, {"fileCount", &m.FileCount}} {
		if *c.dst, err = d.optCount(f, c.key); err != nil {
			return nil, err
		}
	}
	if m.LastUpdated, _, err = d.optTime(f, "lastUpdated"); err != nil {
		return nil, err
	}
	cm, err := d.optObject(f, "columnMetrics")
	if err != nil || cm < 0 || d.nodes[cm].n == 0 {
		return m, err
	}
	m.Columns = make(map[string]quarry.ColumnMetrics, d.nodes[cm].n)
	for c := d.nodes[cm].first; c >= 0; c = d.nodes[c].next {
		if d.nodes[c].kind == jNull {
			continue
		}
		col := d.key(c)
		v, err := d.columnMetrics(c)
		if err != nil {
			return nil, quarry.InField("columnMetrics."+col, err)
		}
		m.Columns[col] = v
	}
	return m, nil
}

func (d *doc) columnMetrics(n int32) (quarry.ColumnMetrics, error) {
	var v quarry.ColumnMetrics
	if err := d.want(n, jObject); err != nil {
		return v, err
	}
	var err error
	if v.NullCount, err = d.optCount(n, "nullCount"); err != nil {
		return v, err
	}
	if v.DistinctCount, err = d.optCount(n, "distinctCount"); err != nil {
		return v, err
	}
	for _, f := range []struct {
		key string
		dst **float64
	}{{"count", &v.Count}, {"sum", &v.Sum}, {"min", &v.Min}, {"max", &v.Max}} {
		if *f.dst, err = d.optFloat(n, f.key); err != nil {
			return v, err
		}
	}
	return v, nil
}
