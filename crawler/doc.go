// Package crawler reads database catalogs into the store: one file set per
// source kind (postgres*.go, mysql*.go), and the core they share (crawl.go:
// options, deadlines, writing a crawl and marking what it no longer has
// removed; service.go: sources, runs and schedules), which knows of a kind
// only what its layout says (where a stored dataset lives).
//
// Rules: a crawler opens a read-only transaction with a statement timeout
// and a lock timeout and runs nothing but catalog queries: it reads no table
// data and takes no locks on user relations (so it calls none of the
// functions that open relations, such as pg_total_relation_size or, unless
// asked, pg_get_viewdef; MySQL's information_schema is read, never a
// table). It writes only through the store. A dataset is
// marked removed only by a complete and successful crawl of its scope; a
// failed, cancelled, timed-out or partial crawl removes nothing. Deadlines
// (connect, each query, the whole crawl) are counted here as well as by the
// server: a frozen server cannot enforce its own. Passwords are never
// logged or returned: DSNs are shown through quarry.RedactDSN.
//
// A registered source's DSN comes from whoever may register sources, and
// the crawl runs as the server: it is read without the server's PG*
// environment and home directory, may not read the server's files or use
// its Unix sockets unless allowed (dsn.go), and a failure to connect is
// recorded only by its category (ConnectError), so that sources cannot be
// used to read the server's secrets or to map its network.
package crawler
