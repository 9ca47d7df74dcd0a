package crawler_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/crawler/pgtest"
)

// TestSourceCannotReadServerSecrets: a registered source's DSN can make the
// crawl send nothing of the server's own: not $PGPASSWORD, not a password
// from ~/.pgpass or $PGPASSFILE, not $PGOPTIONS, to whatever host it names.
func TestSourceCannotReadServerSecrets(t *testing.T) {
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".pgpass"), "*:*:*:*:secret-from-home-pgpass\n")
	passfile := filepath.Join(t.TempDir(), "pgpass")
	writeFile(t, passfile, "*:*:*:*:secret-from-pgpassfile\n")
	t.Setenv("HOME", home)
	t.Setenv("PGPASSWORD", "secret-from-pgpassword")
	t.Setenv("PGPASSFILE", passfile)
	t.Setenv("PGOPTIONS", "-c secret.from=pgoptions")
	t.Setenv("PGUSER", "secret-from-pguser")
	secrets := []string{"secret-from-home-pgpass", "secret-from-pgpassfile", "secret-from-pgpassword", "secret.from", "secret-from-pguser"}

	fake := pgtest.NewFake(t)
	ctx := context.Background()
	st := openStore(t)
	for _, dsn := range []string{
		"postgres://crawler@" + fake.Addr + "/shop?sslmode=disable",
		"postgres://crawler@" + fake.Addr + "/shop", // sslmode prefer: an SSLRequest first
		"host=127.0.0.1 port=" + port(fake.Addr) + " user=crawler dbname=shop",
		"postgres://" + fake.Addr + "/shop?sslmode=disable", // no user either
	} {
		before, _ := fake.Seen()
		_, err := crawler.CrawlPostgres(ctx, st, dsn, crawler.Options{ConnectTimeout: 5 * time.Second})
		conns, received := fake.Seen()
		if err == nil || conns == before {
			t.Fatalf("%s: the crawl did not reach the fake server (%v)", dsn, err)
		}
		if !strings.Contains(received, "shop") {
			t.Fatalf("%s: the fake server recorded no startup message: %q", dsn, received)
		}
		for _, s := range secrets {
			if strings.Contains(received, s) {
				t.Fatalf("%s: the server's %s reached the host the DSN names: %q", dsn, s, received)
			}
		}
	}

	// Through the service, a failed connection is recorded by its category
	// only: which hosts and ports answer, and how, stays in the log.
	svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close() // nothing listens: connection refused
	for name, tc := range map[string]struct{ addr, want string }{
		"fake":   {fake.Addr, "connect: password authentication failed"},
		"closed": {closedAddr, "connect: unreachable"},
	} {
		if _, err := svc.Register(ctx, quarry.Source{Name: name, Kind: quarry.SourcePostgres, DSN: "postgres://crawler:pw@" + tc.addr + "/shop?sslmode=disable"}); err != nil {
			t.Fatal(err)
		}
		run, err := svc.Crawl(ctx, name)
		if err != nil || run.Status != quarry.CrawlFailed || run.Error != tc.want {
			t.Fatalf("the %s source's run: %+v %v, want FAILED with %q", name, run, err, tc.want)
		}
	}
	if _, received := fake.Seen(); strings.Contains(received, "secret") {
		t.Fatalf("a secret reached the fake server through the service: %q", received)
	}
}

// TestSourceLocalFiles: DSN parameters that read the server's files, and
// Unix sockets of its machine, are refused before anything is read (the
// files are FIFOs, which a read would wait on) unless the policy allows
// them.
func TestSourceLocalFiles(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	fake := pgtest.NewFake(t)
	ctx := context.Background()
	st := openStore(t)
	base := "postgres://crawler@" + fake.Addr + "/shop?sslmode=require&"
	for _, tc := range []struct{ dsn, param string }{
		{base + "passfile=" + fifo, "passfile"},
		{base + "sslrootcert=" + fifo, "sslrootcert"},
		{base + "sslcert=" + fifo + "&sslkey=" + fifo, "sslcert"},
		{base + "servicefile=" + fifo + "&service=shop", "service"},
		{base + "service=shop", "service"},
		{"host=127.0.0.1 port=" + port(fake.Addr) + " dbname=shop sslrootcert='" + fifo + "'", "sslrootcert"},
		{"postgres://crawler@%2Fvar%2Frun%2Fpostgresql/shop", "Unix socket"},
		{"postgres:///shop", "no host"},
		{"dbname=shop host=/tmp", "Unix socket"},
	} {
		var err error
		crawlWithin(t, 10*time.Second, func() error {
			_, err = crawler.CrawlPostgres(ctx, st, tc.dsn, crawler.Options{})
			return err
		})
		if qe, ok := errors.AsType[*quarry.Error](err); !ok || qe.Code != quarry.EINVALID || qe.Field != "dsn" || !strings.Contains(qe.Message, tc.param) {
			t.Fatalf("%s: %v, want invalid dsn naming %s", tc.dsn, err, tc.param)
		}
	}
	if conns, _ := fake.Seen(); conns != 0 {
		t.Fatalf("a refused DSN connected %d times", conns)
	}
	svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
	if _, err := svc.Register(ctx, quarry.Source{Name: "files", Kind: quarry.SourcePostgres, DSN: base + "passfile=" + fifo}); quarry.ErrorCode(err) != quarry.EINVALID {
		t.Fatalf("registering a source whose DSN reads a file: %v", err)
	}

	// Allowed, a passfile is read: the fake server gets its password.
	passfile := filepath.Join(t.TempDir(), "pgpass")
	writeFile(t, passfile, "*:*:*:*:allowed-passfile-password\n")
	_, err := crawler.CrawlPostgres(ctx, st, "postgres://crawler@"+fake.Addr+"/shop?sslmode=disable&passfile="+passfile, crawler.Options{AllowLocalFiles: true})
	if _, received := fake.Seen(); err == nil || !strings.Contains(received, "allowed-passfile-password") {
		t.Fatalf("with local files allowed, the passfile's password was not sent (%v): %q", err, received)
	}
}

// TestSourceDSNEnv: a source's dsnEnv may name only the environment
// variables with the policy's prefix, not any of the server's.
func TestSourceDSNEnv(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	dsn := pg.DSN("chinook")
	env := map[string]string{"HOME": dsn, "QUARRY_SOURCE_CHINOOK": dsn, "ACME_CHINOOK": dsn}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		prefix, name string
		ok           bool
	}{
		{"", "QUARRY_SOURCE_CHINOOK", true},
		{"", "HOME", false},
		{"", "ACME_CHINOOK", false},
		{"ACME_", "ACME_CHINOOK", true},
		{"ACME_", "QUARRY_SOURCE_CHINOOK", false},
	} {
		svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler), Getenv: getenv,
			Policy: crawler.SourcePolicy{DSNEnvPrefix: tc.prefix}})
		_, err := svc.Register(ctx, quarry.Source{Name: "chinook", Kind: quarry.SourcePostgres, DSNEnv: tc.name})
		if qe, isQE := errors.AsType[*quarry.Error](err); tc.ok != (err == nil) || !tc.ok && (!isQE || qe.Field != "dsnEnv") {
			t.Fatalf("prefix %q, dsnEnv %s: %v", tc.prefix, tc.name, err)
		}
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// TestIsolatedConfigReadsDSNsAsPgx: with no PG* environment and an empty
// home directory, a source's DSN read without them gives the connection
// config pgx's own ParseConfig gives.
func TestIsolatedConfigReadsDSNsAsPgx(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGAPPNAME", "PGSSLMODE",
		"PGSERVICE", "PGSERVICEFILE", "PGOPTIONS", "PGTZ", "PGCONNECT_TIMEOUT", "PGTARGETSESSIONATTRS", "PGSSLROOTCERT"} {
		t.Setenv(k, "")
	}
	for _, dsn := range []string{
		"postgres://u:p%40ss@h:5433/db?sslmode=disable&search_path=x",
		"postgresql://u@h1:1,h2:2/db?sslmode=disable",
		"postgres://u@[::1]:5432/db?sslmode=require",
		"postgres://u:@h/db",
		"postgres://h/db?user=u2&dbname=other&ssl=true",
		"postgres://u@h/db?connect_timeout=3&target_session_attrs=read-write&channel_binding=disable",
		`host=h port=5 dbname='my db' user=u password='a\'b c' sslmode=disable application_name=x`,
		"host = h dbname=d user='' options='-c geqo=off' timezone=UTC",
		"host=h,k port=1,2 dbname=d sslmode=verify-full sslrootcert=system",
		"postgres://u@h/db?x",
		"postgres://u@h/db?sslmode=nonsense",
		"host=h dbname='d",
	} {
		want, werr := pgx.ParseConfig(dsn)
		got, gerr := crawler.IsolatedConfig(dsn, true)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: pgx says %v, the crawler %v", dsn, werr, gerr)
			continue
		}
		if werr != nil {
			continue
		}
		delete(want.RuntimeParams, "application_name")
		delete(got.RuntimeParams, "application_name")
		if got.Host != want.Host || got.Port != want.Port || got.Database != want.Database || got.User != want.User ||
			got.Password != want.Password || !maps.Equal(got.RuntimeParams, want.RuntimeParams) ||
			(got.TLSConfig == nil) != (want.TLSConfig == nil) || len(got.Fallbacks) != len(want.Fallbacks) ||
			got.ConnectTimeout != want.ConnectTimeout || got.SSLNegotiation != want.SSLNegotiation || got.ChannelBinding != want.ChannelBinding {
			t.Errorf("%s:\n got %s:%d/%s user %q password %q params %v tls %v fallbacks %d timeout %v\nwant %s:%d/%s user %q password %q params %v tls %v fallbacks %d timeout %v", dsn,
				got.Host, got.Port, got.Database, got.User, got.Password, got.RuntimeParams, got.TLSConfig != nil, len(got.Fallbacks), got.ConnectTimeout,
				want.Host, want.Port, want.Database, want.User, want.Password, want.RuntimeParams, want.TLSConfig != nil, len(want.Fallbacks), want.ConnectTimeout)
		}
	}
}
