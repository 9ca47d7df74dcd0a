package dbt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
)

// Artifacts are the files of one dbt invocation's target directory. Only
// Manifest is required.
type Artifacts struct {
	Manifest   *Manifest
	Catalog    *Catalog
	RunResults *RunResults
	Sources    *SourceResults
}

// Metadata is the metadata block every artifact starts with.
type Metadata struct {
	SchemaVersion string `json:"dbt_schema_version"`
	DBTVersion    string `json:"dbt_version"`
	GeneratedAt   string `json:"generated_at"`
	InvocationID  string `json:"invocation_id"`
	ProjectName   string `json:"project_name"` // manifest v10 and later
	ProjectID     string `json:"project_id"`
	AdapterType   string `json:"adapter_type"`
}

// Manifest is the part of manifest.json the import reads, for every
// supported version (fields renamed across versions are both here).
type Manifest struct {
	Metadata  Metadata
	Version   int
	Nodes     map[string]*Node
	Sources   map[string]*Node
	Exposures map[string]*Exposure
	UnitTests map[string]*Node
}

// Node is a model, seed, snapshot, test, unit test or source.
type Node struct {
	UniqueID         string          `json:"unique_id"`
	ResourceType     string          `json:"resource_type"`
	Name             string          `json:"name"`
	Alias            string          `json:"alias"`
	Identifier       string          `json:"identifier"` // a source's table
	SourceName       string          `json:"source_name"`
	Database         string          `json:"database"`
	Schema           string          `json:"schema"`
	PackageName      string          `json:"package_name"`
	OriginalFilePath string          `json:"original_file_path"`
	Description      string          `json:"description"`
	RawCode          string          `json:"raw_code"`
	RawSQL           string          `json:"raw_sql"` // v5, v6
	CompiledCode     string          `json:"compiled_code"`
	CompiledSQL      string          `json:"compiled_sql"` // v5, v6
	Language         string          `json:"language"`
	Config           Config          `json:"config"`
	Meta             map[string]any  `json:"meta"`
	Tags             stringList      `json:"tags"`
	Columns          columns         `json:"columns"`
	DependsOn        DependsOn       `json:"depends_on"`
	TestMetadata     *TestMetadata   `json:"test_metadata"`
	ColumnName       *string         `json:"column_name"`
	AttachedNode     *string         `json:"attached_node"` // v10 and later
	Model            string          `json:"model"`         // a unit test's
	Access           string          `json:"access"`
	Group            *string         `json:"group"`
	Version          json.RawMessage `json:"version"` // a string or a number
	LatestVersion    json.RawMessage `json:"latest_version"`
	DeprecationDate  *string         `json:"deprecation_date"`
	Contract         *Contract       `json:"contract"`
	Freshness        *Freshness      `json:"freshness"`
	LoadedAtField    *string         `json:"loaded_at_field"`
	Loader           string          `json:"loader"`
	SourceMeta       map[string]any  `json:"source_meta"`
	Path             string          `json:"path"`
	RelationName     *string         `json:"relation_name"`
}

// Config is a node's config block.
type Config struct {
	Enabled      *bool          `json:"enabled"`
	Materialized string         `json:"materialized"`
	Severity     string         `json:"severity"`
	Meta         map[string]any `json:"meta"`
	Tags         stringList     `json:"tags"`
	Contract     *Contract      `json:"contract"`
	Access       string         `json:"access"`
	Group        *string        `json:"group"`
}

// Contract is a model's contract.
type Contract struct {
	Enforced bool `json:"enforced"`
}

// DependsOn lists what a node is made from.
type DependsOn struct {
	Nodes []string `json:"nodes"`
}

// TestMetadata names a generic test and its arguments.
type TestMetadata struct {
	Name      string         `json:"name"`
	Namespace *string        `json:"namespace"`
	Kwargs    map[string]any `json:"kwargs"`
}

// Freshness is a source's freshness block.
type Freshness struct {
	WarnAfter  *Period `json:"warn_after"`
	ErrorAfter *Period `json:"error_after"`
}

// Period is a count of minutes, hours or days.
type Period struct {
	Count  *float64 `json:"count"`
	Period *string  `json:"period"`
}

// Column is a declared column.
type Column struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	DataType    *string        `json:"data_type"`
	Meta        map[string]any `json:"meta"`
	Tags        stringList     `json:"tags"`
}

// Exposure is a dashboard, notebook, analysis, ML model or application
// that uses the project's models.
type Exposure struct {
	UniqueID         string         `json:"unique_id"`
	Name             string         `json:"name"`
	Label            *string        `json:"label"`
	Type             string         `json:"type"`
	PackageName      string         `json:"package_name"`
	OriginalFilePath string         `json:"original_file_path"`
	Description      string         `json:"description"`
	Owner            Owner          `json:"owner"`
	Maturity         *string        `json:"maturity"`
	URL              *string        `json:"url"`
	Meta             map[string]any `json:"meta"`
	Tags             stringList     `json:"tags"`
	DependsOn        DependsOn      `json:"depends_on"`
}

// Owner is an exposure's owner.
type Owner struct {
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

// Catalog is the part of catalog.json the import reads.
type Catalog struct {
	Metadata Metadata
	Nodes    map[string]*CatalogTable
	Sources  map[string]*CatalogTable
}

// CatalogTable is what the warehouse said of a node's relation.
type CatalogTable struct {
	Metadata struct {
		Type    string  `json:"type"`
		Comment *string `json:"comment"`
		Owner   *string `json:"owner"`
	} `json:"metadata"`
	Columns map[string]struct {
		Type    string  `json:"type"`
		Index   int     `json:"index"`
		Name    string  `json:"name"`
		Comment *string `json:"comment"`
	} `json:"columns"`
	Stats map[string]struct {
		Value   any  `json:"value"`
		Include bool `json:"include"`
	} `json:"stats"`
}

// RunResults is the part of run_results.json the import reads.
type RunResults struct {
	Metadata Metadata
	Which    string // args.which: run, build, test, seed, snapshot
	Results  []RunResult
}

// RunResult is the result of one node.
type RunResult struct {
	UniqueID      string   `json:"unique_id"`
	Status        string   `json:"status"`
	Message       *string  `json:"message"`
	Failures      *int64   `json:"failures"`
	ExecutionTime float64  `json:"execution_time"`
	Timing        []Timing `json:"timing"`
}

// Timing is one phase of a result.
type Timing struct {
	Name        string     `json:"name"`
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
}

// SourceResults is the part of sources.json the import reads.
type SourceResults struct {
	Metadata Metadata
	Results  []SourceResult
}

// SourceResult is one source's freshness result.
type SourceResult struct {
	UniqueID      string     `json:"unique_id"`
	Status        string     `json:"status"`
	MaxLoadedAt   *time.Time `json:"max_loaded_at"`
	SnapshottedAt *time.Time `json:"snapshotted_at"`
}

// The supported schema versions of each artifact.
var supported = map[string][2]int{
	"manifest":    {5, 12},
	"catalog":     {1, 1},
	"run-results": {4, 6},
	"sources":     {1, 3},
}

// checkVersion reads a dbt_schema_version such as
// https://schemas.getdbt.com/dbt/manifest/v12.json and returns its number
// when it is a supported version of kind.
func checkVersion(file, kind, v string) (int, error) {
	field := file + ": metadata.dbt_schema_version"
	lo, hi := supported[kind][0], supported[kind][1]
	want := fmt.Sprintf("%s v%d to v%d", kind, lo, hi)
	if lo == hi {
		want = fmt.Sprintf("%s v%d", kind, lo)
	}
	if v == "" {
		return 0, quarry.Invalid(field, "is missing: is this a dbt %s file? (want %s)", kind, want)
	}
	parts := strings.Split(strings.TrimSuffix(v, ".json"), "/")
	if len(parts) < 2 || !strings.HasPrefix(parts[len(parts)-1], "v") {
		return 0, quarry.Invalid(field, "%q is not a dbt schema version like https://schemas.getdbt.com/dbt/%s/v%d.json", quarry.Truncate(v, 128), kind, hi)
	}
	got := parts[len(parts)-2]
	n, err := strconv.Atoi(parts[len(parts)-1][1:])
	if err != nil {
		return 0, quarry.Invalid(field, "%q is not a dbt schema version like https://schemas.getdbt.com/dbt/%s/v%d.json", quarry.Truncate(v, 128), kind, hi)
	}
	if got != kind {
		return 0, quarry.Invalid(field, "%q is a dbt %s file, not a %s", quarry.Truncate(v, 128), got, kind)
	}
	if n < lo || n > hi {
		return 0, quarry.Invalid(field, "%s v%d is not supported; Quarry reads %s", kind, n, want)
	}
	return n, nil
}

// ReadManifest reads manifest.json; name is the file's name for messages.
func ReadManifest(r io.Reader, name string) (*Manifest, error) {
	return decodeManifest(json.NewDecoder(r), name)
}

// ReadCatalog reads catalog.json.
func ReadCatalog(r io.Reader, name string) (*Catalog, error) {
	return decodeCatalog(json.NewDecoder(r), name)
}

// ReadRunResults reads run_results.json.
func ReadRunResults(r io.Reader, name string) (*RunResults, error) {
	return decodeRunResults(json.NewDecoder(r), name)
}

// ReadSources reads sources.json (dbt source freshness).
func ReadSources(r io.Reader, name string) (*SourceResults, error) {
	return decodeSources(json.NewDecoder(r), name)
}

func decodeManifest(dec *json.Decoder, name string) (*Manifest, error) {
	m := &Manifest{Nodes: map[string]*Node{}, Sources: map[string]*Node{}, Exposures: map[string]*Exposure{}, UnitTests: map[string]*Node{}}
	err := eachMember(dec, name, "", func(key string) error {
		switch key {
		case "metadata":
			if err := dec.Decode(&m.Metadata); err != nil {
				return err
			}
			v, err := checkVersion(name, "manifest", m.Metadata.SchemaVersion)
			m.Version = v
			return err
		case "nodes", "sources", "unit_tests":
			into := map[string]map[string]*Node{"nodes": m.Nodes, "sources": m.Sources, "unit_tests": m.UnitTests}[key]
			return eachMember(dec, name, key, func(id string) error {
				n := new(Node)
				if err := dec.Decode(n); err != nil {
					return fmt.Errorf("%s.%s: %w", key, id, err)
				}
				into[id] = n
				return nil
			})
		case "exposures":
			return eachMember(dec, name, key, func(id string) error {
				e := new(Exposure)
				if err := dec.Decode(e); err != nil {
					return fmt.Errorf("exposures.%s: %w", id, err)
				}
				m.Exposures[id] = e
				return nil
			})
		}
		return skip(dec)
	})
	if err != nil {
		return nil, err
	}
	if m.Version == 0 {
		_, err := checkVersion(name, "manifest", "")
		return nil, err
	}
	return m, nil
}

func decodeCatalog(dec *json.Decoder, name string) (*Catalog, error) {
	c := &Catalog{Nodes: map[string]*CatalogTable{}, Sources: map[string]*CatalogTable{}}
	seen := false
	err := eachMember(dec, name, "", func(key string) error {
		switch key {
		case "metadata":
			if err := dec.Decode(&c.Metadata); err != nil {
				return err
			}
			seen = true
			_, err := checkVersion(name, "catalog", c.Metadata.SchemaVersion)
			return err
		case "nodes", "sources":
			into := c.Nodes
			if key == "sources" {
				into = c.Sources
			}
			return eachMember(dec, name, key, func(id string) error {
				t := new(CatalogTable)
				if err := dec.Decode(t); err != nil {
					return fmt.Errorf("%s.%s: %w", key, id, err)
				}
				into[id] = t
				return nil
			})
		}
		return skip(dec)
	})
	if err == nil && !seen {
		_, err = checkVersion(name, "catalog", "")
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func decodeRunResults(dec *json.Decoder, name string) (*RunResults, error) {
	rr := &RunResults{}
	seen := false
	err := eachMember(dec, name, "", func(key string) error {
		switch key {
		case "metadata":
			if err := dec.Decode(&rr.Metadata); err != nil {
				return err
			}
			seen = true
			_, err := checkVersion(name, "run-results", rr.Metadata.SchemaVersion)
			return err
		case "results":
			return eachElement(dec, name, key, func(i int) error {
				var r RunResult
				if err := dec.Decode(&r); err != nil {
					return fmt.Errorf("results[%d]: %w", i, err)
				}
				rr.Results = append(rr.Results, r)
				return nil
			})
		case "args":
			var args struct {
				Which string `json:"which"`
			}
			if err := dec.Decode(&args); err != nil {
				return fmt.Errorf("args: %w", err)
			}
			rr.Which = args.Which
			return nil
		}
		return skip(dec)
	})
	if err == nil && !seen {
		_, err = checkVersion(name, "run-results", "")
	}
	if err != nil {
		return nil, err
	}
	return rr, nil
}

func decodeSources(dec *json.Decoder, name string) (*SourceResults, error) {
	sr := &SourceResults{}
	seen := false
	err := eachMember(dec, name, "", func(key string) error {
		switch key {
		case "metadata":
			if err := dec.Decode(&sr.Metadata); err != nil {
				return err
			}
			seen = true
			_, err := checkVersion(name, "sources", sr.Metadata.SchemaVersion)
			return err
		case "results":
			return eachElement(dec, name, key, func(i int) error {
				var r SourceResult
				if err := dec.Decode(&r); err != nil {
					return fmt.Errorf("results[%d]: %w", i, err)
				}
				sr.Results = append(sr.Results, r)
				return nil
			})
		}
		return skip(dec)
	})
	if err == nil && !seen {
		_, err = checkVersion(name, "sources", "")
	}
	if err != nil {
		return nil, err
	}
	return sr, nil
}

// eachMember walks the object the decoder is at, calling fn with each key
// while the decoder is at its value (which fn must consume). Errors that are
// not already quarry errors become EINVALID errors naming the file.
func eachMember(dec *json.Decoder, file, path string, fn func(key string) error) error {
	if err := expectDelim(dec, file, path, '{'); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return syntaxError(file, path, err, dec)
		}
		key, _ := t.(string)
		if err := fn(key); err != nil {
			return wrapError(file, path, err, dec)
		}
	}
	if _, err := dec.Token(); err != nil {
		return syntaxError(file, path, err, dec)
	}
	return nil
}

// eachElement walks the array the decoder is at.
func eachElement(dec *json.Decoder, file, path string, fn func(i int) error) error {
	if err := expectDelim(dec, file, path, '['); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		if err := fn(i); err != nil {
			return wrapError(file, path, err, dec)
		}
	}
	if _, err := dec.Token(); err != nil {
		return syntaxError(file, path, err, dec)
	}
	return nil
}

func expectDelim(dec *json.Decoder, file, path string, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return syntaxError(file, path, err, dec)
	}
	if t == nil && path != "" {
		return errNull // a null map or list: nothing in it
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		what := "an object"
		if want == '[' {
			what = "an array"
		}
		return quarry.Invalid(field(file, path), "must be %s", what)
	}
	return nil
}

var errNull = errors.New("null")

func field(file, path string) string {
	if path == "" {
		return file
	}
	return file + ": " + path
}

func wrapError(file, path string, err error, dec *json.Decoder) error {
	if errors.Is(err, errNull) {
		return nil
	}
	if quarry.ErrorCode(err) == quarry.EINVALID {
		return err
	}
	return syntaxError(file, path, err, dec)
}

func syntaxError(file, path string, err error, dec *json.Decoder) error {
	if errors.Is(err, errNull) {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return quarry.Invalid(file, "is truncated: the JSON ends at byte %d before it is complete", dec.InputOffset())
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return quarry.Invalid(file, "is not valid JSON at byte %d: %v", se.Offset, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return quarry.Invalid(field(file, strings.TrimPrefix(path+"."+te.Field, ".")), "has a %s where a %s belongs", te.Value, te.Type)
	}
	return quarry.Invalid(field(file, path), "%v", err)
}

// skip consumes the value the decoder is at without keeping it.
func skip(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// stringList reads a string or a list of strings (dbt accepts both for
// tags).
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = []string{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return err
	}
	*l = ss
	return nil
}

// columns are a node's declared columns in the order the YAML declares
// them (a map would lose it).
type columns []Column

func (c *columns) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	t, err := dec.Token()
	if err != nil || t == nil {
		return err
	}
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return err
		}
		var col Column
		if err := dec.Decode(&col); err != nil {
			return err
		}
		*c = append(*c, col)
	}
	return nil
}
