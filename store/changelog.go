package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Change operations.
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

// Change is one changelog record: entity ID changed at At. Followers read
// the entity's current state from the store; the record says only what
// changed and in which order.
type Change struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Entity string    `json:"entity"` // quarry.EntityDataset, quarry.EntityJob, ...
	ID     string    `json:"id"`
	Op     string    `json:"op"`
}

// appendChange writes the next changelog record in tx and returns its
// sequence number.
func appendChange(tx *bolt.Tx, at time.Time, entity, id, op string) (uint64, error) {
	b := tx.Bucket(bucketChangelog)
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	v, err := json.Marshal(Change{Seq: seq, At: at, Entity: entity, ID: id, Op: op})
	if err != nil {
		return 0, err
	}
	return seq, b.Put(u64(seq), v)
}

// LastSeq returns the sequence number of the newest changelog record, 0 if
// there is none.
func (s *Store) LastSeq(ctx context.Context) (uint64, error) {
	var seq uint64
	err := s.view(func(tx *bolt.Tx) error {
		seq = tx.Bucket(bucketChangelog).Sequence()
		return nil
	})
	return seq, err
}

// Changes returns up to limit changelog records with sequence numbers
// greater than after, oldest first.
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []Change
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketChangelog).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			if len(out)%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var ch Change
			if err := json.Unmarshal(v, &ch); err != nil {
				return fmt.Errorf("changelog record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, err
}
