// Package pgtest starts a throwaway PostgreSQL cluster for tests and
// benchmarks: initdb into a temporary directory, a postgres server on a free
// loopback port, password authentication over TCP (so a wrong password
// fails as it would in production), and helpers to create databases and
// load SQL files with psql.
//
// It needs PostgreSQL's server binaries: $QUARRY_PG_BIN, else
// /usr/lib/postgresql/15/bin, else `pg_config --bindir`. initdb refuses to
// run as root, so as root the cluster runs as the postgres user.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry/internal/dbproc"
)

// Password is the superuser's password in every test cluster.
const Password = "quarry-test"

// Options tune a cluster. The zero value is a plain one.
type Options struct {
	// Args are more postgres options, e.g. "-c",
	// "shared_preload_libraries=pg_stat_statements".
	Args []string
}

// Server is a running throwaway cluster.
type Server struct {
	Port    int
	opts    Options
	dir     string
	bin     string
	proc    *dbproc.Process
	runAs   []string // prefix that runs a command as the cluster's owner
	logPath string
}

// Start initializes and starts a cluster. Stop it with Stop.
func Start(ctx context.Context) (*Server, error) { return StartWith(ctx, nil) }

// StartDurable starts a cluster that fsyncs its commits as a production
// server does (Start's does not: it is thrown away), for benchmarks that
// compare commit costs with an fsync'd store.
func StartDurable(ctx context.Context) (*Server, error) {
	return StartWith(ctx, &Options{Args: []string{"-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on"}})
}

// StartWith is Start with options (nil: none).
func StartWith(ctx context.Context, opts *Options) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "quarry-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin, logPath: filepath.Join(dir, "postgres.log")}
	if opts != nil {
		s.opts = *opts
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root needs a postgres user to own the cluster: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.runAs = []string{"runuser", "-u", "postgres", "--"}
	}
	if err := s.initdb(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func binDir() (string, error) {
	candidates := []string{os.Getenv("QUARRY_PG_BIN"), "/usr/lib/postgresql/15/bin"}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "initdb")); err == nil {
			return c, nil
		}
	}
	return "", errors.New("pgtest: PostgreSQL server binaries not found: install PostgreSQL 15 " +
		"(Debian: apt-get install postgresql-15) or set QUARRY_PG_BIN to the directory holding initdb and postgres")
}

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	full := append(append(append([]string{}, s.runAs...), filepath.Join(s.bin, name)), args...)
	return exec.CommandContext(ctx, full[0], full[1:]...)
}

func (s *Server) initdb(ctx context.Context) error {
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(Password+"\n"), 0o644); err != nil {
		return err
	}
	cmd := s.command(ctx, "initdb", "-D", filepath.Join(s.dir, "data"), "-U", "postgres", "--pwfile", pwfile,
		"--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	return nil
}

func (s *Server) start(ctx context.Context) error {
	if s.Port == 0 { // Up starts it again on its port
		port, err := dbproc.FreePort()
		if err != nil {
			return err
		}
		s.Port = port
	}
	var err error
	// Durability is off: the cluster is thrown away.
	args := append([]string{"-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(s.Port), "-k", s.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=50", "-c", "shared_buffers=128MB", "-c", "max_locks_per_transaction=1024"}, s.opts.Args...)
	cmd := s.command(context.Background(), "postgres", args...)
	if s.proc, err = dbproc.Start("pgtest: postgres", cmd, s.logPath); err != nil {
		return err
	}
	return s.proc.WaitReady(ctx, func() error {
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
		}
		return err
	})
}

// DSN returns a superuser connection string for database db.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", Password, s.Port, db)
}

// Exec runs SQL statements in database db.
func (s *Server) Exec(ctx context.Context, db, sql string) error {
	conn, err := pgx.Connect(ctx, s.DSN(db))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// CreateDatabase creates an empty database.
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	return s.Exec(ctx, "postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
}

// LoadFile runs a SQL file with psql (which understands COPY ... FROM
// stdin and backslash commands), going on past errors. It returns psql's
// error output, for tests that expect some statements to fail.
func (s *Server) LoadFile(ctx context.Context, db, path string) (string, error) {
	psql := filepath.Join(s.bin, "psql")
	if _, err := os.Stat(psql); err != nil {
		psql = "psql"
	}
	cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=0", "-d", s.DSN(db), "-f", path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.Stdout = nil
	if err := cmd.Run(); err != nil {
		return stderr.String(), fmt.Errorf("pgtest: psql -f %s: %w\n%s", path, err, stderr.String())
	}
	return stderr.String(), nil
}

// Freeze stops every process of the server (the postmaster and its
// backends) with SIGSTOP, as a hung or swapped-out server would be: its
// connections stay open, the kernel still accepts new ones, and nothing
// answers. Thaw continues them; a test that freezes thaws in t.Cleanup
// (Stop thaws too).
func (s *Server) Freeze() error { return s.proc.Freeze() }

// Thaw continues a frozen server's processes.
func (s *Server) Thaw() error { return s.proc.Thaw() }

// Down shuts the server down (fast: its clients' connections are cut),
// keeping its cluster; Up starts it again on the same port. A test of
// clients that live through a database restart uses them.
func (s *Server) Down() { s.proc.Stop(syscall.SIGINT) }

// Up starts the server Down stopped.
func (s *Server) Up(ctx context.Context) error { return s.start(ctx) }

// Stop stops the server and removes its directory.
func (s *Server) Stop() error {
	// SIGQUIT is PostgreSQL's immediate shutdown; the cluster is discarded.
	s.proc.Stop(syscall.SIGQUIT)
	return os.RemoveAll(s.dir)
}

// New starts a cluster for a test or benchmark and stops it when tb ends.
// A machine without PostgreSQL fails the test, saying how to get it.
func New(tb testing.TB) *Server { tb.Helper(); return NewWith(tb, nil) }

// NewWith is New with options (nil: none).
func NewWith(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s, err := StartWith(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Stop() })
	return s
}

// Database creates a database, runs sql in it (any number of statements),
// and returns its DSN. Failures fail tb.
func (s *Server) Database(tb testing.TB, name, sql string) string {
	tb.Helper()
	ctx := context.Background()
	if err := s.CreateDatabase(ctx, name); err != nil {
		tb.Fatal(err)
	}
	if sql != "" {
		if err := s.Exec(ctx, name, sql); err != nil {
			tb.Fatalf("setting up database %s: %v", name, err)
		}
	}
	return s.DSN(name)
}

// Fixtures are the PostgreSQL schemas in ../shared/fixtures/postgres, by
// database name. Pagila has its data, the others their schemas only.
var Fixtures = map[string][]string{
	"pagila":         {"pagila/pagila-schema.sql", "pagila/pagila-data.sql"},
	"chinook":        {"chinook/Chinook_PostgreSql.sql"},
	"northwind":      {"northwind/northwind.sql"},
	"adventureworks": {"adventureworks/schema.sql"},
}

// LoadFixtures creates a database for each fixture, loads it from dir (the
// shared fixtures' postgres folder) and analyzes it, so that row estimates
// exist.
func (s *Server) LoadFixtures(ctx context.Context, dir string) error {
	for db, files := range Fixtures {
		if err := s.CreateDatabase(ctx, db); err != nil {
			return err
		}
		for _, f := range files {
			path := filepath.Join(dir, f)
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("pgtest: fixture %s missing (the tests need ../shared beside the repository): %w", path, err)
			}
			if _, err := s.LoadFile(ctx, db, path); err != nil {
				return err
			}
		}
		if err := s.Exec(ctx, db, "ANALYZE"); err != nil {
			return err
		}
	}
	return nil
}
