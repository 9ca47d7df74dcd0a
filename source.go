package quarry

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SourceKind is the kind of system a source is.
type SourceKind string

const (
	SourcePostgres SourceKind = "POSTGRES"
	SourceMySQL    SourceKind = "MYSQL"
	SourceRedshift SourceKind = "REDSHIFT"
)

// SourceKinds lists every valid kind.
var SourceKinds = []SourceKind{SourcePostgres, SourceMySQL, SourceRedshift}

// Valid reports whether k is one of SourceKinds.
func (k SourceKind) Valid() bool { return slices.Contains(SourceKinds, k) }

// Source is a database Quarry crawls. Aliases are other namespaces by which
// producers name the same database; they resolve to Namespace.
type Source struct {
	Name      string     `json:"name"`
	Kind      SourceKind `json:"kind"`
	Namespace string     `json:"namespace"`
	DSN       string     `json:"dsn,omitempty"`    // never shown; may hold a password
	DSNEnv    string     `json:"dsnEnv,omitempty"` // name of an environment variable holding the DSN (with the server's prefix, QUARRY_SOURCE_ by default)
	Schedule  string     `json:"schedule,omitempty"`
	Include   []string   `json:"include,omitempty"`
	Exclude   []string   `json:"exclude,omitempty"`
	Aliases   []string   `json:"aliases,omitempty"`
	// AllDatabases crawls every database on the server the role may
	// connect to, not only the DSN's.
	AllDatabases bool      `json:"allDatabases,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	UpdatedBy    string    `json:"updatedBy,omitempty"` // who registered or last changed it (the actor)
}

var sourceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// Normalize validates a source and normalizes its namespace and aliases.
func (s *Source) Normalize() error {
	if !sourceName.MatchString(s.Name) {
		return Invalid("name", "%q is not a source name: want lower-case letters, digits, '_', '-' or '.', at most 63", Truncate(s.Name, 64))
	}
	if !s.Kind.Valid() {
		return Invalid("kind", "%q is not a source kind", s.Kind)
	}
	if s.DSN == "" && s.DSNEnv == "" {
		return Invalid("dsn", "set dsn or dsnEnv")
	}
	var err error
	if s.Namespace != "" {
		if s.Namespace, err = NormalizeNamespace(s.Namespace); err != nil {
			return InField("namespace", err)
		}
	}
	for i, a := range s.Aliases {
		if s.Aliases[i], err = NormalizeNamespace(a); err != nil {
			return InField("aliases", InField("["+strconv.Itoa(i)+"]", err))
		}
	}
	return nil
}

// CrawlStatus is the state of a crawl run.
type CrawlStatus string

const (
	CrawlRunning   CrawlStatus = "RUNNING"
	CrawlSucceeded CrawlStatus = "SUCCEEDED"
	CrawlFailed    CrawlStatus = "FAILED"
)

// CrawlRun is one crawl of a source: when, how it ended, what it found.
type CrawlRun struct {
	Source     string      `json:"source"`
	StartedAt  time.Time   `json:"startedAt"`
	FinishedAt *time.Time  `json:"finishedAt,omitempty"`
	Status     CrawlStatus `json:"status"`
	Error      string      `json:"error,omitempty"`
	Counts     CrawlCounts `json:"counts"`
}

// CrawlCounts summarize a crawl.
type CrawlCounts struct {
	Datasets int `json:"datasets"` // seen by the crawl
	New      int `json:"new"`
	Changed  int `json:"changed"`
	Removed  int `json:"removed"`
	Restored int `json:"restored"`
	Columns  int `json:"columns"`
	Edges    int `json:"edges"`   // lineage edges read from the catalog
	Skipped  int `json:"skipped"` // objects the crawl's role may not see
	// ViewsUnparsed counts views whose SQL the crawler could not read for
	// lineage (MySQL, MariaDB); they keep the table-level lineage the
	// server lists, if it lists any.
	ViewsUnparsed int `json:"viewsUnparsed,omitempty"`
}

// RedactDSN returns a DSN with its secrets (password, sslpassword)
// masked, for display and logs. It reads both forms libpq does: a URL, and
// key=value pairs (spaces around '=', single-quoted values, backslash
// escapes), and the MySQL driver's user:password@tcp(host:port)/db. A DSN
// it cannot read is not shown at all.
func RedactDSN(dsn string) string {
	if out, ok := redactMySQLDriverDSN(dsn); ok {
		return out
	}
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "(an unreadable DSN, not shown)"
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		for k := range q {
			if secretKey(k) {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	out, ok := redactKeyValues(dsn)
	if !ok {
		return "(an unreadable DSN, not shown)"
	}
	return out
}

// redactMySQLDriverDSN masks the password of a DSN in the MySQL driver's
// form, [user[:password]@][net[(addr)]]/db[?params], which it reads as the
// driver does: the password runs from the first ':' to the last '@' before
// the last '/'.
func redactMySQLDriverDSN(dsn string) (string, bool) {
	if strings.Contains(dsn, "://") {
		return "", false
	}
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		return "", false
	}
	at := strings.LastIndexByte(dsn[:slash], '@')
	addr := dsn[at+1:]
	if !strings.HasPrefix(addr, "/") && !strings.HasPrefix(addr, "tcp(") && !strings.HasPrefix(addr, "tcp6(") && !strings.HasPrefix(addr, "unix(") {
		return "", false
	}
	if at < 0 {
		return dsn, true
	}
	user, _, hasPW := strings.Cut(dsn[:at], ":")
	if strings.ContainsAny(user, "= \t") {
		return "", false // a key=value DSN whose password holds '@'
	}
	if !hasPW {
		return dsn, true
	}
	return user + ":xxxxx@" + addr, true
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || k == "sslpassword"
}

// redactKeyValues rewrites "k = v k2='v 2'" as "k=v k2='v 2'" with secret
// values masked.
func redactKeyValues(s string) (string, bool) {
	var out []string
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	for {
		skipSpace()
		if i >= len(s) {
			return strings.Join(out, " "), true
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		key := s[start:i]
		skipSpace()
		if key == "" || i >= len(s) || s[i] != '=' {
			return "", false
		}
		i++
		skipSpace()
		vstart := i
		if i < len(s) && s[i] == '\'' {
			for i++; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			if i >= len(s) {
				return "", false // an unterminated quote
			}
			i++
		} else {
			for ; i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		}
		value := s[vstart:min(i, len(s))]
		if secretKey(key) {
			value = "xxxxx"
		}
		out = append(out, key+"="+value)
	}
}
