package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The PostgreSQL engine keeps every bucket in one table, kv(bucket, key,
// value), and each bucket's sequence in kv_seq. It keeps bbolt's
// semantics, which the store's logic relies on (kv.go):
//
//   - One writer cluster-wide: a read-write transaction first takes the
//     transaction-scoped advisory lock pgWriterLock, so writers of several
//     processes run one after another, and the changelog's sequence order
//     is its commit order (a follower reading "sequence > last" misses
//     nothing). It runs at READ COMMITTED on purpose: under REPEATABLE READ
//     its snapshot would be taken by the statement that waits for the lock,
//     before the previous writer's commit, and it would write over that
//     writer's changes.
//   - A read-only transaction is REPEATABLE READ READ ONLY: one snapshot,
//     as a bbolt read transaction sees.
//   - Writes are buffered in the transaction and sent in one round trip of
//     a few statements (an upsert and a delete per bucket, from arrays)
//     before the next cursor reads and at commit; Get answers from the
//     buffer first, so a transaction reads its own writes.
//   - Cursors fetch rows in key order in batches that grow from a few rows
//     (most cursors read one key or a short prefix) to pgMaxBatch.
//   - Errors inside Get and cursors (which bbolt's signatures cannot
//     return) are kept and fail the transaction when it ends.

// pgWriterLock is the advisory lock key of the store's writer: the ASCII
// of "quarrykv".
const pgWriterLock int64 = 0x7175617272796b76

const (
	pgFirstBatch = 8
	pgMaxBatch   = 1024
)

const pgSchemaSQL = `
CREATE TABLE IF NOT EXISTS kv (
	bucket text NOT NULL,
	key bytea NOT NULL,
	value bytea NOT NULL,
	PRIMARY KEY (bucket, key)
);
CREATE TABLE IF NOT EXISTS kv_seq (
	bucket text PRIMARY KEY,
	seq bigint NOT NULL
);`

// errTxReadOnly is a write in a read-only transaction, as bbolt's
// ErrTxNotWritable.
var errTxReadOnly = errors.New("store: write in a read-only transaction")

type pgDB struct {
	pool     *pgxpool.Pool
	readOnly bool
}

// openPostgres connects to the database dsn names and creates the kv
// tables if they are missing.
func openPostgres(dsn string, o *Options) (*pgDB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors repeat the connection string, password and all.
		return nil, errors.New("open the PostgreSQL store: the connection string is not valid (postgres://user:password@host:5432/db or key=value pairs)")
	}
	cfg.ConnConfig.ConnectTimeout = max(o.Timeout, 10*time.Second)
	if o.NoSync {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8 // the writer waits for the lock holding a connection; readers need theirs
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ConnConfig.ConnectTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return nil, fmt.Errorf("open the PostgreSQL store at %s: %w", where, err)
	}
	d := &pgDB{pool: pool, readOnly: o.ReadOnly}
	if !o.ReadOnly {
		// Under the writer's lock: two processes creating the tables at
		// once would collide in the catalog.
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", pgWriterLock); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, pgSchemaSQL)
			return err
		})
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("open the PostgreSQL store at %s: create its tables: %w", where, err)
		}
	}
	return d, nil
}

func (d *pgDB) Close() error {
	d.pool.Close()
	return nil
}

func (d *pgDB) View(fn func(kvTx) error) error {
	ctx := context.Background()
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("store: begin a read transaction: %w", err)
	}
	defer tx.Rollback(ctx)
	t := &pgTx{ctx: ctx, tx: tx}
	err = fn(t)
	if t.err != nil {
		return t.err
	}
	return err
}

func (d *pgDB) Update(fn func(kvTx) error) error {
	if d.readOnly {
		return errTxReadOnly
	}
	ctx := context.Background()
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin a write transaction: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", pgWriterLock); err != nil {
		return fmt.Errorf("store: take the writer's lock: %w", err)
	}
	t := &pgTx{ctx: ctx, tx: tx, writable: true}
	err = fn(t)
	if t.err != nil {
		return t.err
	}
	if err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

type pgWrite struct {
	v   []byte
	del bool
}

type pgSeq struct {
	v     uint64
	dirty bool
}

type pgTx struct {
	ctx      context.Context
	tx       pgx.Tx
	writable bool
	err      error                         // the first error of a Get or a cursor
	pending  map[string]map[string]pgWrite // bucket -> key -> write not sent yet
	seqs     map[string]*pgSeq             // bucket -> its sequence, once read
}

func (t *pgTx) fail(err error) {
	if t.err == nil {
		t.err = fmt.Errorf("store: %w", err)
	}
}

func (t *pgTx) Bucket(name []byte) kvBucket { return &pgBucket{t: t, name: string(name)} }

func (t *pgTx) CreateBucketIfNotExists(name []byte) (kvBucket, error) {
	if !t.writable {
		return nil, errTxReadOnly
	}
	return t.Bucket(name), nil
}

// ForEachBucket calls fn with the name of each bucket that holds a key or a
// sequence, in order.
func (t *pgTx) ForEachBucket(fn func(name []byte) error) error {
	if err := t.flush(); err != nil {
		return err
	}
	rows, err := t.tx.Query(t.ctx, "SELECT bucket FROM kv GROUP BY bucket UNION SELECT bucket FROM kv_seq ORDER BY 1")
	if err != nil {
		return fmt.Errorf("store: list buckets: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("store: list buckets: %w", err)
	}
	for _, n := range names {
		if err := fn([]byte(n)); err != nil {
			return err
		}
	}
	return nil
}

// flush sends the buffered writes.
func (t *pgTx) flush() error {
	if t.err != nil {
		return t.err
	}
	var batch pgx.Batch
	for bucket, m := range t.pending {
		var pk, pv, dk [][]byte
		for k, w := range m {
			if w.del {
				dk = append(dk, []byte(k))
			} else {
				pk, pv = append(pk, []byte(k)), append(pv, w.v)
			}
		}
		if len(dk) > 0 {
			batch.Queue("DELETE FROM kv WHERE bucket = $1 AND key = ANY($2)", bucket, dk)
		}
		if len(pk) > 0 {
			batch.Queue(`INSERT INTO kv (bucket, key, value) SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS u(k, v)
				ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value`, bucket, pk, pv)
		}
	}
	for name, s := range t.seqs {
		if s.dirty {
			batch.Queue("INSERT INTO kv_seq (bucket, seq) VALUES ($1, $2) ON CONFLICT (bucket) DO UPDATE SET seq = excluded.seq", name, int64(s.v))
			s.dirty = false
		}
	}
	clear(t.pending)
	if batch.Len() == 0 {
		return nil
	}
	if err := t.tx.SendBatch(t.ctx, &batch).Close(); err != nil {
		t.fail(err)
		return t.err
	}
	return nil
}

func (t *pgTx) write(bucket string, key []byte, w pgWrite) error {
	if !t.writable {
		return errTxReadOnly
	}
	if len(key) == 0 {
		return errors.New("store: key required")
	}
	if t.pending == nil {
		t.pending = make(map[string]map[string]pgWrite)
	}
	m := t.pending[bucket]
	if m == nil {
		m = make(map[string]pgWrite)
		t.pending[bucket] = m
	}
	m[string(key)] = w
	return nil
}

func (t *pgTx) seq(bucket string) *pgSeq {
	if s := t.seqs[bucket]; s != nil {
		return s
	}
	s := new(pgSeq)
	var v int64
	err := t.tx.QueryRow(t.ctx, "SELECT seq FROM kv_seq WHERE bucket = $1", bucket).Scan(&v)
	switch {
	case err == nil:
		s.v = uint64(v)
	case !errors.Is(err, pgx.ErrNoRows):
		t.fail(err)
	}
	if t.seqs == nil {
		t.seqs = make(map[string]*pgSeq)
	}
	t.seqs[bucket] = s
	return s
}

type pgBucket struct {
	t    *pgTx
	name string
}

func (b *pgBucket) Get(key []byte) []byte {
	if w, ok := b.t.pending[b.name][string(key)]; ok {
		if w.del {
			return nil
		}
		return w.v
	}
	if b.t.err != nil {
		return nil
	}
	var v []byte
	err := b.t.tx.QueryRow(b.t.ctx, "SELECT value FROM kv WHERE bucket = $1 AND key = $2", b.name, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		b.t.fail(err)
		return nil
	}
	if v == nil {
		v = []byte{}
	}
	return v
}

func (b *pgBucket) Put(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	return b.t.write(b.name, key, pgWrite{v: value})
}

func (b *pgBucket) Delete(key []byte) error {
	return b.t.write(b.name, key, pgWrite{del: true})
}

func (b *pgBucket) Sequence() uint64 { return b.t.seq(b.name).v }

func (b *pgBucket) NextSequence() (uint64, error) {
	if !b.t.writable {
		return 0, errTxReadOnly
	}
	s := b.t.seq(b.name)
	if b.t.err != nil {
		return 0, b.t.err
	}
	s.v++
	s.dirty = true
	return s.v, nil
}

// SetSequence sets the bucket's sequence, for copies of a store.
func (b *pgBucket) SetSequence(v uint64) error {
	if !b.t.writable {
		return errTxReadOnly
	}
	s := b.t.seq(b.name)
	s.v, s.dirty = v, true
	return b.t.err
}

func (b *pgBucket) Cursor() kvCursor { return &pgCursor{b: b} }

func (b *pgBucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.t.err
}

type pgRow struct{ k, v []byte }

// pgCursor holds the rows of its last fetch, in the order fetched.
type pgCursor struct {
	b     *pgBucket
	rows  []pgRow
	i     int  // the current row
	fwd   bool // rows are in ascending order
	short bool // the last fetch found fewer rows than it asked for: nothing lies beyond them
	off   int  // -1 before the first key, +1 past the last, 0 on rows[i]
	limit int
}

// fetch reads the rows after (or, !fwd, before) from, from included if
// incl; from nil means from the start (or the end).
func (c *pgCursor) fetch(fwd bool, from []byte, incl bool) ([]byte, []byte) {
	t := c.b.t
	if t.pending != nil {
		if err := t.flush(); err != nil {
			return c.end(fwd)
		}
	}
	if t.err != nil {
		return c.end(fwd)
	}
	if c.fwd != fwd || c.limit == 0 {
		c.limit = pgFirstBatch
	} else {
		c.limit = min(2*c.limit, pgMaxBatch)
	}
	var q string
	switch {
	case fwd && from == nil:
		q = "SELECT key, value FROM kv WHERE bucket = $1 ORDER BY key LIMIT $2"
	case fwd && incl:
		q = "SELECT key, value FROM kv WHERE bucket = $1 AND key >= $3 ORDER BY key LIMIT $2"
	case fwd:
		q = "SELECT key, value FROM kv WHERE bucket = $1 AND key > $3 ORDER BY key LIMIT $2"
	case from == nil:
		q = "SELECT key, value FROM kv WHERE bucket = $1 ORDER BY key DESC LIMIT $2"
	default:
		q = "SELECT key, value FROM kv WHERE bucket = $1 AND key < $3 ORDER BY key DESC LIMIT $2"
	}
	args := []any{c.b.name, c.limit}
	if from != nil {
		args = append(args, from)
	}
	rows, err := t.tx.Query(t.ctx, q, args...)
	if err != nil {
		t.fail(err)
		return c.end(fwd)
	}
	c.rows = c.rows[:0]
	for rows.Next() {
		var r pgRow
		if err := rows.Scan(&r.k, &r.v); err != nil {
			rows.Close()
			t.fail(err)
			return c.end(fwd)
		}
		if r.v == nil {
			r.v = []byte{}
		}
		c.rows = append(c.rows, r)
	}
	if err := rows.Err(); err != nil {
		t.fail(err)
		return c.end(fwd)
	}
	c.fwd, c.short, c.i = fwd, len(c.rows) < c.limit, 0
	if len(c.rows) == 0 {
		return c.end(fwd)
	}
	c.off = 0
	return c.rows[0].k, c.rows[0].v
}

// end moves the cursor off the end it was walking towards.
func (c *pgCursor) end(fwd bool) ([]byte, []byte) {
	c.rows, c.i = c.rows[:0], 0
	if fwd {
		c.off = 1
	} else {
		c.off = -1
	}
	return nil, nil
}

func (c *pgCursor) First() ([]byte, []byte) { c.limit = 0; return c.fetch(true, nil, false) }
func (c *pgCursor) Last() ([]byte, []byte)  { c.limit = 0; return c.fetch(false, nil, false) }

func (c *pgCursor) Seek(key []byte) ([]byte, []byte) {
	c.limit = 0
	return c.fetch(true, slices.Clone(key), true)
}

func (c *pgCursor) step(fwd bool) ([]byte, []byte) {
	switch {
	case c.off == 1 && fwd, c.off == -1 && !fwd:
		return nil, nil
	case c.off == 1: // bbolt: back from past the end is the last key
		return c.Last()
	case c.off == -1:
		return c.First()
	}
	if c.fwd == fwd {
		if c.i+1 < len(c.rows) {
			c.i++
			return c.rows[c.i].k, c.rows[c.i].v
		}
		if c.short {
			return c.end(fwd)
		}
	}
	return c.fetch(fwd, c.rows[c.i].k, false)
}

func (c *pgCursor) Next() ([]byte, []byte) { return c.step(true) }
func (c *pgCursor) Prev() ([]byte, []byte) { return c.step(false) }
