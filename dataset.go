package quarry

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DatasetKind says what a dataset physically is.
type DatasetKind string

const (
	KindTable            DatasetKind = "TABLE"
	KindView             DatasetKind = "VIEW"
	KindMaterializedView DatasetKind = "MATERIALIZED_VIEW"
	KindExternal         DatasetKind = "EXTERNAL"
	KindStream           DatasetKind = "STREAM"
	KindFile             DatasetKind = "FILE"
)

// DatasetKinds lists every valid kind.
var DatasetKinds = []DatasetKind{KindTable, KindView, KindMaterializedView, KindExternal, KindStream, KindFile, KindDashboard, KindApplication, KindMLModel}

// Valid reports whether k is one of DatasetKinds.
func (k DatasetKind) Valid() bool { return slices.Contains(DatasetKinds, k) }

// Limits on what one dataset may carry.
const (
	MaxColumns        = 5000
	MaxDescriptionLen = 64 << 10
	MaxLabels         = 100 // owners or tags
	MaxLabelLen       = 256
)

// Dataset is a table, view, topic or file: anything with a schema that jobs
// read and write. Its identity is (Namespace, Name); ID is derived from them.
//
// Metadata comes from two places and is kept apart: Provided is what crawlers
// and pushing tools say (replaced on every upsert); Edited is what people set
// with updateDataset, is never touched by a crawl, and wins for display.
type Dataset struct {
	ID        string      `json:"id"`
	Namespace string      `json:"namespace"`
	Name      string      `json:"name"`
	Kind      DatasetKind `json:"kind"`
	Source    string      `json:"source,omitempty"` // name of the registered source that crawls it
	// Database and Schema say where a crawled dataset lives, when its
	// crawler knows (a name like "shop.eu.public.t" does not say which dot
	// ends the database).
	Database  string   `json:"database,omitempty"`
	Schema    string   `json:"schema,omitempty"`
	Columns   []Column `json:"columns,omitempty"`
	Provided  Metadata `json:"provided"`
	Edited    Edits    `json:"edited"`
	RowCount  *int64   `json:"rowCount,omitempty"`
	SizeBytes *int64   `json:"sizeBytes,omitempty"`

	// Definition is a view's query as the database prints it.
	Definition string `json:"definition,omitempty"`
	// Constraints are the primary key, unique constraints and foreign keys;
	// the foreign keys are its relationships to other datasets.
	Constraints []Constraint `json:"constraints,omitempty"`
	// Partitions names the partitions of a partitioned table; they are not
	// datasets of their own.
	Partitions []string `json:"partitions,omitempty"`
	// Stats are the database's activity counters, when a crawler reads them.
	// A rise in the modification counters between two crawls is recorded as
	// a data change.
	Stats *TableStats `json:"stats,omitempty"`
	// DBT is what a dbt project's artifacts say of it (see dbt.go): a layer
	// of its own that crawls keep and only a dbt import writes.
	DBT *DBTInfo `json:"dbt,omitempty"`

	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`               // metadata last changed
	LastUpdatedAt *time.Time `json:"lastUpdatedAt,omitempty"` // data last changed, when known
	RemovedAt     *time.Time `json:"removedAt,omitempty"`
}

// Metadata is the descriptive part of a dataset as one party sees it.
type Metadata struct {
	Description string   `json:"description,omitempty"`
	Owners      []string `json:"owners,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// Edits are people's overrides. A nil field is "not edited": the provided
// value shows. An edited empty list is a deliberate "none".
type Edits struct {
	Description        *string           `json:"description,omitempty"`
	Owners             *[]string         `json:"owners,omitempty"`
	Tags               *[]string         `json:"tags,omitempty"`
	ColumnDescriptions map[string]string `json:"columnDescriptions,omitempty"`
	// Deprecated and Endorsed are set by people only (see trust.go).
	Deprecated *Deprecation `json:"deprecated,omitempty"`
	Endorsed   *Endorsement `json:"endorsed,omitempty"`
}

// Column is one column of a dataset.
type Column struct {
	Name        string     `json:"name"`
	Type        string     `json:"type,omitempty"` // as the source spells it, e.g. "character varying(50)"
	Nullable    bool       `json:"nullable"`
	Ordinal     int        `json:"ordinal"` // 1-based position
	Description string     `json:"description,omitempty"`
	Default     string     `json:"default,omitempty"`
	PrimaryKey  bool       `json:"primaryKey,omitempty"`
	Unique      bool       `json:"unique,omitempty"` // a single-column unique constraint
	ForeignKey  *ColumnRef `json:"foreignKey,omitempty"`
}

// ConstraintKind is the kind of a table constraint.
type ConstraintKind string

const (
	ConstraintPrimaryKey ConstraintKind = "PRIMARY_KEY"
	ConstraintUnique     ConstraintKind = "UNIQUE"
	ConstraintForeignKey ConstraintKind = "FOREIGN_KEY"
)

// Constraint is a primary key, unique constraint or foreign key over one or
// more columns. A foreign key references columns of another dataset, in the
// same order.
type Constraint struct {
	Name       string         `json:"name"`
	Kind       ConstraintKind `json:"kind"`
	Columns    []string       `json:"columns"`
	References *TableRef      `json:"references,omitempty"`
}

// TableRef names columns of a dataset.
type TableRef struct {
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Columns   []string `json:"columns"`
}

// TableStats are a table's activity counters (PostgreSQL's
// pg_stat_user_tables, MySQL's performance_schema table I/O counters) and
// what its server says of it beside them. Counters are cumulative since the
// server's statistics were last reset (for MySQL, since it started).
type TableStats struct {
	Inserts         int64      `json:"inserts"`
	Updates         int64      `json:"updates"`
	Deletes         int64      `json:"deletes"`
	LiveTuples      int64      `json:"liveTuples"`
	DeadTuples      int64      `json:"deadTuples"`
	LastVacuum      *time.Time `json:"lastVacuum,omitempty"`
	LastAutovacuum  *time.Time `json:"lastAutovacuum,omitempty"`
	LastAnalyze     *time.Time `json:"lastAnalyze,omitempty"`
	LastAutoanalyze *time.Time `json:"lastAutoanalyze,omitempty"`

	// Engine is MySQL's storage engine (InnoDB, MyISAM, ...).
	Engine string `json:"engine,omitempty"`
	// TableCreatedAt is when the server created the table (MySQL's
	// CREATE_TIME).
	TableCreatedAt *time.Time `json:"tableCreatedAt,omitempty"`
	// DataUpdatedAt is when the server last saw the table's data change
	// (MySQL's UPDATE_TIME; InnoDB keeps it in memory only, so it is
	// unknown after a restart until the next write).
	DataUpdatedAt *time.Time `json:"dataUpdatedAt,omitempty"`
}

// Modified reports whether the data changed between two readings: a
// modification counter rose, or the server's time of the last change moved
// on (or appeared: the server forgets it on restart and learns it at the
// next write). A counter that fell means the statistics were reset, which
// says nothing about the data.
func (s *TableStats) Modified(since *TableStats) bool {
	if s == nil || since == nil {
		return false
	}
	return s.countersRose(since) || s.DataUpdatedAt != nil && (since.DataUpdatedAt == nil || s.DataUpdatedAt.After(*since.DataUpdatedAt))
}

func (s *TableStats) countersRose(since *TableStats) bool {
	return s.Inserts > since.Inserts || s.Updates > since.Updates || s.Deletes > since.Deletes
}

// ChangeDetail says how a reading shows the data changed since another
// (for a Modified pair).
func (s *TableStats) ChangeDetail(since *TableStats) string {
	if s == nil || since == nil {
		return ""
	}
	if s.countersRose(since) || s.DataUpdatedAt == nil {
		return fmt.Sprintf("+%d inserts, +%d updates, +%d deletes since the last crawl",
			s.Inserts-since.Inserts, s.Updates-since.Updates, s.Deletes-since.Deletes)
	}
	return "the server's last change time moved to " + s.DataUpdatedAt.UTC().Format(time.RFC3339)
}

// ColumnRef names a column of another (or the same) dataset.
type ColumnRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Column    string `json:"column"`
}

// DatasetID returns the ID of the referenced dataset.
func (r *ColumnRef) DatasetID() string { return NewID(EntityDataset, r.Namespace, r.Name) }

// Description is the description to show: a person's edit wins over what
// dbt says, which wins over what a crawler or tool provided (a database
// comment is usually dbt's description persisted, or less).
func (d *Dataset) Description() string {
	if d.Edited.Description != nil {
		return *d.Edited.Description
	}
	if d.DBT != nil && d.DBT.Description != "" {
		return d.DBT.Description
	}
	return d.Provided.Description
}

// Owners are the owners to show: a person's edit, else dbt's, else the
// provided ones.
func (d *Dataset) Owners() []string {
	if d.Edited.Owners != nil {
		return *d.Edited.Owners
	}
	if d.DBT != nil && len(d.DBT.Owners) > 0 {
		return d.DBT.Owners
	}
	return d.Provided.Owners
}

// Tags are the tags to show: a person's edit, else the provided tags and
// dbt's together.
func (d *Dataset) Tags() []string {
	if d.Edited.Tags != nil {
		return *d.Edited.Tags
	}
	if d.DBT != nil && len(d.DBT.Tags) > 0 {
		if len(d.Provided.Tags) == 0 {
			return d.DBT.Tags
		}
		t := append(slices.Clone(d.Provided.Tags), d.DBT.Tags...)
		slices.Sort(t)
		return slices.Compact(t)
	}
	return d.Provided.Tags
}

// ShownColumns returns the columns with dbt's descriptions and types (where
// the column has none) and people's description edits applied.
func (d *Dataset) ShownColumns() []Column {
	hasDBT := d.DBT != nil && len(d.DBT.Columns) > 0
	if len(d.Edited.ColumnDescriptions) == 0 && !hasDBT {
		return d.Columns
	}
	cols := slices.Clone(d.Columns)
	for i := range cols {
		if c := d.dbtColumn(cols[i].Name); c != nil {
			if c.Description != "" {
				cols[i].Description = c.Description
			}
			if cols[i].Type == "" {
				cols[i].Type = c.Type
			}
		}
		if desc, ok := d.Edited.ColumnDescriptions[cols[i].Name]; ok {
			cols[i].Description = desc
		}
	}
	return cols
}

// Column returns the column with the given name, or nil.
func (d *Dataset) Column(name string) *Column {
	for i := range d.Columns {
		if d.Columns[i].Name == name {
			return &d.Columns[i]
		}
	}
	return nil
}

// Removed reports whether the dataset has been marked removed.
func (d *Dataset) Removed() bool { return d.RemovedAt != nil }

// Normalize validates a dataset as a crawler or tool provides it, normalizes
// its namespace, name, labels and columns, and sets its ID and Kind (TABLE
// when empty). Errors are EINVALID and name the field.
func (d *Dataset) Normalize() error {
	var err error
	if d.Namespace, err = NormalizeNamespace(d.Namespace); err != nil {
		return InField("namespace", err)
	}
	if d.Name, err = NormalizeName(d.Name); err != nil {
		return InField("name", err)
	}
	if d.Kind == "" {
		d.Kind = KindTable
	}
	if !d.Kind.Valid() {
		return Invalid("kind", "%q is not a dataset kind; want one of %s", d.Kind, joinKinds())
	}
	if err := checkDescription(d.Provided.Description); err != nil {
		return InField("description", err)
	}
	if d.Provided.Owners, err = NormalizeLabels(d.Provided.Owners); err != nil {
		return InField("owners", err)
	}
	if d.Provided.Tags, err = NormalizeLabels(d.Provided.Tags); err != nil {
		return InField("tags", err)
	}
	if err := normalizeColumns(d.Columns); err != nil {
		return err
	}
	for i := range d.Constraints {
		if err := d.normalizeConstraint(&d.Constraints[i]); err != nil {
			return InField(fmt.Sprintf("constraints[%d]", i), err)
		}
	}
	if d.RowCount != nil && *d.RowCount < 0 {
		return Invalid("rowCount", "must not be negative")
	}
	if d.SizeBytes != nil && *d.SizeBytes < 0 {
		return Invalid("sizeBytes", "must not be negative")
	}
	d.ID = NewID(EntityDataset, d.Namespace, d.Name)
	return nil
}

func normalizeColumns(cols []Column) error {
	if len(cols) > MaxColumns {
		return Invalid("columns", "has %d columns; the limit is %d", len(cols), MaxColumns)
	}
	seen := make(map[string]int, len(cols))
	ordinals := make(map[int]int, len(cols))
	for i := range cols {
		if err := normalizeColumn(&cols[i], i, seen, ordinals); err != nil {
			return InField(fmt.Sprintf("columns[%d]", i), err)
		}
	}
	return nil
}

// normalizeColumn checks column i; errors name the field within the column
// (the caller adds "columns[i]", so the happy path formats no strings).
func normalizeColumn(c *Column, i int, seen map[string]int, ordinals map[int]int) error {
	if _, err := NormalizeName(c.Name); err != nil {
		return InField("name", err)
	}
	if j, dup := seen[c.Name]; dup {
		return Invalid("name", "%q is also the name of columns[%d]", c.Name, j)
	}
	seen[c.Name] = i
	c.Type = strings.TrimSpace(c.Type)
	if len(c.Type) > MaxNameLen {
		return Invalid("type", "is %d bytes long; the limit is %d", len(c.Type), MaxNameLen)
	}
	if err := checkDescription(c.Description); err != nil {
		return InField("description", err)
	}
	if c.Ordinal == 0 {
		c.Ordinal = i + 1
	}
	if c.Ordinal < 0 {
		return Invalid("ordinal", "must be positive")
	}
	if j, dup := ordinals[c.Ordinal]; dup {
		return Invalid("ordinal", "%d is also the ordinal of columns[%d]", c.Ordinal, j)
	}
	ordinals[c.Ordinal] = i
	if fk := c.ForeignKey; fk != nil {
		var err error
		if fk.Namespace, err = NormalizeNamespace(fk.Namespace); err != nil {
			return InField("foreignKey.namespace", err)
		}
		if fk.Name, err = NormalizeName(fk.Name); err != nil {
			return InField("foreignKey.name", err)
		}
		if fk.Column, err = NormalizeName(fk.Column); err != nil {
			return InField("foreignKey.column", err)
		}
	}
	return nil
}

func (d *Dataset) normalizeConstraint(c *Constraint) error {
	switch c.Kind {
	case ConstraintPrimaryKey, ConstraintUnique, ConstraintForeignKey:
	default:
		return Invalid("kind", "%q is not a constraint kind", c.Kind)
	}
	if len(c.Columns) == 0 {
		return Invalid("columns", "must name at least one column")
	}
	for _, col := range c.Columns {
		if d.Column(col) == nil {
			return Invalid("columns", "%q is not a column of %s", col, d.Name)
		}
	}
	r := c.References
	if (c.Kind == ConstraintForeignKey) != (r != nil) {
		return Invalid("references", "a foreign key, and only a foreign key, references another dataset")
	}
	if r == nil {
		return nil
	}
	var err error
	if r.Namespace, err = NormalizeNamespace(r.Namespace); err != nil {
		return InField("references.namespace", err)
	}
	if r.Name, err = NormalizeName(r.Name); err != nil {
		return InField("references.name", err)
	}
	if len(r.Columns) != len(c.Columns) {
		return Invalid("references.columns", "names %d columns for %d", len(r.Columns), len(c.Columns))
	}
	return nil
}

func checkDescription(s string) error {
	return checkSize("", s, MaxDescriptionLen)
}

// checkSize refuses a text longer than max bytes as too large, naming
// field (or nothing, for the caller's InField to name).
func checkSize(field, s string, max int) error {
	if len(s) > max {
		return &Error{Code: ETOOLARGE, Field: field, Message: fmt.Sprintf("is %d bytes long; the limit is %d", len(s), max)}
	}
	return nil
}

// NormalizeLabels trims owners or tags, drops empty and duplicate ones and
// sorts them, so that the same set always compares equal.
func NormalizeLabels(in []string) ([]string, error) {
	if len(in) > MaxLabels {
		return nil, Invalid("", "has %d entries; the limit is %d", len(in), MaxLabels)
	}
	out := make([]string, 0, len(in))
	for i, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if err := checkText(s, MaxLabelLen); err != nil {
			return nil, InField(fmt.Sprintf("[%d]", i), err)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func joinKinds() string {
	s := make([]string, len(DatasetKinds))
	for i, k := range DatasetKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// DatasetUpdate is a person's edit of a dataset's metadata. Nil fields are
// left as they are. An empty Description removes the person's description,
// so the provided one shows again.
type DatasetUpdate struct {
	Description *string
	Owners      *[]string
	Tags        *[]string
	// ColumnDescriptions sets column descriptions by column name; an empty
	// value removes the edit.
	ColumnDescriptions map[string]string
	// Deprecation and Endorsement, when not nil, set or clear them.
	Deprecation *DeprecationUpdate
	Endorsement *EndorsementUpdate
}

// Normalize validates the update. Column names are checked against the
// dataset when the update is applied.
func (u *DatasetUpdate) Normalize() error {
	if u.Description != nil {
		if err := checkDescription(*u.Description); err != nil {
			return InField("description", err)
		}
	}
	for _, f := range []struct {
		name string
		v    **[]string
	}{{"owners", &u.Owners}, {"tags", &u.Tags}} {
		if *f.v == nil {
			continue
		}
		l, err := NormalizeLabels(**f.v)
		if err != nil {
			return InField(f.name, err)
		}
		if l == nil {
			l = []string{}
		}
		*f.v = &l
	}
	for name, desc := range u.ColumnDescriptions {
		if err := checkDescription(desc); err != nil {
			return InField("columns."+name+".description", err)
		}
	}
	if err := u.Deprecation.normalize(); err != nil {
		return err
	}
	return u.Endorsement.normalize()
}

// MetadataEdit is one entry of a dataset's metadata history: who changed
// which field from what to what.
type MetadataEdit struct {
	Seq   uint64    `json:"seq"` // the changelog sequence of the change
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Field string    `json:"field"` // description, owners, tags, columns.<name>.description, deprecated, endorsed
	Old   string    `json:"old"`
	New   string    `json:"new"`
}
