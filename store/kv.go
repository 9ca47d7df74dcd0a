package store

import (
	bolt "go.etcd.io/bbolt"
)

// The store's logic is written against this key-value contract, the part
// of bbolt's API it uses: named buckets of ordered keys, one writer at a
// time, read transactions that see a snapshot. Two engines provide it:
// bbolt (kv_bolt below, the embedded default) and PostgreSQL (kv_pg.go, a
// shared store for several replicas).
//
// Rules every engine keeps, because the code above relies on them:
//
//   - Keys are ordered bytewise (bytes.Compare); a cursor walks them in that
//     order, both ways.
//   - Update transactions are serialized (one writer, wherever it runs), and
//     a read-write transaction sees its own writes, cursors included.
//   - A bucket's sequence (Sequence, NextSequence) is part of its
//     transaction: a rollback takes the numbers back.
//   - Bytes returned by Get and by cursors are valid until the transaction
//     ends (bbolt's are its memory map; PostgreSQL's are owned copies): code
//     copies or decodes them first. Bytes given to Put must stay unchanged
//     until the transaction ends.
//   - Buckets are flat (none holds another) and Bucket returns nil for one
//     never created; PostgreSQL treats every bucket as existing, empty until
//     written, which reads the same.
//   - Errors an engine meets inside Get or a cursor (a dropped connection)
//     fail the transaction when it ends, so View and Update report them.
type kvDB interface {
	View(fn func(kvTx) error) error
	Update(fn func(kvTx) error) error
	Close() error
}

// kvTx is one transaction.
type kvTx interface {
	// Bucket returns the named bucket, nil if it does not exist.
	Bucket(name []byte) kvBucket
	CreateBucketIfNotExists(name []byte) (kvBucket, error)
	// ForEachBucket calls fn with each bucket's name, in order.
	ForEachBucket(fn func(name []byte) error) error
}

// kvBucket is a bucket within a transaction.
type kvBucket interface {
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	Cursor() kvCursor
	ForEach(fn func(k, v []byte) error) error
	Sequence() uint64
	NextSequence() (uint64, error)
	SetSequence(v uint64) error
}

// kvCursor walks a bucket in key order. Each method returns the key and
// value it moved to, or nil keys past either end.
type kvCursor interface {
	First() (key, value []byte)
	Last() (key, value []byte)
	Seek(key []byte) (key_, value []byte)
	Next() (key, value []byte)
	Prev() (key, value []byte)
}

// boltDB is the bbolt engine. Its transaction, bucket and cursor types are
// bbolt's own under other names, so wrapping costs no allocation.
type boltDB struct{ db *bolt.DB }

type (
	boltTx     bolt.Tx
	boltBucket bolt.Bucket
	boltCursor bolt.Cursor
)

func (d boltDB) View(fn func(kvTx) error) error {
	return d.db.View(func(tx *bolt.Tx) error { return fn((*boltTx)(tx)) })
}

func (d boltDB) Update(fn func(kvTx) error) error {
	return d.db.Update(func(tx *bolt.Tx) error { return fn((*boltTx)(tx)) })
}

// Close writes the freelist in a last commit (openBolt: commits before it
// do not), so that the next open reads it rather than walk the file to
// rebuild it. If that commit fails (a full disk), the next open walks.
func (d boltDB) Close() error {
	if !d.db.IsReadOnly() {
		d.db.NoFreelistSync = false
		_ = d.db.Update(func(*bolt.Tx) error { return nil })
	}
	return d.db.Close()
}

func (t *boltTx) Bucket(name []byte) kvBucket {
	b := (*bolt.Tx)(t).Bucket(name)
	if b == nil {
		return nil // an untyped nil, so that callers' nil checks work
	}
	return (*boltBucket)(b)
}

func (t *boltTx) CreateBucketIfNotExists(name []byte) (kvBucket, error) {
	b, err := (*bolt.Tx)(t).CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return (*boltBucket)(b), nil
}

func (t *boltTx) ForEachBucket(fn func(name []byte) error) error {
	return (*bolt.Tx)(t).ForEach(func(name []byte, _ *bolt.Bucket) error { return fn(name) })
}

func (b *boltBucket) SetSequence(v uint64) error    { return (*bolt.Bucket)(b).SetSequence(v) }
func (b *boltBucket) Get(key []byte) []byte         { return (*bolt.Bucket)(b).Get(key) }
func (b *boltBucket) Put(key, value []byte) error   { return (*bolt.Bucket)(b).Put(key, value) }
func (b *boltBucket) Delete(key []byte) error       { return (*bolt.Bucket)(b).Delete(key) }
func (b *boltBucket) Cursor() kvCursor              { return (*boltCursor)((*bolt.Bucket)(b).Cursor()) }
func (b *boltBucket) Sequence() uint64              { return (*bolt.Bucket)(b).Sequence() }
func (b *boltBucket) NextSequence() (uint64, error) { return (*bolt.Bucket)(b).NextSequence() }
func (b *boltBucket) ForEach(fn func(k, v []byte) error) error {
	return (*bolt.Bucket)(b).ForEach(fn)
}

func (c *boltCursor) First() ([]byte, []byte)        { return (*bolt.Cursor)(c).First() }
func (c *boltCursor) Last() ([]byte, []byte)         { return (*bolt.Cursor)(c).Last() }
func (c *boltCursor) Seek(k []byte) ([]byte, []byte) { return (*bolt.Cursor)(c).Seek(k) }
func (c *boltCursor) Next() ([]byte, []byte)         { return (*bolt.Cursor)(c).Next() }
func (c *boltCursor) Prev() ([]byte, []byte)         { return (*bolt.Cursor)(c).Prev() }

// kvHaser is an engine's check that a key exists that does not read its
// value: on PostgreSQL a job's record, which holds its SQL (up to a MiB),
// crossed the wire at every event of the job to say it was there.
type kvHaser interface {
	Has(key []byte) bool
}

// has reports whether key is in b.
func has(b kvBucket, key []byte) bool {
	if h, ok := b.(kvHaser); ok {
		return h.Has(key)
	}
	return b.Get(key) != nil
}

// kvPrefetcher is an engine's optional batch read: it reads keys of a
// bucket into the transaction at once, so that the Gets of them after it
// need no round trip each (PostgreSQL). bbolt, in memory, needs none.
type kvPrefetcher interface {
	Prefetch(keys [][]byte)
}

// kvBatchPrefetcher is an engine's read of keys of several buckets at
// once, in one round trip (PostgreSQL).
type kvBatchPrefetcher interface {
	PrefetchAll(reads []kvRead)
}

// prefetchAll reads the keys of reads ahead of their Gets where the engine
// gains by it.
func prefetchAll(tx kvTx, reads []kvRead) {
	if p, ok := tx.(kvBatchPrefetcher); ok {
		p.PrefetchAll(reads)
	}
}

// prefetch reads keys of b ahead of their Gets where the engine gains by it.
func prefetch(b kvBucket, keys [][]byte) {
	if p, ok := b.(kvPrefetcher); ok {
		p.Prefetch(keys)
	}
}
