package crawler

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/user"
	"slices"
	"strings"

	"github.com/quarrydata/quarry"
)

// A registered source's DSN comes from whoever may register sources, and
// the crawl runs on the Quarry server with the server's environment and
// files. pgx, like libpq, fills what a DSN leaves out from the PG*
// environment variables and from files in the home directory (~/.pgpass,
// ~/.pg_service.conf, ~/.postgresql/*), and reads the files a DSN names
// (passfile, servicefile, sslrootcert, ...). So, unless Options.Trusted:
//
//   - the DSN is read here, into settings, and handed to pgx as keyword/value
//     pairs in which every setting the environment or the home directory
//     could supply is given (the DSN's own, else the default), so neither is
//     consulted: a DSN without a password sends none, not $PGPASSWORD;
//   - parameters that read local files, and hosts that are Unix sockets of
//     the server's machine (a path, or no host at all), are refused before
//     anything is read, unless Options.AllowLocalFiles.

// localFileKeys are the DSN parameters that make pgx read a local file.
var localFileKeys = []string{"passfile", "service", "servicefile", "sslcert", "sslkey", "sslrootcert"}

// shadowed are the settings the environment (or the home directory) could
// supply, with the values that leave pgx at its built-in defaults. service
// is not among them (its mere presence reads the service file: see
// pgConfigFromSettings), nor are timezone and options, which are runtime
// parameters and are dropped after parsing instead.
var shadowed = map[string]string{
	"host": "", "port": "", "database": "", "password": "", "passfile": "",
	"application_name": "quarry-crawler", "connect_timeout": "0",
	"sslmode": "", "sslkey": "", "sslcert": "", "sslcertmode": "allow", "sslsni": "", "sslrootcert": "",
	"sslpassword": "", "sslnegotiation": "", "target_session_attrs": "any", "servicefile": "",
	"min_protocol_version": "", "max_protocol_version": "", "channel_binding": "", "require_auth": "",
}

// envRuntimeParams are the runtime parameters pgx takes from the
// environment (PGTZ, PGOPTIONS; PGAPPNAME's is always replaced).
var envRuntimeParams = []string{"timezone", "options"}

// checkLocal refuses the settings that would read the server's files or
// reach its Unix sockets.
func checkLocal(settings map[string]string) error {
	for _, k := range localFileKeys {
		v, ok := settings[k]
		if !ok || v == "" || k == "sslrootcert" && v == "system" { // system: the system's CA pool, not a file of ours
			continue
		}
		return quarry.Invalid("dsn", "the parameter %s reads a file on the Quarry server, which a source may not do "+
			"unless the server's config allows it (crawl: {allowLocalFiles: true})", k)
	}
	hosts, ok := settings["host"]
	if !ok {
		return quarry.Invalid("dsn", "names no host: want postgres://user@host:port/db (without a host, the Quarry server's "+
			"own Unix socket is used, which a source may not do unless the server's config allows it)")
	}
	for _, h := range strings.Split(hosts, ",") {
		if h == "" || strings.HasPrefix(h, "/") || strings.HasPrefix(h, "@") {
			return quarry.Invalid("dsn", "the host %q is a Unix socket on the Quarry server, which a source may not use "+
				"unless the server's config allows it (crawl: {allowLocalFiles: true})", h)
		}
	}
	return nil
}

// isolatedDSN returns the keyword/value DSN that gives pgx exactly the
// settings, with every setting the environment or home directory could
// supply set (see shadowed).
func isolatedDSN(settings map[string]string) (string, error) {
	all := maps.Clone(shadowed)
	if _, ok := settings["user"]; !ok {
		// pgx's own default, which $PGUSER would otherwise replace.
		u, err := user.Current()
		if err != nil || u.Username == "" {
			return "", quarry.Invalid("dsn", "names no user: want postgres://user@host:port/db")
		}
		all["user"] = u.Username
	}
	if _, ok := settings["service"]; !ok {
		if v, _ := os.LookupEnv("PGSERVICE"); v != "" {
			// pgx would read a service file for it, and cannot be told not to.
			return "", quarry.Errorf(quarry.EINVALID, "the Quarry server's environment sets PGSERVICE, which the crawls of "+
				"registered sources cannot ignore: unset it for the server")
		}
	}
	maps.Copy(all, settings)
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(all)) {
		v := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(all[k])
		fmt.Fprintf(&b, "%s='%s' ", k, v)
	}
	return strings.TrimSuffix(b.String(), " "), nil
}

// dsnSettings reads a DSN as pgx v5 does (a postgres:// or postgresql://
// URL, else libpq's keyword/value pairs) into its settings by pgx's
// canonical key (dbname is database).
func dsnSettings(dsn string) (map[string]string, error) {
	if strings.IndexByte(dsn, 0) >= 0 {
		return nil, errors.New("forbidden NUL byte in connection string")
	}
	var settings map[string]string
	var err error
	if p, ok := strings.CutPrefix(dsn, "postgresql://"); ok {
		settings, err = urlSettings(p)
	} else if p, ok := strings.CutPrefix(dsn, "postgres://"); ok {
		settings, err = urlSettings(p)
	} else {
		settings, err = keywordSettings(dsn)
	}
	if err != nil {
		return nil, err
	}
	for k := range settings {
		if !validKey(k) {
			return nil, fmt.Errorf("%q is not a connection parameter", k)
		}
	}
	return settings, nil
}

// validKey: the characters of libpq's keywords and of PostgreSQL's setting
// names, which a rebuilt keyword/value DSN can hold unquoted.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func canonicalKey(k string) string {
	if k == "dbname" {
		return "database"
	}
	return k
}

// urlSettings follows pgconn's parseURLSettings (pgx v5.12.0).
func urlSettings(p string) (map[string]string, error) {
	settings := map[string]string{}
	if i := strings.IndexAny(p, "@/"); i >= 0 && p[i] == '@' {
		u, pw, hasPW := strings.Cut(p[:i], ":")
		p = p[i+1:]
		if u != "" {
			v, err := uriDecode(u, "user")
			if err != nil {
				return nil, err
			}
			settings["user"] = v
		}
		if hasPW && pw != "" {
			v, err := uriDecode(pw, "password")
			if err != nil {
				return nil, err
			}
			settings["password"] = v
		}
	}
	var hosts, ports strings.Builder
	for {
		if strings.HasPrefix(p, "[") {
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil, errors.New(`end of string reached when looking for matching "]" in IPv6 host address in URI`)
			}
			if end == 1 {
				return nil, errors.New("IPv6 host address may not be empty in URI")
			}
			hosts.WriteString(p[1:end])
			p = p[end+1:]
			if p != "" && !strings.ContainsRune(":/?,", rune(p[0])) {
				return nil, fmt.Errorf(`unexpected character %q in URI (expected ":" or "/")`, p[0])
			}
		} else {
			i := strings.IndexAny(p, ":/?,")
			if i < 0 {
				i = len(p)
			}
			hosts.WriteString(p[:i])
			p = p[i:]
		}
		if strings.HasPrefix(p, ":") {
			p = p[1:]
			i := strings.IndexAny(p, "/?,")
			if i < 0 {
				i = len(p)
			}
			ports.WriteString(p[:i])
			p = p[i:]
		}
		if !strings.HasPrefix(p, ",") {
			break
		}
		p = p[1:]
		hosts.WriteByte(',')
		ports.WriteByte(',')
	}
	if hosts.Len() > 0 {
		v, err := uriDecode(hosts.String(), "host")
		if err != nil {
			return nil, err
		}
		settings["host"] = v
	}
	if ports.Len() > 0 {
		v, err := uriDecode(ports.String(), "port")
		if err != nil {
			return nil, err
		}
		settings["port"] = v
	}
	if strings.HasPrefix(p, "/") {
		db := p[1:]
		p = ""
		if i := strings.IndexByte(db, '?'); i >= 0 {
			db, p = db[:i], db[i:]
		}
		if db != "" {
			v, err := uriDecode(db, "database")
			if err != nil {
				return nil, err
			}
			settings["database"] = v
		}
	}
	if q, ok := strings.CutPrefix(p, "?"); ok {
		sslLast := false
		query := map[string]string{}
		for q != "" {
			var pair string
			pair, q, _ = strings.Cut(q, "&")
			rawKey, rawValue, found := strings.Cut(pair, "=")
			if !found {
				return nil, fmt.Errorf(`missing key/value separator "=" in URI query parameter %q`, rawKey)
			}
			if strings.Contains(rawValue, "=") {
				return nil, fmt.Errorf(`extra key/value separator "=" in URI query parameter %q`, rawKey)
			}
			key, err := uriDecode(rawKey, "a parameter's name")
			if err != nil {
				return nil, err
			}
			key = canonicalKey(key)
			v, err := uriDecode(rawValue, key)
			if err != nil {
				return nil, err
			}
			switch key {
			case "ssl":
				sslLast = true
			case "sslmode":
				sslLast = false
			}
			query[key] = v
		}
		if query["ssl"] == "true" {
			delete(query, "ssl")
			if sslLast {
				query["sslmode"] = "require"
			}
		}
		maps.Copy(settings, query)
	}
	return settings, nil
}

// uriDecode decodes a URL's part as pgconn does: surrounding spaces are
// trimmed, inner ones are an error, %00 is forbidden. Errors name the
// part, never quote it (it may be a password).
func uriDecode(raw, what string) (string, error) {
	s := strings.Trim(raw, " ")
	if strings.Contains(s, " ") {
		return "", fmt.Errorf("unexpected spaces found in %s, use percent-encoded spaces (%%20) instead", what)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", fmt.Errorf("invalid percent-encoded token in %s", what)
		}
		c := unhex(s[i+1])<<4 | unhex(s[i+2])
		if c == 0 {
			return "", fmt.Errorf("forbidden value %%00 in percent-encoded value in %s", what)
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// keywordSettings follows pgconn's parseKeywordValueSettings (pgx
// v5.12.0): keyword = value pairs, values optionally single-quoted,
// backslash escaping the next character.
func keywordSettings(s string) (map[string]string, error) {
	const space = " \t\n\r\v\f"
	settings := map[string]string{}
	s = strings.TrimLeft(s, space)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, errors.New("invalid keyword/value")
		}
		key := strings.Trim(s[:eq], space)
		if i := strings.IndexAny(key, space); i >= 0 {
			return nil, fmt.Errorf(`missing "=" after %q in connection info string`, key[:i])
		}
		s = strings.TrimLeft(s[eq+1:], space)
		var val string
		switch {
		case s == "":
		case s[0] != '\'':
			end := 0
			for ; end < len(s) && !strings.ContainsRune(space, rune(s[end])); end++ {
				if s[end] == '\\' {
					end++
					if end == len(s) {
						break
					}
				}
			}
			end = min(end, len(s))
			val = unescape(s[:end])
			s = strings.TrimLeft(s[end:], space)
		default:
			s = s[1:]
			end := 0
			for ; end < len(s) && s[end] != '\''; end++ {
				if s[end] == '\\' {
					end++
					if end == len(s) {
						break
					}
				}
			}
			if end >= len(s) {
				return nil, errors.New("unterminated quoted string in connection info string")
			}
			val = unescape(s[:end])
			s = strings.TrimLeft(s[end+1:], space)
		}
		key = canonicalKey(key)
		if key == "" {
			return nil, errors.New("invalid keyword/value")
		}
		if key == "user" && val == "" {
			continue
		}
		settings[key] = val
	}
	return settings, nil
}

// unescape drops each backslash and keeps what follows it.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				break
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
