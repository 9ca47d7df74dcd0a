package quarry

import (
	"strings"
	"time"
)

// SchemaChangeKind says what changed in a dataset's schema.
type SchemaChangeKind string

const (
	DatasetCreated     SchemaChangeKind = "DATASET_CREATED"
	DatasetRemoved     SchemaChangeKind = "DATASET_REMOVED"
	DatasetRestored    SchemaChangeKind = "DATASET_RESTORED"
	DatasetRenamed     SchemaChangeKind = "DATASET_RENAMED" // Old is the previous namespace and name
	KindChanged        SchemaChangeKind = "KIND_CHANGED"
	DescriptionChanged SchemaChangeKind = "DESCRIPTION_CHANGED" // Column empty: the dataset's
	ColumnAdded        SchemaChangeKind = "COLUMN_ADDED"
	ColumnRemoved      SchemaChangeKind = "COLUMN_REMOVED"
	TypeChanged        SchemaChangeKind = "TYPE_CHANGED"
	NullabilityChanged SchemaChangeKind = "NULLABILITY_CHANGED"
	PrimaryKeyChanged  SchemaChangeKind = "PRIMARY_KEY_CHANGED"
	ForeignKeyChanged  SchemaChangeKind = "FOREIGN_KEY_CHANGED"
)

// SchemaChange is one entry of a dataset's schema history, as a crawler or
// pushing tool revealed it.
type SchemaChange struct {
	Seq    uint64           `json:"seq"` // the changelog sequence of the change; 0 for DATASET_CREATED
	At     time.Time        `json:"at"`
	Kind   SchemaChangeKind `json:"kind"`
	Column string           `json:"column,omitempty"`
	Old    string           `json:"old,omitempty"`
	New    string           `json:"new,omitempty"`
}

// DiffSchema returns the schema changes from old to new, as provided by
// crawlers and tools (people's edits are not schema changes). Columns are
// matched by name; column changes come in new's column order, removed
// columns last.
func DiffSchema(old, new *Dataset) []SchemaChange {
	var out []SchemaChange
	if old.Kind != new.Kind {
		out = append(out, SchemaChange{Kind: KindChanged, Old: string(old.Kind), New: string(new.Kind)})
	}
	if old.Provided.Description != new.Provided.Description {
		out = append(out, SchemaChange{Kind: DescriptionChanged, Old: old.Provided.Description, New: new.Provided.Description})
	}
	before := make(map[string]*Column, len(old.Columns))
	for i := range old.Columns {
		before[old.Columns[i].Name] = &old.Columns[i]
	}
	for i := range new.Columns {
		n := &new.Columns[i]
		o, ok := before[n.Name]
		if !ok {
			out = append(out, SchemaChange{Kind: ColumnAdded, Column: n.Name, New: columnSummary(n)})
			continue
		}
		delete(before, n.Name)
		if o.Type != n.Type {
			out = append(out, SchemaChange{Kind: TypeChanged, Column: n.Name, Old: o.Type, New: n.Type})
		}
		if o.Nullable != n.Nullable {
			out = append(out, SchemaChange{Kind: NullabilityChanged, Column: n.Name, Old: nullability(o.Nullable), New: nullability(n.Nullable)})
		}
		if o.Description != n.Description {
			out = append(out, SchemaChange{Kind: DescriptionChanged, Column: n.Name, Old: o.Description, New: n.Description})
		}
		if o.PrimaryKey != n.PrimaryKey {
			out = append(out, SchemaChange{Kind: PrimaryKeyChanged, Column: n.Name, Old: primaryKey(o.PrimaryKey), New: primaryKey(n.PrimaryKey)})
		}
		if a, b := o.ForeignKey.String(), n.ForeignKey.String(); a != b {
			out = append(out, SchemaChange{Kind: ForeignKeyChanged, Column: n.Name, Old: a, New: b})
		}
	}
	for i := range old.Columns {
		if o := &old.Columns[i]; before[o.Name] != nil {
			out = append(out, SchemaChange{Kind: ColumnRemoved, Column: o.Name, Old: columnSummary(o)})
		}
	}
	return out
}

func columnSummary(c *Column) string {
	var b strings.Builder
	b.WriteString(c.Type)
	if !c.Nullable {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("not null")
	}
	return b.String()
}

func nullability(n bool) string {
	if n {
		return "null"
	}
	return "not null"
}

func primaryKey(pk bool) string {
	if pk {
		return "primary key"
	}
	return ""
}

// String formats the reference as namespace/name.column, or "" for nil.
func (r *ColumnRef) String() string {
	if r == nil {
		return ""
	}
	return r.Namespace + "/" + r.Name + "." + r.Column
}
