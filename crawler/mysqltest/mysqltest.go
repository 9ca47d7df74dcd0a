// Package mysqltest starts a throwaway MariaDB server for tests and
// benchmarks: mariadb-install-db into a temporary directory, mariadbd on a
// free loopback port with its own socket, a password-protected account for
// TCP (so a wrong password fails as it would in production), and helpers
// to run SQL and load SQL files with the mariadb client.
//
// It needs MariaDB's server and client (Debian: apt-get install
// mariadb-server mariadb-client). As root, the server runs with
// --user=root.
package mysqltest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/quarrydata/quarry/internal/dbproc"
)

// User and Password are the account the DSNs use: every privilege, over
// TCP from 127.0.0.1.
const (
	User     = "quarry"
	Password = "quarry-test"
)

// Options tune a server. The zero value is a plain server.
type Options struct {
	// PerformanceSchema turns performance_schema on (MariaDB's default is
	// off), for the table I/O counters.
	PerformanceSchema bool
	// Args are more mariadbd options, e.g. "--table-open-cache=20000".
	Args []string
}

// Server is a running throwaway MariaDB server.
type Server struct {
	Port    int
	dir     string
	proc    *dbproc.Process
	logPath string
}

// Binaries are the programs a server needs, looked up in $PATH and in
// /usr/sbin and /usr/bin.
func binary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("mysqltest: %s not found: install MariaDB (Debian: apt-get install mariadb-server mariadb-client), "+
		"which provides mariadb-install-db, mariadbd and mariadb", name)
}

// Start initializes a data directory and starts a server. Stop it with Stop.
func Start(ctx context.Context, opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	installDB, err := binary("mariadb-install-db")
	if err != nil {
		return nil, err
	}
	mariadbd, err := binary("mariadbd")
	if err != nil {
		return nil, err
	}
	if _, err := binary("mariadb"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "quarry-mariadb-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, logPath: filepath.Join(dir, "mariadbd.log")}
	// A private tmpdir: servers installed side by side in the shared /tmp
	// (test packages run in parallel) have failed deleting each other's
	// "#sql-temptable-*" files.
	if err := os.Mkdir(s.tmpdir(), 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	args := []string{"--no-defaults", "--datadir=" + s.datadir(), "--tmpdir=" + s.tmpdir(),
		"--auth-root-authentication-method=normal", "--skip-test-db"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	if out, err := exec.CommandContext(ctx, installDB, args...).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mysqltest: mariadb-install-db: %v\n%s", err, out)
	}
	if err := s.start(ctx, mariadbd, &o); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) datadir() string { return filepath.Join(s.dir, "data") }

func (s *Server) tmpdir() string { return filepath.Join(s.dir, "tmp") }

// Socket is the server's Unix socket.
func (s *Server) Socket() string { return filepath.Join(s.dir, "mariadbd.sock") }

func (s *Server) start(ctx context.Context, mariadbd string, o *Options) error {
	port, err := dbproc.FreePort()
	if err != nil {
		return err
	}
	s.Port = port
	// Durability is off: the server is thrown away.
	args := []string{"--no-defaults", "--datadir=" + s.datadir(), "--tmpdir=" + s.tmpdir(), "--socket=" + s.Socket(), "--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1", "--pid-file=" + filepath.Join(s.dir, "mariadbd.pid"), "--log-error=" + s.logPath,
		"--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--sync-frm=0",
		"--innodb-buffer-pool-size=64M", "--max-connections=50", "--character-set-server=utf8mb4",
		"--performance-schema=" + map[bool]string{true: "ON", false: "OFF"}[o.PerformanceSchema]}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args, o.Args...)
	if s.proc, err = dbproc.Start("mysqltest: mariadbd", exec.Command(mariadbd, args...), s.logPath); err != nil {
		return err
	}
	if err := s.proc.WaitReady(ctx, func() error { return s.rootExec(ctx, "SELECT 1") }); err != nil {
		return err
	}
	// The tests' account, over TCP with a password.
	return s.rootExec(ctx, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'; GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION",
		User, Password, User))
}

// rootExec runs statements as root over the socket.
func (s *Server) rootExec(ctx context.Context, stmts string) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.MultiStatements = "root", "unix", s.Socket(), true
	return execConfig(ctx, cfg, stmts)
}

func execConfig(ctx context.Context, cfg *mysql.Config, stmts string) error {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	_, err = db.ExecContext(ctx, stmts)
	return err
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// Namespace is the OpenLineage namespace of the server's datasets.
func (s *Server) Namespace() string { return "mysql://" + s.Addr() }

// DSN returns a mysql:// URL for database db (empty: none) as User.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("mysql://%s:%s@%s/%s", User, Password, s.Addr(), db)
}

// DriverDSN returns the driver's own DSN form for database db.
func (s *Server) DriverDSN(db string) string {
	return fmt.Sprintf("%s:%s@tcp(%s)/%s", User, Password, s.Addr(), db)
}

// Exec runs SQL statements (any number) in database db (empty: none).
func (s *Server) Exec(ctx context.Context, db, stmts string) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName, cfg.MultiStatements = User, Password, "tcp", s.Addr(), db, true
	return execConfig(ctx, cfg, stmts)
}

// LoadFile runs a SQL file with the mariadb client, stopping at the first
// error.
func (s *Server) LoadFile(ctx context.Context, db, path string) error {
	args := []string{"--no-defaults", "--socket=" + s.Socket(), "--user=root"}
	if db != "" {
		args = append(args, "--database="+db)
	}
	client, err := binary("mariadb")
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("mysqltest: %w (the tests need ../shared beside the repository)", err)
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, client, args...)
	cmd.Stdin = f
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mysqltest: mariadb < %s: %w\n%s", path, err, stderr.String())
	}
	return nil
}

// Fixtures are the MySQL fixtures in ../shared/fixtures/mysql: each file
// creates its own database (sakila, Chinook).
var Fixtures = []string{"sakila/sakila-schema.sql", "sakila/sakila-data.sql", "chinook/Chinook_MySql.sql"}

// LoadFixtures loads Fixtures from dir (the shared fixtures' mysql folder)
// and refreshes the tables' statistics, so that row estimates exist.
func (s *Server) LoadFixtures(ctx context.Context, dir string) error {
	for _, f := range Fixtures {
		if err := s.LoadFile(ctx, "", filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}

// Freeze stops the server with SIGSTOP, as a hung or swapped-out server
// would be: its connections stay open, the kernel still accepts new ones,
// and nothing answers. Thaw continues it.
func (s *Server) Freeze() error { return s.proc.Freeze() }

// Thaw continues a frozen server.
func (s *Server) Thaw() error { return s.proc.Thaw() }

// Stop stops the server and removes its directory. The data is
// discarded: no clean shutdown is needed.
func (s *Server) Stop() error {
	s.proc.Stop(syscall.SIGKILL)
	s.proc = nil
	return os.RemoveAll(s.dir)
}

// New starts a server for a test or benchmark and stops it when tb ends.
// A machine without MariaDB fails the test, saying how to get it.
func New(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s, err := Start(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Stop() })
	return s
}

// Database creates a database, runs stmts in it, and returns its DSN.
// Failures fail tb.
func (s *Server) Database(tb testing.TB, name, stmts string) string {
	tb.Helper()
	ctx := context.Background()
	if err := s.Exec(ctx, "", "CREATE DATABASE `"+strings.ReplaceAll(name, "`", "``")+"`"); err != nil {
		tb.Fatal(err)
	}
	if stmts != "" {
		if err := s.Exec(ctx, name, stmts); err != nil {
			tb.Fatalf("setting up database %s: %v", name, err)
		}
	}
	return s.DSN(name)
}
