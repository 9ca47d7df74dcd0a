package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/quarrydata/quarry"
)

// appendChange writes the next changelog record in tx and returns its
// sequence number.
func appendChange(tx kvTx, at time.Time, entity, id, op string) (uint64, error) {
	b := tx.Bucket(bucketChangelog)
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	v, err := json.Marshal(quarry.Change{Seq: seq, At: at, Entity: entity, ID: id, Op: op})
	if err != nil {
		return 0, err
	}
	return seq, b.Put(u64(seq), v)
}

// LastSeq returns the sequence number of the newest changelog record, 0 if
// there is none.
func (s *Store) LastSeq(ctx context.Context) (uint64, error) {
	var seq uint64
	err := s.view(func(tx kvTx) error {
		seq = tx.Bucket(bucketChangelog).Sequence()
		return nil
	})
	return seq, err
}

// Changes returns up to limit changelog records with sequence numbers
// greater than after, oldest first.
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]quarry.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []quarry.Change
	err := s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketChangelog).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			if len(out)%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var ch quarry.Change
			if err := json.Unmarshal(v, &ch); err != nil {
				return fmt.Errorf("changelog record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, err
}
