package crawler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// CrawlPostgres crawls the database named by dsn (or, with AllDatabases,
// every database on its server) into the store. Datasets are named
// db.schema.table in the namespace postgres://host:port.
//
// Everything is read before anything is written. A crawl that fails
// reading, or is cancelled, writes nothing and removes nothing; one that
// fails writing may have stored some datasets but removes nothing.
func CrawlPostgres(ctx context.Context, st Store, dsn string, o Options) (*Result, error) {
	start := time.Now()
	if err := o.defaults(); err != nil {
		return nil, err
	}
	cfg, err := pgConfig(dsn, &o)
	if err != nil {
		return nil, err
	}
	return crawl(ctx, st, &o, start, pgNamespace(cfg), pgLayout, func(ctx context.Context, ns string, _ *Result) ([]*snapshot, error) {
		dbs := []string{cfg.Database}
		if o.AllDatabases {
			if dbs, err = listDatabases(ctx, cfg, &o); err != nil {
				return nil, err
			}
		}
		snaps := make([]*snapshot, 0, len(dbs))
		for _, db := range dbs {
			c := cfg.Copy()
			c.Database = db
			snap, err := readDatabase(ctx, c, ns, &o)
			if err != nil {
				return nil, err
			}
			snaps = append(snaps, snap)
		}
		return snaps, nil
	})
}

// pgLayout: datasets are db.schema.table, and the patterns name schemas.
// Where a dataset lives comes from what its crawler recorded, else from
// its name.
var pgLayout = layout{
	locate: func(d store.NamedID) (string, string, bool) {
		if d.Database != "" {
			return d.Database, d.Schema, true
		}
		db, rest, ok := strings.Cut(d.Name, ".")
		if !ok {
			return "", "", false
		}
		schema, _, ok := strings.Cut(rest, ".")
		return db, schema, ok
	},
	system: pgSystemSchema,
}

func pgSystemSchema(s string) bool {
	return s == "pg_catalog" || s == "information_schema" || strings.HasPrefix(s, "pg_toast") || strings.HasPrefix(s, "pg_temp_")
}

func pgNamespace(cfg *pgx.ConnConfig) string {
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		host = "localhost" // a Unix socket: the server is this machine
	}
	ns, err := quarry.NormalizeNamespace("postgres://" + net.JoinHostPort(host, strconv.Itoa(int(cfg.Port))))
	if err != nil {
		return "postgres://" + net.JoinHostPort(host, strconv.Itoa(int(cfg.Port)))
	}
	return ns
}

func pgConfig(dsn string, o *Options) (*pgx.ConnConfig, error) {
	var cfg *pgx.ConnConfig
	var err error
	if o.Trusted {
		cfg, err = pgx.ParseConfig(dsn)
	} else {
		cfg, err = isolatedConfig(dsn, o.AllowLocalFiles)
	}
	if err != nil {
		if _, ok := errors.AsType[*quarry.Error](err); ok {
			return nil, err
		}
		msg := scrub(err.Error(), dsn)
		if u, uerr := url.Parse(dsn); uerr == nil {
			if pw, ok := u.User.Password(); ok {
				msg = scrub(msg, pw)
			}
		}
		return nil, quarry.Invalid("dsn", "%s", msg)
	}
	if cfg.Database == "" {
		return nil, quarry.Invalid("dsn", "names no database: want postgres://user@host:port/db")
	}
	cfg.ConnectTimeout = o.ConnectTimeout
	// Keepalives notice a source whose machine or network died (a frozen
	// process still answers them: the deadlines are for that).
	cfg.DialFunc = o.dial(&net.Dialer{Timeout: o.ConnectTimeout, KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3,
	}})
	cfg.RuntimeParams["application_name"] = "quarry-crawler"
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	// For every statement of the session, the database list included.
	cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	cfg.RuntimeParams["lock_timeout"] = strconv.FormatInt(o.LockTimeout.Milliseconds(), 10)
	return cfg, nil
}

// isolatedConfig parses a registered source's DSN into a connection config
// that owes nothing to the server's PG* environment or home directory, and
// refuses the DSN's local files and sockets unless allowLocal (see dsn.go).
func isolatedConfig(dsn string, allowLocal bool) (*pgx.ConnConfig, error) {
	settings, err := dsnSettings(dsn)
	if err != nil {
		return nil, err
	}
	if !allowLocal {
		if err := checkLocal(settings); err != nil {
			return nil, err
		}
	}
	kv, err := isolatedDSN(settings)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(kv)
	if err != nil {
		// Not the rebuilt DSN pgx quotes, which the user never wrote.
		msg := err.Error()
		if i := strings.LastIndex(msg, "`: "); strings.HasPrefix(msg, "cannot parse `") && i > 0 {
			msg = msg[i+len("`: "):]
		}
		return nil, errors.New(scrub(scrub(msg, settings["password"]), settings["sslpassword"]))
	}
	for _, k := range envRuntimeParams {
		if _, ok := settings[k]; !ok {
			delete(cfg.RuntimeParams, k)
		}
	}
	return cfg, nil
}

func connect(ctx context.Context, cfg *pgx.ConnConfig, o *Options) (*pgx.Conn, error) {
	cctx, cancel := withTimeout(ctx, o.ConnectTimeout, "connecting")
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err == nil {
		return conn, nil
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	detail := scrub(err.Error(), cfg.Password)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "28P01":
		return nil, &ConnectError{Public: "connect: password authentication failed",
			Detail: fmt.Sprintf("connect to %s: password authentication failed for user %q", where, cfg.User)}
	case errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "28"):
		return nil, &ConnectError{Public: "connect: authentication failed", Detail: fmt.Sprintf("connect to %s: %s", where, detail)}
	case errors.As(err, &pgErr) && pgErr.Code == "3D000":
		// PostgreSQL says so only to a role that authenticated.
		msg := fmt.Sprintf("database %q does not exist", cfg.Database)
		return nil, &ConnectError{Public: "connect: " + msg, Detail: fmt.Sprintf("connect to %s: %s", where, msg)}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(cctx.Err(), context.DeadlineExceeded):
		// Ours, or pgx's own ConnectTimeout (the same) if it ended first.
		te := &TimeoutError{What: "connecting", After: o.ConnectTimeout}
		if c, ok := errors.AsType[*TimeoutError](context.Cause(cctx)); ok {
			te = c // the crawl's, when that ended first
		}
		return nil, &ConnectError{Public: "connect: " + te.Error(), Detail: fmt.Sprintf("connect to %s: %s (%s)", where, te, detail), Err: te}
	}
	if ctx.Err() != nil { // cancelled: the server is stopping
		return nil, &ConnectError{Public: "connect: cancelled", Detail: fmt.Sprintf("connect to %s: %s", where, detail), Err: ctx.Err()}
	}
	return nil, &ConnectError{Public: "connect: unreachable", Detail: fmt.Sprintf("connect to %s: %s", where, detail)}
}

// ConnectError is a crawl that could not connect to its source. Its Error
// is the detail, for the server's log and the operator of `quarry crawl`;
// Public is a coarse category (unreachable, authentication failed, timed
// out), which is what crawl runs record: whoever may register a source
// must not learn from them which hosts and ports of the server's network
// answer, and how.
type ConnectError struct {
	Public string
	Detail string
	Err    error // a *TimeoutError, or the context's error, if either ended it
}

func (e *ConnectError) Error() string { return e.Detail }
func (e *ConnectError) Unwrap() error { return e.Err }

// PublicError is the message of a crawl's error that crawl runs record: a
// connection's failure only by its category (see ConnectError).
func PublicError(err error) string {
	if ce, ok := errors.AsType[*ConnectError](err); ok {
		return ce.Public
	}
	return err.Error()
}

func listDatabases(ctx context.Context, cfg *pgx.ConnConfig, o *Options) ([]string, error) {
	conn, err := connect(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	defer closeConn(ctx, conn)
	qctx, cancel := withTimeout(ctx, o.QueryTimeout, "listing the databases")
	defer cancel()
	rows, err := conn.Query(qctx, queryDatabases)
	if err != nil {
		return nil, timedOut(qctx, fmt.Errorf("list databases: %w", err))
	}
	dbs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, timedOut(qctx, fmt.Errorf("list databases: %w", err))
	}
	return dbs, nil
}

// closeConn ends a connection, waiting a moment at most: a frozen source
// must not hold the crawl after its deadline.
func closeConn(ctx context.Context, conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	conn.Close(ctx)
}

func readDatabase(ctx context.Context, cfg *pgx.ConnConfig, ns string, o *Options) (*snapshot, error) {
	conn, err := connect(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	defer closeConn(ctx, conn)
	db := cfg.Database
	total, done := catalogQueries(o), 0
	o.progress(Progress{Database: db, Phase: "catalog", Total: total})
	cat, err := readCatalog(ctx, conn, o, func() {
		done++
		o.progress(Progress{Database: db, Phase: "catalog", Done: done, Total: total})
	})
	if err != nil {
		return nil, fmt.Errorf("crawl %s: %w", db, err)
	}
	snap := cat.snapshot(ns, db, o)
	if !o.NoUsage {
		if err := readPgUsage(ctx, conn, cat, snap, ns, o); err != nil {
			return nil, fmt.Errorf("crawl %s: %w", db, err)
		}
	}
	return snap, nil
}

// snapshot maps the catalog to datasets and catalog lineage edges.
func (cat *pgCatalog) snapshot(ns, db string, o *Options) *snapshot {
	snap := &snapshot{database: db, edges: map[string][]quarry.Edge{}, seen: map[string]bool{}}
	name := func(r *pgRelation) string { return db + "." + r.schema + "." + r.name }
	// Partitions roll up into their root: names, and rows, size and
	// counters of the leaves (a partitioned table holds no rows itself; its
	// own reltuples, once analyzed, already counts its partitions').
	partitions := map[uint32][]string{}
	for _, r := range cat.relations {
		if r.kind == "p" && !r.isPartition {
			r.tuples, r.bytes = -1, 0
		}
	}
	for _, r := range cat.relations {
		if !r.isPartition {
			continue
		}
		top := cat.root(r)
		partitions[top.oid] = append(partitions[top.oid], r.schema+"."+r.name)
		if r.kind != "p" {
			if r.tuples >= 0 {
				top.tuples = max(top.tuples, 0) + r.tuples
			}
			top.bytes += r.bytes
		}
		if r.stats != nil {
			// PostgreSQL keeps no counters for a partitioned table itself.
			if top.stats == nil {
				top.stats = &pgStats{}
			}
			top.stats.ins += r.stats.ins
			top.stats.upd += r.stats.upd
			top.stats.del += r.stats.del
			top.stats.live += r.stats.live
			top.stats.dead += r.stats.dead
		}
	}
	ids := map[uint32]string{}
	snap.ids = map[string]string{}
	oids := make([]uint32, 0, len(cat.relations))
	for oid, r := range cat.relations {
		if r.isPartition || !o.inScope(r.schema) {
			continue
		}
		snap.seen[name(r)] = true
		if !r.usage || !usable(r) {
			snap.skipped++ // one odd object never fails the crawl of the rest
			continue
		}
		ids[oid] = quarry.NewID(quarry.EntityDataset, ns, name(r))
		oids = append(oids, oid)
	}
	slices.Sort(oids)
	for _, oid := range oids {
		r := cat.relations[oid]
		d := quarry.Dataset{
			Namespace:  ns,
			Name:       name(r),
			Kind:       pgKind(r.kind),
			Source:     o.Source,
			Database:   db,
			Schema:     r.schema,
			Provided:   quarry.Metadata{Description: clip(r.comment)},
			Definition: r.definition,
			Partitions: partitions[oid],
		}
		slices.Sort(d.Partitions)
		if r.kind != "v" {
			if r.tuples >= 0 { // -1: never vacuumed or analyzed
				d.RowCount = &r.tuples
			}
			d.SizeBytes = &r.bytes
		}
		if s := r.stats; s != nil {
			d.Stats = &quarry.TableStats{Inserts: s.ins, Updates: s.upd, Deletes: s.del, LiveTuples: s.live, DeadTuples: s.dead,
				LastVacuum: s.vacuum, LastAutovacuum: s.autovacuum, LastAnalyze: s.analyze, LastAutoanalyze: s.autoanalyze}
		}
		byNum := map[int16]int{}
		for _, c := range r.columns {
			byNum[c.attnum] = len(d.Columns)
			d.Columns = append(d.Columns, quarry.Column{
				Name: c.name, Type: c.typ, Nullable: c.nullable, Ordinal: int(c.attnum), Default: c.def, Description: clip(c.comment),
			})
		}
		for _, con := range r.constraints {
			c := quarry.Constraint{Name: con.name}
			for _, k := range con.keys {
				c.Columns = append(c.Columns, r.columnName(k))
			}
			switch con.kind {
			case "p":
				c.Kind = quarry.ConstraintPrimaryKey
				for _, k := range con.keys {
					d.Columns[byNum[k]].PrimaryKey = true
				}
			case "u":
				c.Kind = quarry.ConstraintUnique
				if len(con.keys) == 1 {
					d.Columns[byNum[con.keys[0]]].Unique = true
				}
			case "f":
				c.Kind = quarry.ConstraintForeignKey
				target := cat.relations[con.refRelid]
				ref := &quarry.TableRef{Namespace: ns, Name: db + "." + con.refSchema + "." + con.refTable}
				for _, k := range con.refKeys {
					col := ""
					if target != nil {
						col = target.columnName(k)
					}
					ref.Columns = append(ref.Columns, col)
				}
				c.References = ref
				for i, k := range con.keys {
					if col := &d.Columns[byNum[k]]; col.ForeignKey == nil && ref.Columns[i] != "" {
						col.ForeignKey = &quarry.ColumnRef{Namespace: ns, Name: ref.Name, Column: ref.Columns[i]}
					}
				}
			}
			if slices.Contains(c.Columns, "") || c.References != nil && slices.Contains(c.References.Columns, "") {
				continue // a column the crawl could not name; never seen in practice
			}
			d.Constraints = append(d.Constraints, c)
		}
		snap.datasets = append(snap.datasets, d)
		snap.ids[d.Name] = ids[oid]
		snap.edges[ids[oid]] = nil // every crawled dataset's catalog edges are replaced
	}
	cat.viewEdges(snap, ids, ns, db)
	return snap
}

// viewEdges adds catalog lineage: table-level edges from every relation a
// view reads, column-level edges from its rule's target list, and INDIRECT
// edges from columns it reads only to filter, join or group.
func (cat *pgCatalog) viewEdges(snap *snapshot, ids map[uint32]string, ns, db string) {
	idOf := func(oid uint32) string {
		if r := cat.relations[oid]; r != nil && r.isPartition {
			oid = cat.root(r).oid // a partition is not a dataset: its root is
		}
		if id, ok := ids[oid]; ok {
			return id
		}
		if r := cat.relations[oid]; r != nil {
			// A relation outside the crawl's scope still has an identity.
			return quarry.NewID(quarry.EntityDataset, ns, db+"."+r.schema+"."+r.name)
		}
		return ""
	}
	// A partition's columns have its root's names.
	colName := func(oid uint32, n int16) string { return cat.relations[oid].columnName(n) }
	type colRef struct {
		rel uint32
		att int16
	}
	// pg_depend lists the columns a view reads (and the relation itself
	// only when it reads no column): one table-level edge per relation.
	read := map[uint32]map[colRef]bool{} // view -> columns its rule reads
	linkedIDs := map[[2]string]bool{}    // partitions of one table give one edge
	for _, d := range cat.deps {
		to, from := ids[d.view], idOf(d.rel)
		if to == "" || from == "" {
			continue
		}
		if !linkedIDs[[2]string{to, from}] {
			linkedIDs[[2]string{to, from}] = true
			snap.edges[to] = append(snap.edges[to], quarry.Edge{From: from, To: to, Origin: quarry.OriginCatalog})
		}
		if d.attnum == 0 {
			continue
		}
		if read[d.view] == nil {
			read[d.view] = map[colRef]bool{}
		}
		read[d.view][colRef{d.rel, d.attnum}] = true
	}
	// Parsing the rules' trees is the costly part: spread it over the CPUs.
	views := make([]uint32, 0, len(cat.rules))
	for view := range cat.rules {
		if ids[view] != "" {
			views = append(views, view)
		}
	}
	slices.Sort(views)
	parsed := make([]map[int][]ColumnSource, len(views))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(views))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(views); i += workers {
				// An unreadable tree leaves nil: table-level lineage stands.
				parsed[i], _ = ViewColumnLineage(cat.rules[views[i]])
			}
		})
	}
	wg.Wait()
	for i, view := range views {
		to, lineage := ids[view], parsed[i]
		if lineage == nil {
			continue
		}
		resnos := make([]int, 0, len(lineage))
		for resno := range lineage {
			resnos = append(resnos, resno)
		}
		slices.Sort(resnos)
		direct := map[colRef]bool{}
		for _, resno := range resnos {
			out := colName(view, int16(resno))
			for _, src := range lineage[resno] {
				from, fromCol := idOf(src.Relid), colName(src.Relid, src.Attnum)
				if out == "" || from == "" || fromCol == "" {
					continue
				}
				t := "DIRECT/TRANSFORMATION"
				if src.Direct {
					t = "DIRECT/IDENTITY"
				}
				direct[colRef{src.Relid, src.Attnum}] = true
				snap.edges[to] = append(snap.edges[to], quarry.Edge{From: from, To: to, FromColumn: fromCol, ToColumn: out, Transformation: t, Origin: quarry.OriginCatalog})
			}
		}
		refs := make([]colRef, 0, len(read[view]))
		for ref := range read[view] {
			if !direct[ref] {
				refs = append(refs, ref)
			}
		}
		slices.SortFunc(refs, func(a, b colRef) int {
			if a.rel != b.rel {
				return int(a.rel) - int(b.rel)
			}
			return int(a.att) - int(b.att)
		})
		for _, ref := range refs {
			from, fromCol := idOf(ref.rel), colName(ref.rel, ref.att)
			if from == "" || fromCol == "" {
				continue
			}
			snap.edges[to] = append(snap.edges[to], quarry.Edge{From: from, To: to, FromColumn: fromCol, Transformation: "INDIRECT", Origin: quarry.OriginCatalog})
		}
	}
}

// root returns the partitioned table a partition (or sub-partition)
// belongs to, or r itself.
func (cat *pgCatalog) root(r *pgRelation) *pgRelation {
	for r.parent != 0 && cat.relations[r.parent] != nil {
		r = cat.relations[r.parent]
	}
	return r
}

// columnName returns the name of column number n, or "" (also for a nil
// relation: one the catalog did not list).
func (r *pgRelation) columnName(n int16) string {
	if r == nil {
		return ""
	}
	for _, c := range r.columns {
		if c.attnum == n {
			return c.name
		}
	}
	return ""
}

// usable reports whether a relation's names can be stored: PostgreSQL
// allows names no catalog should hold (control characters, over 1 KB).
func usable(r *pgRelation) bool {
	if _, err := quarry.NormalizeName(r.schema + "." + r.name); err != nil {
		return false
	}
	for _, c := range r.columns {
		if _, err := quarry.NormalizeName(c.name); err != nil {
			return false
		}
	}
	return true
}

// clip shortens a comment to the longest description the store keeps,
// cutting at a character boundary.
func clip(s string) string {
	if len(s) <= quarry.MaxDescriptionLen {
		return s
	}
	cut := quarry.MaxDescriptionLen - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func pgKind(relkind string) quarry.DatasetKind {
	switch relkind {
	case "v":
		return quarry.KindView
	case "m":
		return quarry.KindMaterializedView
	case "f":
		return quarry.KindExternal
	}
	return quarry.KindTable // r, p
}

// scrub removes a secret from a message.
func scrub(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, "xxxxx")
}
