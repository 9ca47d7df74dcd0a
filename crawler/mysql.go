package crawler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// CrawlMySQL crawls the MySQL or MariaDB database named by dsn (or, with
// AllDatabases, every database the account can see) into the store.
// Datasets are named db.table in the namespace mysql://host:port; the
// include/exclude patterns name databases.
//
// dsn is mysql://user:pass@host:3306/db or the driver's own
// user:pass@tcp(host:3306)/db. As for PostgreSQL, everything is read
// before anything is written, and a crawl that fails removes nothing.
func CrawlMySQL(ctx context.Context, st Store, dsn string, o Options) (*Result, error) {
	start := time.Now()
	if err := o.defaults(); err != nil {
		return nil, err
	}
	cfg, err := mysqlConfig(dsn, &o)
	if err != nil {
		return nil, err
	}
	return crawl(ctx, st, &o, start, mysqlNamespace(cfg), mysqlLayout, func(ctx context.Context, ns string, res *Result) ([]*snapshot, error) {
		cat, err := readMySQL(ctx, cfg, &o)
		if err != nil {
			return nil, err
		}
		res.ViewsUnparsed = cat.unparsed
		snaps := cat.snapshots(ns, &o)
		cat.attachUsage(ns, snaps)
		return snaps, nil
	})
}

// mysqlLayout: datasets are db.table, and the patterns name databases.
var mysqlLayout = layout{
	locate: func(d store.NamedID) (string, string, bool) {
		db := d.Database
		if db == "" {
			var ok bool
			if db, _, ok = strings.Cut(d.Name, "."); !ok {
				return "", "", false
			}
		}
		return db, db, true
	},
	system: mysqlSystemSchema,
}

// mysqlSystemSchema reports the databases that are the server's own.
func mysqlSystemSchema(db string) bool {
	switch strings.ToLower(db) {
	case "mysql", "sys", "performance_schema", "information_schema":
		return true
	}
	return false
}

// IsMySQLDSN reports whether dsn is one of the MySQL forms CrawlMySQL
// reads: a mysql:// (or mariadb://) URL, or the driver's
// [user[:pass]@]tcp(host:port)/db (also unix(...), or no address: "user@/db").
func IsMySQLDSN(dsn string) bool {
	if i := strings.Index(dsn, "://"); i >= 0 {
		s := strings.ToLower(dsn[:i])
		return s == "mysql" || s == "mariadb"
	}
	return driverDSN.MatchString(dsn)
}

var driverDSN = regexp.MustCompile(`^(?:[^\s]*@)?(?:(?:tcp6?|unix)\([^)]*\))?/[^/\s=]*(?:\?.*)?$`)

// KindOfDSN says which kind of source a DSN names, from its form: MySQL's
// (IsMySQLDSN), else PostgreSQL's.
func KindOfDSN(dsn string) quarry.SourceKind {
	if IsMySQLDSN(dsn) {
		return quarry.SourceMySQL
	}
	return quarry.SourcePostgres
}

// mysqlConfig reads a DSN into the driver's config, refusing what would
// read the Quarry server's files or reach its Unix sockets (unless
// AllowLocalFiles or Trusted), and sets the crawl's own connection
// settings. The driver reads no environment and no option files, so
// there is nothing else to shut out.
func mysqlConfig(dsn string, o *Options) (*mysql.Config, error) {
	cfg, err := parseMySQLDSN(dsn)
	if err != nil {
		return nil, err
	}
	if !o.AllowLocalFiles && !o.Trusted {
		if cfg.AllowAllFiles {
			return nil, quarry.Invalid("dsn", "the parameter allowAllFiles lets the server read files of the Quarry server "+
				"(LOAD DATA LOCAL INFILE), which a source may not do unless the server's config allows it (crawl: {allowLocalFiles: true})")
		}
		if cfg.Net == "unix" {
			return nil, quarry.Invalid("dsn", "the address unix(%s) is a Unix socket on the Quarry server, which a source may not use "+
				"unless the server's config allows it (crawl: {allowLocalFiles: true})", cfg.Addr)
		}
	}
	// Catalog queries never load files: a server asking for one (LOAD
	// DATA LOCAL is the server's request to the client) is refused even
	// when the DSN was allowed to name files.
	cfg.AllowAllFiles = false
	if cfg.DBName == "" && !o.AllDatabases {
		return nil, quarry.Invalid("dsn", "names no database: want mysql://user@host:3306/db (or --all-databases)")
	}
	cfg.Timeout = o.ConnectTimeout
	// Each read and write on the connection, also those no context
	// bounds (the rollback and quit at the end): a frozen server must not
	// hold the crawl for long past its deadlines. Later than QueryTimeout,
	// so that a query's own deadline ends it first and says so.
	cfg.ReadTimeout, cfg.WriteTimeout = o.QueryTimeout+10*time.Second, o.QueryTimeout+10*time.Second
	// The driver would print connection errors to stderr; the crawl
	// returns them.
	cfg.Logger = quietLogger{}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = false
	cfg.InterpolateParams = true // one round trip per query, no prepared statements left on the server
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.ConnectionAttributes = "program_name:quarry-crawler"
	dialer := &net.Dialer{Timeout: o.ConnectTimeout, KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3,
	}}
	cfg.DialFunc = o.dial(dialer)
	return cfg, nil
}

// parseMySQLDSN reads either DSN form. Errors never quote the password.
func parseMySQLDSN(dsn string) (*mysql.Config, error) {
	if i := strings.Index(dsn, "://"); i >= 0 {
		scheme := strings.ToLower(dsn[:i])
		if scheme != "mysql" && scheme != "mariadb" {
			return nil, quarry.Invalid("dsn", "%s:// is not a MySQL DSN: want mysql://user:pass@host:3306/db or user:pass@tcp(host:3306)/db", scheme)
		}
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, quarry.Invalid("dsn", "is not a URL: want mysql://user:pass@host:3306/db")
		}
		if u.Host == "" {
			return nil, quarry.Invalid("dsn", "names no host: want mysql://user:pass@host:3306/db")
		}
		cfg, err := mysql.ParseDSN("/?" + u.RawQuery)
		if err != nil {
			return nil, quarry.Invalid("dsn", "%s", err)
		}
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		port := u.Port()
		if port == "" {
			port = "3306"
		}
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(u.Hostname(), port)
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		if strings.Contains(cfg.DBName, "/") {
			return nil, quarry.Invalid("dsn", "the path %q is not one database name", u.Path)
		}
		return cfg, nil
	}
	if !driverDSN.MatchString(dsn) {
		return nil, quarry.Invalid("dsn", "is not a MySQL DSN: want mysql://user:pass@host:3306/db or user:pass@tcp(host:3306)/db")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		msg := err.Error()
		if c, perr := mysql.ParseDSN(dsn); perr == nil && c.Passwd != "" {
			msg = scrub(msg, c.Passwd)
		}
		return nil, quarry.Invalid("dsn", "%s", msg)
	}
	return cfg, nil
}

func mysqlNamespace(cfg *mysql.Config) string {
	host, port := "localhost", "3306" // a Unix socket: the server is this machine
	if cfg.Net != "unix" {
		if h, p, err := net.SplitHostPort(cfg.Addr); err == nil {
			host, port = h, p
		} else if cfg.Addr != "" {
			host = cfg.Addr
		}
	}
	raw := "mysql://" + net.JoinHostPort(host, port)
	if ns, err := quarry.NormalizeNamespace(raw); err == nil {
		return ns
	}
	return raw
}

// mysqlConnect opens one connection (the crawl needs no more) within
// ConnectTimeout, and reports a failure by its category, as connect does.
func mysqlConnect(ctx context.Context, cfg *mysql.Config, o *Options) (*sql.DB, *sql.Conn, error) {
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, nil, quarry.Invalid("dsn", "%s", scrub(err.Error(), cfg.Passwd))
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	cctx, cancel := withTimeout(ctx, o.ConnectTimeout, "connecting")
	defer cancel()
	conn, err := db.Conn(cctx)
	if err == nil {
		err = conn.PingContext(cctx)
	}
	if err == nil {
		return db, conn, nil
	}
	if conn != nil {
		conn.Close()
	}
	db.Close()
	where := cfg.Addr + "/" + cfg.DBName
	detail := scrub(err.Error(), cfg.Passwd)
	var myErr *mysql.MySQLError
	switch {
	case errors.As(err, &myErr) && myErr.Number == 1045:
		return nil, nil, &ConnectError{Public: "connect: password authentication failed",
			Detail: fmt.Sprintf("connect to %s: access denied for user %q (wrong password?)", where, cfg.User)}
	case errors.As(err, &myErr) && (myErr.Number == 1044 || myErr.Number == 1698 || myErr.Number == 1130):
		return nil, nil, &ConnectError{Public: "connect: authentication failed", Detail: fmt.Sprintf("connect to %s: %s", where, detail)}
	case errors.As(err, &myErr) && myErr.Number == 1049:
		msg := fmt.Sprintf("database %q does not exist", cfg.DBName)
		return nil, nil, &ConnectError{Public: "connect: " + msg, Detail: fmt.Sprintf("connect to %s: %s", where, msg)}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(cctx.Err(), context.DeadlineExceeded) || isNetTimeout(err):
		te := &TimeoutError{What: "connecting", After: o.ConnectTimeout}
		if c, ok := errors.AsType[*TimeoutError](context.Cause(cctx)); ok {
			te = c
		}
		return nil, nil, &ConnectError{Public: "connect: " + te.Error(), Detail: fmt.Sprintf("connect to %s: %s (%s)", where, te, detail), Err: te}
	}
	if ctx.Err() != nil {
		return nil, nil, &ConnectError{Public: "connect: cancelled", Detail: fmt.Sprintf("connect to %s: %s", where, detail), Err: ctx.Err()}
	}
	return nil, nil, &ConnectError{Public: "connect: unreachable", Detail: fmt.Sprintf("connect to %s: %s", where, detail)}
}

type quietLogger struct{}

func (quietLogger) Print(...any) {}

func isNetTimeout(err error) bool {
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

// snapshots maps the catalog to one snapshot per database: datasets and
// catalog lineage edges.
func (cat *myCatalog) snapshots(ns string, o *Options) []*snapshot {
	id := func(schema, name string) string { return quarry.NewID(quarry.EntityDataset, ns, schema+"."+name) }
	byDB := map[string]*snapshot{}
	snaps := make([]*snapshot, 0, len(cat.databases))
	for _, db := range cat.databases {
		s := &snapshot{database: db, edges: map[string][]quarry.Edge{}, seen: map[string]bool{}}
		byDB[db] = s
		snaps = append(snaps, s)
	}
	for _, t := range cat.order {
		snap := byDB[t.schema]
		if snap == nil {
			continue
		}
		name := t.schema + "." + t.name
		snap.seen[name] = true
		if !t.usable() {
			snap.skipped++
			continue
		}
		d := quarry.Dataset{
			Namespace:  ns,
			Name:       name,
			Kind:       quarry.KindTable,
			Source:     o.Source,
			Database:   t.schema,
			Provided:   quarry.Metadata{Description: clip(t.comment)},
			Definition: t.definition,
			Partitions: t.partitions,
		}
		if t.isView() {
			d.Kind = quarry.KindView
			if t.comment == "VIEW" { // what MySQL puts there for every view
				d.Provided.Description = ""
			}
		} else {
			if t.rows.Valid {
				d.RowCount = &t.rows.Int64
			}
			if t.bytes.Valid {
				d.SizeBytes = &t.bytes.Int64
			}
			s := &quarry.TableStats{Engine: t.engine}
			if t.created.Valid {
				c := t.created.Time.UTC()
				s.TableCreatedAt = &c
			}
			if t.updated.Valid {
				u := t.updated.Time.UTC()
				s.DataUpdatedAt = &u
			}
			if t.io != nil {
				s.Inserts, s.Updates, s.Deletes = t.io[0], t.io[1], t.io[2]
			}
			d.Stats = s
		}
		byName := map[string]int{}
		for _, c := range t.columns {
			byName[c.name] = len(d.Columns)
			d.Columns = append(d.Columns, quarry.Column{
				Name: c.name, Type: c.fullType(t), Nullable: c.nullable, Ordinal: c.ordinal, Default: c.defaultText(), Description: clip(c.comment),
			})
		}
		for _, k := range t.keys {
			c := quarry.Constraint{Name: k.name, Columns: k.cols}
			switch {
			case k.name == "PRIMARY" && k.refTable == "":
				c.Kind = quarry.ConstraintPrimaryKey
				for _, col := range k.cols {
					if i, ok := byName[col]; ok {
						d.Columns[i].PrimaryKey = true
					}
				}
			case k.refTable == "":
				c.Kind = quarry.ConstraintUnique
				if i, ok := byName[k.cols[0]]; ok && len(k.cols) == 1 {
					d.Columns[i].Unique = true
				}
			default:
				c.Kind = quarry.ConstraintForeignKey
				ref := &quarry.TableRef{Namespace: ns, Name: k.refSchema + "." + k.refTable, Columns: k.refCols}
				c.References = ref
				for i, col := range k.cols {
					if j, ok := byName[col]; ok && d.Columns[j].ForeignKey == nil && ref.Columns[i] != "" {
						d.Columns[j].ForeignKey = &quarry.ColumnRef{Namespace: ns, Name: ref.Name, Column: ref.Columns[i]}
					}
				}
			}
			if slices.ContainsFunc(c.Columns, func(col string) bool { _, ok := byName[col]; return !ok }) ||
				c.References != nil && slices.Contains(c.References.Columns, "") {
				continue
			}
			d.Constraints = append(d.Constraints, c)
		}
		snap.datasets = append(snap.datasets, d)
		snap.edges[id(t.schema, t.name)] = nil // every crawled dataset's catalog edges are replaced
		if t.isView() {
			snap.edges[id(t.schema, t.name)] = cat.viewEdges(t, id)
		}
	}
	return snaps
}

// viewEdges is a view's catalog lineage, recorded as PostgreSQL's is
// (postgres.go viewEdges): one table-level edge per relation it reads,
// column-level DIRECT edges from the relations' columns to the view's,
// and INDIRECT ones (no target column) from the columns it reads only to
// join, filter, group or sort. The lineage comes from the view's SQL; a
// definition that does not parse keeps the table-level edges the server
// lists (VIEW_TABLE_USAGE, MySQL 8.0.13+) and is counted.
func (cat *myCatalog) viewEdges(t *myTable, id func(schema, name string) string) []quarry.Edge {
	to := id(t.schema, t.name)
	var edges []quarry.Edge
	tables := cat.usage[t.key()]
	lin := t.lineage
	if lin != nil {
		tables = nil
		for _, r := range lin.Tables {
			tables = append(tables, [2]string{orDefault(r.Schema, t.schema), r.Name})
		}
	}
	linked := map[string]bool{}
	for _, r := range tables {
		from := id(r[0], r[1])
		if from == to || linked[from] {
			continue
		}
		linked[from] = true
		edges = append(edges, quarry.Edge{From: from, To: to, Origin: quarry.OriginCatalog})
	}
	if lin == nil {
		return edges // table-level only, from VIEW_TABLE_USAGE
	}
	var cols []quarry.Edge
	// The parser names an unaliased expression as it prints it, which may
	// not be the server's name: the view's columns are matched by position
	// when they are as many.
	outName := func(i int, name string) string {
		if len(lin.Output) == len(t.columns) {
			return lin.Output[i]
		}
		return name
	}
	for i, c := range t.columns {
		for _, src := range lin.Columns[outName(i, c.name)] {
			if src.Column == "" || src.Name == "" {
				continue
			}
			cols = append(cols, quarry.Edge{From: id(orDefault(src.Schema, t.schema), src.Name), To: to, FromColumn: src.Column,
				ToColumn: c.name, Transformation: orDefault(src.Transformation, "DIRECT"), Origin: quarry.OriginCatalog})
		}
	}
	direct := map[[2]string]bool{}
	for _, e := range cols {
		direct[[2]string{e.From, e.FromColumn}] = true
	}
	for _, src := range lin.Indirect {
		from := id(orDefault(src.Schema, t.schema), src.Name)
		if src.Column == "" || src.Name == "" || direct[[2]string{from, src.Column}] {
			continue // as PostgreSQL's: a column the view also projects has its DIRECT edges
		}
		cols = append(cols, quarry.Edge{From: from, To: to, FromColumn: src.Column, Transformation: orDefault(src.Transformation, "INDIRECT"), Origin: quarry.OriginCatalog})
	}
	return append(edges, quarry.MergeTransformations(cols)...)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// usable reports whether a table's names can be stored.
func (t *myTable) usable() bool {
	if _, err := quarry.NormalizeName(t.schema + "." + t.name); err != nil {
		return false
	}
	for _, c := range t.columns {
		if _, err := quarry.NormalizeName(c.name); err != nil {
			return false
		}
	}
	return true
}

// fullType is the column's type as MySQL spells it (unsigned, enum and
// set values included), with its character set and collation where they
// differ from the table's.
func (c *myColumn) fullType(t *myTable) string {
	typ := c.typ
	if c.collation != "" && t.collation != "" && c.collation != t.collation {
		typ += " CHARACTER SET " + c.charset + " COLLATE " + c.collation
	}
	return typ
}

// defaultText is the column's default as the catalog shows it, or how it
// gets its value: AUTO_INCREMENT, a generated column's expression, an ON
// UPDATE clause.
func (c *myColumn) defaultText() string {
	extra := strings.ToLower(c.extra)
	switch {
	case strings.Contains(extra, "generated") && c.genExpr != "":
		kind := "VIRTUAL"
		if strings.Contains(extra, "stored") || strings.Contains(extra, "persistent") {
			kind = "STORED"
		}
		return "GENERATED ALWAYS AS (" + c.genExpr + ") " + kind
	case strings.Contains(extra, "auto_increment"):
		return "AUTO_INCREMENT"
	}
	def := ""
	if c.def.Valid && !(c.def.String == "NULL" && c.mariadbNull) {
		def = c.def.String
	}
	if i := strings.Index(extra, "on update "); i >= 0 {
		def = strings.TrimSpace(def + " ON UPDATE " + strings.TrimSpace(c.extra[i+len("on update "):]))
	}
	return def
}

// versionAtLeast reports whether a MySQL version string ("8.0.36",
// "8.0.36-log") is at least major.minor.patch.
func versionAtLeast(v string, major, minor, patch int) bool {
	parts := strings.SplitN(strings.SplitN(v, "-", 2)[0], ".", 3)
	var n [3]int
	for i := 0; i < len(parts) && i < 3; i++ {
		n[i], _ = strconv.Atoi(strings.TrimFunc(parts[i], func(r rune) bool { return r < '0' || r > '9' }))
	}
	if n[0] != major {
		return n[0] > major
	}
	if n[1] != minor {
		return n[1] > minor
	}
	return n[2] >= patch
}
