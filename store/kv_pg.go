package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// Advisory locks are per database, and a store is per schema (its kv
// tables are the first of the search path's): the locks are keyed by a
// class and a hash of the schema's name, so that stores in two schemas of
// one database (the tests' do) do not take each other's.
const (
	// pgWriterLock is taken by each read-write transaction: one writer.
	pgWriterLock = "pg_advisory_xact_lock(1903520369, hashtext(current_schema()))" // 'qkvw'
	// pgOpenLock is held by an open store, exclusive: one server per
	// store, as bbolt's file lock has it. It is shared when the store is
	// read-only or one of several replicas (Options.Replicas): replicas
	// share the schema with one another and with readers, never with a
	// store opened alone (a server not in replicas mode, quarry migrate).
	pgOpenLock = "1903520367, hashtext(current_schema())" // 'qkvo'
)

// pgChannel is the channel on which a replica's commits that appended to
// the changelog notify the others, with "origin:schema" as payload: the
// committing store's origin (a random name of each open store) and its
// schema's name. A store ignores its own notifications: it knows its
// commits already, and reading the changelog again after each of them
// cost it two read transactions a commit. A notification only wakes the
// followers: they read the changelog's sequence, the truth, and also poll
// it, so a notification lost (a dropped listening connection) only
// delays them.
const pgChannel = "quarry_kv_changes"

const (
	pgFirstBatch  = 8
	pgMaxBatch    = 1024
	pgFlushWrites = 8192 // writes buffered before they are sent, at most
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
	pool      *pgxpool.Pool
	cc        *pgx.ConnConfig
	schema    string // current_schema(), the payload of its notifications
	origin    string // its name in its notifications' payload
	readOnly  bool
	replicas  bool // Options.Replicas
	timeout   time.Duration
	roundTrip time.Duration // Options.RoundTripLimit

	mu    sync.Mutex
	owner *pgx.Conn // holds pgOpenLock while the store is open; replicas LISTEN on it

	stopFollow func()        // ends follow's goroutines
	followDone chan struct{} // closed when they have
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
	d := &pgDB{pool: pool, cc: cfg.ConnConfig, readOnly: o.ReadOnly, replicas: o.Replicas, timeout: o.Timeout, roundTrip: o.RoundTripLimit,
		origin: strconv.FormatUint(rand.Uint64(), 36)}
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&d.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open the PostgreSQL store at %s: %w", where, err)
	}
	if d.owner, err = d.lock(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open the PostgreSQL store at %s: %w", where, err)
	}
	if !o.ReadOnly {
		// Under the writer's lock: two processes creating the tables at
		// once would collide in the catalog.
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT "+pgWriterLock); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, pgSchemaSQL)
			return err
		})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("open the PostgreSQL store at %s: create its tables: %w", where, err)
		}
	}
	return d, nil
}

// lock takes pgOpenLock on a connection of its own, waiting up to
// d.timeout for another process to let it go.
func (d *pgDB) lock(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, d.cc.Copy())
	if err != nil {
		return nil, err
	}
	fn := "pg_try_advisory_lock"
	if d.readOnly || d.replicas {
		fn = "pg_try_advisory_lock_shared"
	}
	deadline := time.Now().Add(d.timeout)
	for {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT "+fn+"("+pgOpenLock+")").Scan(&ok); err != nil {
			conn.Close(ctx)
			return nil, err
		}
		if ok {
			return conn, nil
		}
		if time.Now().After(deadline) {
			conn.Close(ctx)
			if d.replicas {
				return nil, errors.New("another process holds it alone (a quarry server not in replicas mode, or quarry migrate)")
			}
			return nil, errors.New("another process (a running quarry server?) holds it")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// size is what the store's tables take on disk, indexes included; 0 when
// it cannot be read.
func (d *pgDB) size() int64 {
	var n int64
	err := d.pool.QueryRow(context.Background(), "SELECT pg_total_relation_size('kv') + pg_total_relation_size('kv_seq')").Scan(&n)
	if err != nil {
		return 0
	}
	return n
}

func (d *pgDB) Close() error {
	if d.stopFollow != nil {
		d.stopFollow()
		<-d.followDone
	}
	d.mu.Lock()
	if d.owner != nil {
		d.owner.Close(context.Background()) // and the lock with it
		d.owner = nil
	}
	d.mu.Unlock()
	d.pool.Close()
	return nil
}

// follow calls wake when another replica may have appended to the
// changelog: on each notification on pgChannel for this schema from
// another store, and every poll whatever arrives. Calls are not
// concurrent, and notifications that arrive during one are folded into
// the next. Close stops it.
func (d *pgDB) follow(poll time.Duration, log *slog.Logger, wake func()) {
	ctx, cancel := context.WithCancel(context.Background())
	d.stopFollow, d.followDone = cancel, make(chan struct{})
	kick := make(chan struct{}, 1)
	notify := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		d.listen(ctx, log, notify)
	}()
	go func() {
		defer close(d.followDone)
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				<-listening
				return
			case <-t.C:
			case <-kick:
			}
			wake()
		}
	}()
}

// listen LISTENs on the owner's connection and calls notify for each
// notification for this schema. When the connection breaks it connects
// again (taking the shared open lock again), with a backoff, and calls
// notify once listening: what was committed meanwhile is read then.
func (d *pgDB) listen(ctx context.Context, log *slog.Logger, notify func()) {
	d.mu.Lock()
	conn := d.owner
	d.mu.Unlock()
	wait := time.Second
	for ctx.Err() == nil {
		var err error
		if conn == nil {
			if conn, err = d.lock(ctx); err != nil {
				conn = nil
				if ctx.Err() == nil {
					log.Warn("store: reconnect to PostgreSQL for its notifications failed; polling meanwhile", "err", err, "retry_in", wait)
				}
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
				wait = min(2*wait, 30*time.Second)
				continue
			}
			d.mu.Lock()
			d.owner = conn
			d.mu.Unlock()
			log.Info("store: reconnected to PostgreSQL for its notifications")
		}
		if _, err = conn.Exec(ctx, "LISTEN "+pgChannel); err == nil {
			wait = time.Second
			notify()
			for {
				var n *pgconn.Notification
				if n, err = conn.WaitForNotification(ctx); err != nil {
					break
				}
				if origin, schema, _ := strings.Cut(n.Payload, ":"); schema == d.schema && origin != d.origin {
					notify()
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("store: lost the connection that hears other replicas' commits; polling until it is back", "err", err)
		d.mu.Lock()
		conn.Close(context.Background())
		d.owner, conn = nil, nil
		d.mu.Unlock()
	}
}

func (d *pgDB) View(fn func(kvTx) error) error {
	ctx, stall := d.watch()
	defer stall.end()
	done := stall.roundTrip() // the pool may connect, or ping an idle connection
	conn, err := d.pool.Acquire(ctx)
	done()
	if err != nil {
		return stall.explain(fmt.Errorf("store: begin a read transaction: %w", err))
	}
	defer conn.Release()
	// Sent with the first statement, in its round trip.
	t := &pgTx{ctx: ctx, stall: stall, conn: conn.Conn(), begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"}
	err = fn(t)
	if t.begin == "" {
		done := stall.roundTrip()
		if _, rerr := t.conn.Exec(ctx, "ROLLBACK"); rerr != nil {
			t.fail(rerr)
		}
		done()
	}
	if t.err != nil {
		return stall.explain(t.err)
	}
	return stall.explain(err)
}

func (d *pgDB) Update(fn func(kvTx) error) error {
	if d.readOnly {
		return errTxReadOnly
	}
	ctx, stall := d.watch()
	defer stall.end()
	done := stall.roundTrip() // the pool may connect, or ping an idle connection
	conn, err := d.pool.Acquire(ctx)
	done()
	if err != nil {
		return stall.explain(fmt.Errorf("store: begin a write transaction: %w", err))
	}
	defer conn.Release()
	// BEGIN, the writer's lock and the hot sequences go with the first
	// statement (opening): the group commit's read-ahead, most often, so
	// that its keys are read in the round trip that takes the lock, and
	// what fn computes before it runs outside the lock.
	t := &pgTx{ctx: ctx, stall: stall, conn: conn.Conn(), begin: "BEGIN", writable: true, replicas: d.replicas, notify: d.origin + ":" + d.schema}
	err = fn(t)
	if t.err == nil && err == nil {
		if err := t.flush(true); err != nil { // and COMMIT, in the same round trip
			t.rollback()
			return stall.explain(fmt.Errorf("store: commit: %w", err))
		}
		return nil
	}
	t.rollback()
	if t.err != nil {
		return stall.explain(t.err)
	}
	return stall.explain(err)
}

// rollback ends a write transaction that will not commit, if it began.
func (t *pgTx) rollback() {
	if t.begin == "" {
		done := t.stall.roundTrip()
		t.conn.Exec(t.ctx, "ROLLBACK")
		done()
	}
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
	stall    *pgStall // cancels ctx when a round trip goes unanswered
	conn     *pgx.Conn
	begin    string // BEGIN until it is sent, with the transaction's first statement
	writable bool
	replicas bool                          // notify the other replicas of a commit that appended to the changelog
	notify   string                        // the payload of that notification
	changed  bool                          // the changelog's sequence moved
	err      error                         // the first error of a Get or a cursor
	pending  map[string]map[string]pgWrite // bucket -> key -> write not sent yet
	seqs     map[string]*pgSeq             // bucket -> its sequence, once read
	got      map[string][]byte             // bucket \x00 key -> value (nil: none), as read
	npending int                           // writes in pending, about (a key written twice counts twice)
	unsent   pgx.Batch                     // writes staged to go ahead of the next statement
	gen      uint64                        // writes so far: cursors refetch after one
	ranges   map[string][]*pgRange         // bucket -> key ranges read whole, by lo, disjoint
	exists   map[string]bool               // bucket \x00 key -> whether it exists, as read (Has), value not read
}

// pgHotSeqs are the sequences every write transaction reads (the group
// commit the changelog's, a replica's accept the lineage queue's): read
// with the writer's lock, in its round trip.
var pgHotSeqs = []string{string(bucketChangelog), string(bucketLineageQueue)}

// opening queues the transaction's opening statements if they are not
// sent yet: BEGIN, and for a read-write transaction the writer's lock and
// the hot sequences, whose read it returns the index of (-1: none).
func (t *pgTx) opening(b *pgx.Batch) (seqsAt int) {
	if t.begin == "" {
		return -1
	}
	b.Queue(t.begin)
	t.begin = ""
	if !t.writable {
		return -1
	}
	// READ COMMITTED: each statement after the lock sees the commits of
	// the writers before.
	b.Queue("SELECT " + pgWriterLock)
	b.Queue("SELECT bucket, seq FROM kv_seq WHERE bucket = ANY($1)", pgHotSeqs)
	return b.Len() - 1
}

// send sends, in one round trip, the opening statements not sent yet, the
// staged writes, and then sql if it is not empty. It reads every result
// but sql's, which the caller reads from the batch it returns and closes.
func (t *pgTx) send(sql string, args ...any) (pgx.BatchResults, error) {
	var b pgx.Batch
	seqsAt := t.opening(&b)
	b.QueuedQueries = append(b.QueuedQueries, t.unsent.QueuedQueries...) // staged writes
	t.unsent = pgx.Batch{}
	n := b.Len()
	if sql != "" {
		b.Queue(sql, args...)
	}
	done := t.stall.roundTrip()
	defer done()
	br := t.conn.SendBatch(t.ctx, &b)
	for i := range n {
		var err error
		if i == seqsAt {
			err = t.readSeqs(br)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			br.Close()
			return nil, err
		}
	}
	return br, nil
}

// readSeqs reads the hot sequences' row of the opening.
func (t *pgTx) readSeqs(br pgx.BatchResults) error {
	if t.seqs == nil {
		t.seqs = make(map[string]*pgSeq)
	}
	for _, name := range pgHotSeqs {
		if t.seqs[name] == nil {
			t.seqs[name] = new(pgSeq) // 0 unless found
		}
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return err
		}
		t.seqs[name].v = uint64(v)
	}
	rows.Close()
	return rows.Err()
}

// query runs a statement of the transaction, after its opening if that is
// not sent yet and the writes staged for it, in the same round trip. The
// caller closes the rows.
func (t *pgTx) query(sql string, args ...any) (pgx.Rows, error) {
	if t.begin == "" && t.unsent.Len() == 0 {
		done := t.stall.roundTrip()
		defer done()
		return t.conn.Query(t.ctx, sql, args...)
	}
	br, err := t.send(sql, args...)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// queryRow is query for one row; found is false when there is none.
func (t *pgTx) queryRow(dst []any, sql string, args ...any) (found bool, err error) {
	rows, err := t.query(sql, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return false, err
		}
		found = true
	}
	rows.Close()
	return found, rows.Err()
}

// batchRows are the rows of a statement sent in a batch: closing them
// closes the batch, whose error they then report.
type batchRows struct {
	pgx.Rows
	br  pgx.BatchResults
	err error
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if r.br != nil {
		r.err = r.br.Close()
		r.br = nil
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
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
	if err := t.flush(false); err != nil {
		return err
	}
	rows, err := t.query("SELECT bucket FROM kv GROUP BY bucket UNION SELECT bucket FROM kv_seq ORDER BY 1")
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

// flush sends the buffered writes, and COMMIT after them if commit.
func (t *pgTx) flush(commit bool) error {
	if t.err != nil {
		return t.err
	}
	if commit && t.begin != "" && len(t.pending) == 0 && !t.seqsDirty() {
		return nil // it read nothing and wrote nothing: nothing to send
	}
	t.stage(commit)
	if t.unsent.Len() == 0 && t.begin == "" {
		return nil
	}
	br, err := t.send("")
	if err == nil {
		err = br.Close()
	}
	if err != nil {
		t.fail(err)
		return t.err
	}
	return nil
}

func (t *pgTx) seqsDirty() bool {
	for _, s := range t.seqs {
		if s.dirty {
			return true
		}
	}
	return false
}

// stage turns the buffered writes into statements that go with the
// transaction's next one (a cursor's read sends them ahead of it, in its
// round trip), and COMMIT after them if commit.
func (t *pgTx) stage(commit bool) {
	batch := &t.unsent
	// One upsert for every bucket's writes (a statement costs the server
	// more than the rows of a commit do), a delete per bucket: its index
	// scan of the bucket's keys is the plan whatever the table's size.
	var pb []string
	var pk, pv [][]byte
	for bucket, m := range t.pending {
		var dk [][]byte
		for k, w := range m {
			if w.del {
				dk = append(dk, []byte(k))
			} else {
				pb, pk, pv = append(pb, bucket), append(pk, []byte(k)), append(pv, w.v)
			}
		}
		if len(dk) > 0 {
			batch.Queue("DELETE FROM kv WHERE bucket = $1 AND key = ANY($2)", bucket, dk)
		}
	}
	if len(pk) > 0 {
		batch.Queue(`INSERT INTO kv (bucket, key, value) SELECT b, k, v FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS u(b, k, v)
			ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value`, pb, pk, pv)
	}
	var sb []string
	var sv []int64
	for name, s := range t.seqs {
		if s.dirty {
			sb, sv = append(sb, name), append(sv, int64(s.v))
			s.dirty = false
		}
	}
	if len(sb) > 0 {
		batch.Queue(`INSERT INTO kv_seq (bucket, seq) SELECT * FROM unnest($1::text[], $2::bigint[])
			ON CONFLICT (bucket) DO UPDATE SET seq = excluded.seq`, sb, sv)
	}
	if !commit && t.npending < pgFlushWrites {
		// Sent for a cursor's read: what they wrote is what a Get
		// of their keys would read back, and a group commit's writes read
		// their own keys again (a run's second event, its edges). A bulk
		// write's flush (pgFlushWrites) keeps its memory instead.
		if t.got == nil {
			t.got = make(map[string][]byte)
		}
		for bucket, m := range t.pending {
			for k, w := range m {
				t.got[bucket+"\x00"+k] = w.v // nil: deleted
			}
		}
	}
	clear(t.pending)
	t.npending = 0
	if commit {
		if t.changed {
			// Delivered at commit, and only if it commits.
			batch.Queue("SELECT pg_notify('"+pgChannel+"', $1)", t.notify)
		}
		batch.Queue("COMMIT")
	}
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
	t.gen++
	if t.got != nil {
		delete(t.got, bucket+"\x00"+string(key))
	}
	if t.ranges != nil {
		t.wroteInRange(bucket, key, w)
	}
	delete(t.exists, bucket+"\x00"+string(key))
	// A bulk write (a copy of a whole store, a large crawl) is sent as it
	// goes rather than held in memory to the end.
	if t.npending++; t.npending >= pgFlushWrites {
		return t.flush(false)
	}
	return nil
}

func (t *pgTx) seq(bucket string) *pgSeq {
	if s := t.seqs[bucket]; s != nil {
		return s
	}
	if t.begin != "" && t.writable && slices.Contains(pgHotSeqs, bucket) {
		// Read with the opening, sent alone now.
		if br, err := t.send(""); err != nil {
			t.fail(err)
		} else if err := br.Close(); err != nil {
			t.fail(err)
		}
		if s := t.seqs[bucket]; s != nil {
			return s
		}
	}
	s := new(pgSeq)
	var v int64
	if found, err := t.queryRow([]any{&v}, "SELECT seq FROM kv_seq WHERE bucket = $1", bucket); err != nil {
		t.fail(err)
	} else if found {
		s.v = uint64(v)
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
	// Reads are remembered: a group commit's writes read the same keys
	// (the meta counters, a job, its datasets) again and again.
	ck := b.name + "\x00" + string(key)
	if v, ok := b.t.got[ck]; ok {
		return v
	}
	if r := b.t.rangeOf(b.name, key); r != nil {
		if i, found := r.find(key); found {
			return r.rows[i].v
		}
		return nil
	}
	var v []byte
	found, err := b.t.queryRow([]any{&v}, "SELECT value FROM kv WHERE bucket = $1 AND key = $2", b.name, key)
	if err != nil {
		b.t.fail(err)
		return nil
	}
	if found && v == nil {
		v = []byte{}
	}
	if b.t.got == nil {
		b.t.got = make(map[string][]byte)
	}
	b.t.got[ck] = v
	return v
}

// Has answers from what the transaction wrote or read, else reads whether
// the key exists, not its value.
func (b *pgBucket) Has(key []byte) bool {
	if w, ok := b.t.pending[b.name][string(key)]; ok {
		return !w.del
	}
	if b.t.err != nil {
		return false
	}
	ck := b.name + "\x00" + string(key)
	if v, ok := b.t.got[ck]; ok {
		return v != nil
	}
	if e, ok := b.t.exists[ck]; ok {
		return e
	}
	if r := b.t.rangeOf(b.name, key); r != nil {
		_, found := r.find(key)
		return found
	}
	var one int
	found, err := b.t.queryRow([]any{&one}, "SELECT 1 FROM kv WHERE bucket = $1 AND key = $2", b.name, key)
	if err != nil {
		b.t.fail(err)
		return false
	}
	if b.t.exists == nil {
		b.t.exists = make(map[string]bool)
	}
	b.t.exists[ck] = found
	return found
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
	b.t.changed = b.t.changed || b.t.replicas && (b.name == string(bucketChangelog) || b.name == string(bucketLineageQueue))
	return s.v, nil
}

// SetSequence sets the bucket's sequence, for copies of a store.
func (b *pgBucket) SetSequence(v uint64) error {
	if !b.t.writable {
		return errTxReadOnly
	}
	s := b.t.seq(b.name)
	s.v, s.dirty = v, true
	b.t.changed = b.t.changed || b.t.replicas && b.name == string(bucketChangelog)
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

// pgCursor holds the rows of its last fetch, in the order fetched, and
// moves as bbolt's cursor does at the ends: a Next or Prev that finds
// nothing returns nil and stays on the key it was on (so that a Prev
// after a Next past the last key returns the one before the last); after
// a Seek past the last key, Prev returns the last.
type pgCursor struct {
	b       *pgBucket
	rows    []pgRow
	i       int    // the current row, when on one
	on      bool   // on rows[i]
	pastEnd bool   // after a Seek or First found nothing
	fwd     bool   // rows are in ascending order
	short   bool   // the fetch found fewer rows than it asked for: none lie beyond them
	limit   int    // rows the last fetch asked for
	gen     uint64 // the transaction's writes when the rows were fetched
}

// fetch reads the rows after (or, !fwd, before) from, from included if
// incl; from nil means from the start (or the end). It leaves the cursor
// where it was when it finds none.
func (c *pgCursor) fetch(fwd bool, from []byte, incl bool) (rows []pgRow, ok bool) {
	t := c.b.t
	if len(t.pending) > 0 || t.seqs != nil {
		t.stage(false) // sent with the read below
	}
	if t.err != nil {
		return nil, false
	}
	limit := pgFirstBatch
	if c.fwd == fwd && c.limit > 0 {
		limit = min(2*c.limit, pgMaxBatch)
	}
	if fwd {
		if rows, short, ok := t.fromRange(c.b.name, from, incl, limit); ok {
			if len(rows) == 0 {
				return nil, false
			}
			c.rows, c.i, c.on, c.pastEnd = rows, 0, true, false
			c.fwd, c.short, c.limit, c.gen = fwd, short, limit, t.gen
			return rows, true
		}
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
	args := []any{c.b.name, limit}
	if from != nil {
		args = append(args, from)
	}
	r, err := t.query(q, args...)
	if err != nil {
		t.fail(err)
		return nil, false
	}
	defer r.Close()
	for r.Next() {
		var row pgRow
		if err := r.Scan(&row.k, &row.v); err != nil {
			t.fail(err)
			return nil, false
		}
		if row.v == nil {
			row.v = []byte{}
		}
		rows = append(rows, row)
	}
	r.Close()
	if err := r.Err(); err != nil {
		t.fail(err)
		return nil, false
	}
	if len(rows) == 0 {
		return nil, false
	}
	c.rows, c.i, c.on, c.pastEnd = rows, 0, true, false
	c.fwd, c.short, c.limit, c.gen = fwd, len(rows) < limit, limit, t.gen
	return rows, true
}

func (c *pgCursor) at() ([]byte, []byte) { return c.rows[c.i].k, c.rows[c.i].v }

// reset positions the cursor afresh (First, Last, Seek).
func (c *pgCursor) reset(fwd bool, from []byte, incl bool) ([]byte, []byte) {
	c.limit = 0
	if _, ok := c.fetch(fwd, from, incl); !ok {
		c.rows, c.on, c.pastEnd = nil, false, true
		return nil, nil
	}
	return c.at()
}

func (c *pgCursor) First() ([]byte, []byte) { return c.reset(true, nil, false) }
func (c *pgCursor) Last() ([]byte, []byte)  { return c.reset(false, nil, false) }

func (c *pgCursor) Seek(key []byte) ([]byte, []byte) {
	return c.reset(true, slices.Clone(key), true)
}

func (c *pgCursor) step(fwd bool) ([]byte, []byte) {
	if !c.on { // never positioned (bbolt answers nil), or past the end
		if c.pastEnd && !fwd {
			return c.Last()
		}
		return nil, nil
	}
	// The rows in hand go on in this direction, unless the transaction
	// wrote since they were read.
	if c.fwd == fwd && c.gen == c.b.t.gen {
		if c.i+1 < len(c.rows) {
			c.i++
			return c.at()
		}
		if c.short {
			return nil, nil // and stay
		}
	}
	if _, ok := c.fetch(fwd, c.rows[c.i].k, false); !ok {
		return nil, nil // and stay
	}
	return c.at()
}

func (c *pgCursor) Next() ([]byte, []byte) { return c.step(true) }
func (c *pgCursor) Prev() ([]byte, []byte) { return c.step(false) }

// Prefetch reads the keys not read or written yet, a thousand per
// statement, into what the transaction remembers.
func (b *pgBucket) Prefetch(keys [][]byte) {
	t := b.t
	var want [][]byte
	for _, k := range keys {
		ck := b.name + "\x00" + string(k)
		if _, ok := t.got[ck]; ok {
			continue
		}
		if _, ok := t.pending[b.name][string(k)]; ok {
			continue
		}
		want = append(want, k)
	}
	if t.got == nil {
		t.got = make(map[string][]byte, len(want))
	}
	for len(want) > 0 && t.err == nil {
		n := min(len(want), 1000)
		chunk := want[:n]
		want = want[n:]
		for _, k := range chunk {
			t.got[b.name+"\x00"+string(k)] = nil // none, unless found
		}
		rows, err := t.query("SELECT key, value FROM kv WHERE bucket = $1 AND key = ANY($2)", b.name, chunk)
		if err != nil {
			t.fail(err)
			break
		}
		for rows.Next() {
			var k, v []byte
			if err := rows.Scan(&k, &v); err != nil {
				t.fail(err)
				break
			}
			if v == nil {
				v = []byte{}
			}
			t.got[b.name+"\x00"+string(k)] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.fail(err)
		}
	}
}

// PrefetchAll is Prefetch for keys of several buckets, and the ranges of
// keys under prefixes that cursors will walk, in one statement: a
// transaction that knows what it will read pays one round trip for it.
func (t *pgTx) PrefetchAll(reads []kvRead) {
	var buckets []string
	var keys [][]byte
	var only []bool // keys asked whether they exist only
	var rb []string
	var rlo, rhi [][]byte
	var asked map[string]bool // ranges, once each (events of one job)
	if t.got == nil {
		t.got = make(map[string][]byte)
	}
	for _, r := range reads {
		name := string(r.bucket)
		for _, k := range r.keys {
			ck := name + "\x00" + string(k)
			if _, ok := t.got[ck]; ok {
				continue
			}
			if _, ok := t.pending[name][string(k)]; ok {
				continue
			}
			if r.existsOnly {
				if _, ok := t.exists[ck]; ok {
					continue
				}
				if t.exists == nil {
					t.exists = make(map[string]bool)
				}
				t.exists[ck] = false // unless found
			} else {
				t.got[ck] = nil // none, unless found
			}
			buckets, keys, only = append(buckets, name), append(keys, k), append(only, r.existsOnly)
		}
		for _, p := range r.prefixes {
			end := prefixEnd(p)
			if r := t.rangeOf(name, p); end == nil || r != nil && r.holds(end) || asked[name+"\x00"+string(p)] {
				continue // all 0xff (no end: read by cursors), or read already
			}
			if asked == nil {
				asked = make(map[string]bool)
			}
			asked[name+"\x00"+string(p)] = true
			rb, rlo, rhi = append(rb, name), append(rlo, slices.Clone(p)), append(rhi, end)
		}
	}
	if len(rb) > 0 {
		// The database must see the transaction's writes in the ranges:
		// they go ahead of the read, in its round trip.
		t.stage(false)
	}
	for (len(keys) > 0 || len(rb) > 0) && t.err == nil {
		n := min(len(keys), 4000)
		rows, err := t.query(pgPrefetchSQL, buckets[:n], keys[:n], only[:n], rb, rlo, rhi, pgRangeRows)
		buckets, keys, only = buckets[n:], keys[n:], only[n:]
		if err != nil {
			t.fail(err)
			break
		}
		ranges := make([]pgRange, len(rb))
		tails := make([]bool, len(rb))
		counts := make([]int, len(rb))
		for rows.Next() {
			var i int
			var tail bool
			var b string
			var k, v []byte
			if err := rows.Scan(&i, &tail, &b, &k, &v); err != nil {
				t.fail(err)
				break
			}
			if i == -1 { // a key asked whether it exists
				t.exists[b+"\x00"+string(k)] = true
				continue
			}
			if v == nil {
				v = []byte{}
			}
			if i == 0 {
				t.got[b+"\x00"+string(k)] = v
				continue
			}
			// A range's rows under its prefix, and its tail: the first
			// key after them, which a cursor walking the prefix reads to
			// learn it ended.
			ranges[i-1].rows = append(ranges[i-1].rows, pgRow{k, v})
			if tail {
				tails[i-1] = true
			} else {
				counts[i-1]++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.fail(err)
		}
		if t.err != nil {
			break
		}
		for i := range ranges {
			r := &ranges[i]
			slices.SortFunc(r.rows, func(a, b pgRow) int { return bytes.Compare(a.k, b.k) })
			r.lo = rlo[i]
			switch {
			case counts[i] == pgRangeRows: // more, maybe: what was read
				r.rows = r.rows[:counts[i]]
				r.hi = r.rows[len(r.rows)-1].k
			case tails[i]:
				r.hi = r.rows[len(r.rows)-1].k
			default: // nothing after the prefix: to the bucket's end
			}
			t.addRange(rb[i], r)
		}
		rb, rlo, rhi = nil, nil, nil
	}
}

// pgRangeRows is the most rows PrefetchAll reads of one prefix; a cursor
// reads on from the database past them.
const pgRangeRows = 256

// pgPrefetchSQL reads keys ($1 buckets, $2 keys: rows numbered 0, or -1
// and no value for those $3 asks whether they exist only) and ranges ($4
// buckets, $5 prefixes, $6 their ends: rows numbered from 1, the range's
// rows up to $7 and its tail, the first key at or after the end).
const pgPrefetchSQL = `SELECT CASE WHEN u.x THEN -1 ELSE 0 END, false, kv.bucket, kv.key, CASE WHEN u.x THEN NULL ELSE kv.value END
	FROM unnest($1::text[], $2::bytea[], $3::bool[]) AS u(b, k, x) JOIN kv ON kv.bucket = u.b AND kv.key = u.k
UNION ALL
SELECT r.i::int, x.tail, r.b, x.key, x.value
	FROM unnest($4::text[], $5::bytea[], $6::bytea[]) WITH ORDINALITY AS r(b, lo, hi, i)
	CROSS JOIN LATERAL (
		(SELECT false AS tail, key, value FROM kv WHERE bucket = r.b AND key >= r.lo AND key < r.hi ORDER BY key LIMIT $7)
		UNION ALL
		(SELECT true, key, value FROM kv WHERE bucket = r.b AND key >= r.hi ORDER BY key LIMIT 1)
	) AS x`

// prefixEnd returns the first key after every key with prefix p, nil if
// there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	end := slices.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// pgLeaseLock is the session-level advisory lock of one task of singleton
// work (Store.RunSingleton): held by one replica's connection at a time,
// and let go by PostgreSQL when that connection drops.
const pgLeaseLock = "1903520372, hashtext(current_schema() || '/' || $1)" // 'qkvt'

// lease tries once to take task's lease on conn, a connection of its own
// (connecting when it is nil). It returns the connection, to try again
// with, and whether it holds the lease; after an error conn is closed.
func (d *pgDB) lease(ctx context.Context, conn *pgx.Conn, task string) (*pgx.Conn, bool, error) {
	if conn == nil {
		cc := d.cc.Copy()
		cc.RuntimeParams["application_name"] = "quarry lease " + task
		var err error
		if conn, err = pgx.ConnectConfig(ctx, cc); err != nil {
			return nil, false, err
		}
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock("+pgLeaseLock+")", task).Scan(&ok); err != nil {
		conn.Close(context.Background())
		return nil, false, err
	}
	return conn, ok, nil
}

// pgRange is a range of a bucket's keys a transaction read whole (its
// PrefetchAll of a prefix) and keeps current with its own writes, so that
// cursors walking it (a job's edges, a run's) need no round trip.
type pgRange struct {
	lo, hi []byte  // every key of the bucket in [lo, hi] is in rows; hi nil: to the bucket's end
	rows   []pgRow // in key order
}

func (r *pgRange) holds(k []byte) bool {
	return bytes.Compare(r.lo, k) <= 0 && (r.hi == nil || bytes.Compare(k, r.hi) <= 0)
}

// find returns the index of the first row at or after k, and whether it
// is k.
func (r *pgRange) find(k []byte) (int, bool) {
	return slices.BinarySearchFunc(r.rows, k, func(row pgRow, k []byte) int { return bytes.Compare(row.k, k) })
}

// rangeOf returns the range of bucket that holds k, nil if none does.
func (t *pgTx) rangeOf(bucket string, k []byte) *pgRange {
	rs := t.ranges[bucket]
	// The last range whose lo is at or before k.
	i, found := slices.BinarySearchFunc(rs, k, func(r *pgRange, k []byte) int { return bytes.Compare(r.lo, k) })
	if !found {
		i--
	}
	if i < 0 || !rs[i].holds(k) {
		return nil
	}
	return rs[i]
}

// wroteInRange keeps the range that holds key current with a write of it.
func (t *pgTx) wroteInRange(bucket string, key []byte, w pgWrite) {
	r := t.rangeOf(bucket, key)
	if r == nil {
		return
	}
	i, found := r.find(key)
	switch {
	case w.del && found:
		r.rows = slices.Delete(r.rows, i, i+1)
	case w.del:
	case found:
		r.rows[i].v = w.v
	default:
		r.rows = slices.Insert(r.rows, i, pgRow{k: slices.Clone(key), v: w.v})
	}
}

// addRange adds a range read whole, merging it with the ranges it
// overlaps (all of them current: read or kept so).
func (t *pgTx) addRange(bucket string, nr *pgRange) {
	if t.ranges == nil {
		t.ranges = make(map[string][]*pgRange)
	}
	overlaps := func(a, b *pgRange) bool {
		return (a.hi == nil || bytes.Compare(b.lo, a.hi) <= 0) && (b.hi == nil || bytes.Compare(a.lo, b.hi) <= 0)
	}
	var keep []*pgRange
	for _, r := range t.ranges[bucket] {
		if !overlaps(r, nr) {
			keep = append(keep, r)
			continue
		}
		if bytes.Compare(r.lo, nr.lo) < 0 {
			nr.lo = r.lo
		}
		if nr.hi != nil && (r.hi == nil || bytes.Compare(r.hi, nr.hi) > 0) {
			nr.hi = r.hi
		}
		nr.rows = append(nr.rows, r.rows...)
	}
	slices.SortStableFunc(nr.rows, func(a, b pgRow) int { return bytes.Compare(a.k, b.k) })
	nr.rows = slices.CompactFunc(nr.rows, func(a, b pgRow) bool { return bytes.Equal(a.k, b.k) })
	keep = append(keep, nr)
	slices.SortFunc(keep, func(a, b *pgRange) int { return bytes.Compare(a.lo, b.lo) })
	t.ranges[bucket] = keep
}

// fromRange answers a forward cursor's fetch from a range read whole:
// the rows after from (from included if incl), at most limit, and whether
// none lie beyond them. It says !ok when no range holds from, or when the
// range holds no row after from but keys beyond its end may exist: then
// the database answers.
func (t *pgTx) fromRange(bucket string, from []byte, incl bool, limit int) (rows []pgRow, short, ok bool) {
	if from == nil {
		return nil, false, false
	}
	r := t.rangeOf(bucket, from)
	if r == nil {
		return nil, false, false
	}
	i, found := r.find(from)
	if found && !incl {
		i++
	}
	rest := r.rows[i:]
	if len(rest) == 0 {
		return nil, true, r.hi == nil
	}
	n := min(len(rest), limit)
	return slices.Clone(rest[:n]), r.hi == nil && n == len(rest), true
}

// DefaultRoundTripLimit is how long a transaction waits for PostgreSQL to
// answer one round trip before it gives up as if the database were down
// (unavailable). A server that is down or restarting refuses connections
// at once; one that hangs (frozen, or cut off by a partition that drops
// packets) would otherwise hold the request, its connection and, for a
// write, the group commit forever: TCP keeps a stopped peer's connection.
const DefaultRoundTripLimit = 30 * time.Second

// pgStall cancels a transaction's context when one of its round trips
// goes unanswered for longer than its limit. Time spent between round
// trips (what the caller does with what it read) does not count.
type pgStall struct {
	limit   time.Duration
	cancel  context.CancelFunc
	stalled atomic.Bool
}

// watch returns a transaction's context and its watchdog.
func (d *pgDB) watch() (context.Context, *pgStall) {
	ctx, cancel := context.WithCancel(context.Background())
	return ctx, &pgStall{limit: cmp.Or(d.roundTrip, DefaultRoundTripLimit), cancel: cancel}
}

// roundTrip starts timing a round trip; the function it returns ends it.
func (w *pgStall) roundTrip() (done func()) {
	t := time.AfterFunc(w.limit, func() {
		w.stalled.Store(true)
		w.cancel()
	})
	return func() { t.Stop() }
}

// end releases the transaction's context.
func (w *pgStall) end() { w.cancel() }

// explain says that a transaction failed because PostgreSQL stopped
// answering, when it did: a timeout, which reachable turns into
// unavailable.
func (w *pgStall) explain(err error) error {
	if err == nil || !w.stalled.Load() {
		return err
	}
	return fmt.Errorf("store: PostgreSQL did not answer within %s: %w (%w)", w.limit, context.DeadlineExceeded, err)
}
