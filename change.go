package quarry

import "time"

// Change operations: what a changelog record says happened to its entity.
const (
	OpUpsert  = "upsert"  // created or provided metadata changed
	OpEdit    = "edit"    // a person edited metadata
	OpRemove  = "remove"  // marked removed
	OpRestore = "restore" // came back after being removed
	OpLineage = "lineage" // the edges leading into it changed
	OpRun     = "run"     // a job: one of its runs changed
	OpData    = "data"    // a dataset: its data changed (LastUpdatedAt moved)
	OpCheck   = "check"   // a dataset: a check result or metrics arrived
	OpPolicy  = "policy"  // a dataset: its freshness policy was set or removed
	OpStatus  = "status"  // a dataset: its freshness or check status changed, or one of its alerts
)

// Change is one changelog record: entity ID changed at At. The store
// appends one in the transaction of every write; followers (the search
// index, the lineage graph, the alert evaluator) read the entity's current
// state from the store, so the record says only what changed and in which
// order.
type Change struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Entity string    `json:"entity"` // EntityDataset, EntityJob, ...
	ID     string    `json:"id"`
	Op     string    `json:"op"`
}

// Identity names a lineage node: a dataset or a job.
type Identity struct {
	Entity    string // EntityDataset or EntityJob
	ID        string
	Namespace string
	Name      string
	Removed   bool // datasets only: marked removed
}
