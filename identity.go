package quarry

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on identifiers. Real table names are far shorter; the limits keep a
// misbehaving producer from storing megabyte keys.
const (
	MaxNamespaceLen = 1024
	MaxNameLen      = 1024
)

// idSpace is the UUIDv5 name space of every Quarry ID. Changing it changes
// every ID, so it never changes.
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://quarry.dev/id"))

// Entity kinds that take part in an ID. A dataset and a job with the same
// namespace and name are different nodes.
const (
	EntityDataset = "dataset"
	EntityJob     = "job"
)

// NewID returns the ID of the entity of the given kind named (namespace,
// name). Both must already be normalized: the same table named by a crawler
// and by an ETL job gets the same ID without a lookup.
func NewID(entity, namespace, name string) string {
	b := make([]byte, 0, len(entity)+len(namespace)+len(name)+2)
	b = append(b, entity...)
	b = append(b, 0)
	b = append(b, namespace...)
	b = append(b, 0)
	b = append(b, name...)
	return uuid.NewSHA1(idSpace, b).String()
}

// DatasetID returns the ID of the dataset (namespace, name), normalizing the
// namespace first.
func DatasetID(namespace, name string) (string, error) {
	ns, err := NormalizeNamespace(namespace)
	if err != nil {
		return "", InField("namespace", err)
	}
	n, err := NormalizeName(name)
	if err != nil {
		return "", InField("name", err)
	}
	return NewID(EntityDataset, ns, n), nil
}

// ParseID checks that id is a UUID and returns it in canonical form.
func ParseID(field, id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", Invalid(field, "%q is not an ID (a UUID)", Truncate(id, 64))
	}
	return u.String(), nil
}

// schemeAliases maps scheme spellings to the one OpenLineage uses.
var schemeAliases = map[string]string{
	"postgresql": "postgres",
	"pgsql":      "postgres",
	"mariadb":    "mysql", // MariaDB speaks MySQL's protocol; producers name it mysql://
}

// defaultPorts are made explicit so that postgres://db and postgres://db:5432
// are one namespace. Only schemes with one well-known port are listed.
var defaultPorts = map[string]string{
	"postgres":  "5432",
	"mysql":     "3306",
	"redshift":  "5439",
	"mssql":     "1433",
	"sqlserver": "1433",
	"oracle":    "1521",
	"db2":       "50000",
	"teradata":  "1025",
	"trino":     "8080",
	"hive":      "10000",
	"cassandra": "9042",
	"kafka":     "9092",
}

// hostSchemes name a host (or a bucket, an account, a container) right
// after "://" in OpenLineage's naming: "http://" or "s3:///key" names
// nothing. Schemes whose namespaces may have no host ("inmemory://",
// "file:///tmp", "duckdb:///path/db.duckdb") are not listed; the database
// schemes of defaultPorts need one too.
var hostSchemes = map[string]bool{
	"http": true, "https": true, "ftp": true, "sftp": true,
	"s3": true, "s3a": true, "s3n": true, "gs": true, "gcs": true, "abfs": true, "abfss": true, "wasb": true, "wasbs": true,
	"hdfs": true, "dbfs": true, "awsathena": true, "azurecosmos": true, "azurekusto": true, "snowflake": true,
	"spanner": true, "unitycatalog": true, "milvus": true, "crate": true, "oceanbase": true, "fabric-warehouse": true,
	"box": true, "filenet": true, "mssharepoint": true,
}

// NormalizeNamespace returns the canonical form of an OpenLineage namespace.
//
// A namespace with a scheme ("postgresql://User@DB.internal/?sslmode=off")
// gets its scheme aliased and lower-cased, its host lower-cased, the default
// port of a database scheme made explicit, user info (for database schemes),
// query and fragment dropped, and trailing slashes removed
// ("postgres://db.internal:5432"). A namespace without a scheme (a job
// namespace such as "food_delivery", or "bigquery") is kept as written,
// trimmed of spaces.
func NormalizeNamespace(ns string) (string, error) {
	ns = strings.TrimSpace(ns)
	if err := checkText(ns, MaxNamespaceLen); err != nil {
		return "", err
	}
	scheme, rest, ok := strings.Cut(ns, "://")
	if !ok {
		if strings.ContainsAny(ns, " \t") {
			return "", Invalid("", "%q must not contain spaces", Truncate(ns, 64))
		}
		return ns, nil
	}
	scheme = strings.ToLower(scheme)
	if a, ok := schemeAliases[scheme]; ok {
		scheme = a
	}
	port, isDB := defaultPorts[scheme]
	if isDB {
		// Credentials never belong in an identity, nor in a message: cut
		// them first, since a password may hold '/', '?', '#' or '@'.
		if i := strings.LastIndexByte(rest, '@'); i >= 0 {
			rest = rest[i+1:]
		}
	}
	shown := scheme + "://" + rest // for messages: no credentials
	if !validScheme(scheme) {
		return "", Invalid("", "%q has an invalid scheme %q: want letters, digits, '+', '-' or '.' after a letter", Truncate(shown, 64), scheme)
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	authority, path, _ := strings.Cut(rest, "/")
	path = strings.TrimRight(path, "/")
	if strings.ContainsAny(authority, " \t") {
		return "", Invalid("", "%q: the host must not contain spaces", Truncate(shown, 64))
	}
	authority = strings.ToLower(authority)
	if hostSchemes[scheme] && authority == "" {
		return "", Invalid("", "%q has no host: want %s://host", Truncate(shown, 64), scheme)
	}
	if isDB {
		host, p, hasPort, err := splitHostPort(authority)
		if err != nil {
			return "", Invalid("", "%q: %v", Truncate(shown, 64), err)
		}
		if host == "" {
			return "", Invalid("", "%q has no host: want %s://host:port", Truncate(shown, 64), scheme)
		}
		if hasPort {
			n, err := strconv.Atoi(p)
			if err != nil || !allDigits(p) || n < 1 || n > 65535 {
				return "", Invalid("", "%q has an invalid port %q: want 1 to 65535", Truncate(shown, 64), p)
			}
			port = strconv.Itoa(n) // "05432" is 5432
		}
		authority = host + ":" + port
	}
	out := scheme + "://" + authority
	if path != "" {
		out += "/" + path
	}
	return out, nil
}

// splitHostPort splits "host:port" and "[v6]:port"; a bare IPv6 address in
// brackets has no port.
func splitHostPort(a string) (host, port string, hasPort bool, err error) {
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", "", false, errors.New("an IPv6 address lacks its closing ']'")
		}
		switch rest := a[end+1:]; {
		case rest == "":
			return a, "", false, nil
		case strings.HasPrefix(rest, ":"):
			return a[:end+1], rest[1:], true, nil
		default:
			return "", "", false, fmt.Errorf("%q after an IPv6 address: want :port", rest)
		}
	}
	if strings.Count(a, ":") > 1 {
		return "", "", false, errors.New("an IPv6 address must be in brackets: [::1]:5432")
	}
	host, port, hasPort = strings.Cut(a, ":")
	return host, port, hasPort, nil
}

// NormalizeName checks that a dataset, job or column name is usable. Names
// are exact: case-sensitive, and spaces are part of them (PostgreSQL allows
// quoted identifiers like "Orders " and "orders", which are two tables).
func NormalizeName(name string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", Invalid("", "must not be empty")
	}
	if err := checkText(name, MaxNameLen); err != nil {
		return "", err
	}
	return name, nil
}

func checkText(s string, max int) error {
	switch {
	case s == "":
		return Invalid("", "must not be empty")
	case len(s) > max:
		return Invalid("", "is %d bytes long; the limit is %d", len(s), max)
	case !utf8.ValidString(s):
		return Invalid("", "is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Invalid("", "%q contains a control character", Truncate(s, 64))
		}
	}
	return nil
}

func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Truncate shortens s to at most n bytes (plus an ellipsis), at a rune
// boundary, for quoting input in messages.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
