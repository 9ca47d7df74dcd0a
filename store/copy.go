package store

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// copyKV copies every bucket of src, keys, values and sequence, into dst,
// which must not hold any of them yet. The bytes are copied: src's may be
// another engine's memory that dst must not keep.
func copyKV(dst, src kvTx) error {
	return src.ForEachBucket(func(name []byte) error {
		name = append([]byte(nil), name...)
		from := src.Bucket(name)
		to, err := dst.CreateBucketIfNotExists(name)
		if err != nil {
			return fmt.Errorf("copy bucket %s: %w", name, err)
		}
		if k, _ := to.Cursor().First(); k != nil {
			return fmt.Errorf("copy bucket %s: the destination already holds keys in it", name)
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

// writeBoltCopy writes the store, read in one transaction, to w as a bbolt
// store file: what WriteTo writes on the bbolt engine, so that a backup of
// a PostgreSQL store is a data directory's quarry.db too.
func (s *Store) writeBoltCopy(w io.Writer) (int64, error) {
	dir, err := os.MkdirTemp(filepath.Dir(s.path), ".copy-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	db, err := bolt.Open(filepath.Join(dir, "quarry.db"), 0o600, &bolt.Options{NoSync: true, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
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
