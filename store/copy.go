package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry"
)

// copyKV copies every bucket of src, keys, values and sequence, into dst,
// over what dst holds under the same keys. The bytes are copied: src's may
// be another engine's memory that dst must not keep.
func copyKV(dst, src kvTx) error {
	return src.ForEachBucket(func(name []byte) error {
		name = append([]byte(nil), name...)
		from := src.Bucket(name)
		to, err := dst.CreateBucketIfNotExists(name)
		if err != nil {
			return fmt.Errorf("copy bucket %s: %w", name, err)
		}
		c := from.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := to.Put(append([]byte(nil), k...), append([]byte(nil), v...)); err != nil {
				return fmt.Errorf("copy bucket %s: %w", name, err)
			}
		}
		return to.SetSequence(from.Sequence())
	})
}

// CopyTo copies every record of s into dst, which must be new (nothing
// written but what opening it wrote): the move of a catalog from one
// engine to the other (quarry migrate). Lineage events s accepted are
// applied first; s is read in one transaction, dst written in one, so a
// failed copy leaves dst as it was. Close dst afterwards: it is not meant
// to serve meanwhile (its search index and caches know nothing of it).
func (s *Store) CopyTo(ctx context.Context, dst *Store) error {
	if err := s.SyncLineage(ctx); err != nil {
		return err
	}
	var fresh bool
	err := dst.view(func(tx kvTx) error {
		fresh = tx.Bucket(bucketChangelog).Sequence() == 0 && counter(tx, keyDatasetCount) == 0
		return nil
	})
	if err != nil {
		return err
	}
	if !fresh {
		return quarry.Errorf(quarry.ECONFLICT, "the destination store is not empty: copy into a new one")
	}
	dst.closeMu.RLock()
	defer dst.closeMu.RUnlock()
	if dst.isClosed {
		return ErrClosed
	}
	err = s.view(func(src kvTx) error {
		return dst.db.Update(func(tx kvTx) error { return copyKV(tx, src) })
	})
	if err != nil {
		return fmt.Errorf("copy the store: %w", err)
	}
	seq, err := dst.LastSeq(ctx)
	if err == nil {
		err = dst.loadAliases()
	}
	dst.afterCommit(0, seq)
	return err
}

// writeBoltCopy writes the store, read in one transaction, to w as a bbolt
// store file: what WriteTo writes on the bbolt engine, so that a backup of
// a PostgreSQL store is a data directory's quarry.db too.
func (s *Store) writeBoltCopy(w io.Writer) (int64, error) {
	dir, err := os.MkdirTemp(filepath.Dir(s.path), ".copy-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	// With its freelist (as openBolt writes files), so that the copy opens
	// without a walk of every page.
	db, err := bolt.Open(filepath.Join(dir, "quarry.db"), 0o600, &bolt.Options{NoSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	err = s.view(func(src kvTx) error {
		return db.Update(func(tx *bolt.Tx) error { return copyKV((*boltTx)(tx), src) })
	})
	if err != nil {
		return 0, err
	}
	var n int64
	err = db.View(func(tx *bolt.Tx) (err error) {
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
