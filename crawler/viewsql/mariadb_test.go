package viewsql_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quarrydata/quarry/crawler/viewsql"
)

// mariadb is a throwaway MariaDB server on a Unix socket, for reading view
// definitions as the server prints them. It is local to this test (the
// crawler's tests have their own helper): no TCP, no grant tables.
type mariadb struct{ socket string }

func startMariaDB(t *testing.T) *mariadb {
	t.Helper()
	for _, bin := range []string{"mariadb-install-db", "mariadbd", "mariadb"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not found: this test needs a MariaDB server installed (Debian: apt-get install mariadb-server mariadb-client)", bin)
		}
	}
	// A short directory: a socket path must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "viewsql")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	install := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=normal", "--user=root", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	m := &mariadb{socket: filepath.Join(dir, "s")}
	var log bytes.Buffer
	srv := exec.Command("mariadbd", "--no-defaults", "--datadir="+data, "--socket="+m.socket, "--skip-networking",
		"--user=root", "--skip-grant-tables", "--innodb-buffer-pool-size=16M", "--log-error="+filepath.Join(dir, "err.log"))
	srv.Stdout, srv.Stderr = &log, &log
	if err := srv.Start(); err != nil {
		t.Fatalf("mariadbd: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := m.try("SELECT 1"); err == nil {
			return m
		}
		select {
		case err := <-done:
			errLog, _ := os.ReadFile(filepath.Join(dir, "err.log"))
			t.Fatalf("mariadbd exited: %v\n%s%s", err, log.String(), errLog)
		default:
		}
		if time.Now().After(deadline) {
			errLog, _ := os.ReadFile(filepath.Join(dir, "err.log"))
			t.Fatalf("mariadbd did not answer within 60s\n%s", errLog)
		}
	}
}

func (m *mariadb) try(query string) (string, error) {
	out, err := exec.Command("mariadb", "--no-defaults", "--socket="+m.socket, "-uroot", "-N", "-B", "-r", "-e", query).Output()
	return strings.TrimSuffix(string(out), "\n"), err
}

// query runs one statement and returns its output, raw (no escaping).
func (m *mariadb) query(t *testing.T, query string) string {
	t.Helper()
	out, err := m.try(query)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("%s: %v\n%s", query, err, ee.Stderr)
		}
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

func (m *mariadb) load(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("mariadb", "--no-defaults", "--socket="+m.socket, "-uroot")
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("loading %s: %v\n%s", path, err, out)
	}
}

// viewDefinition reads a view's definition as the server prints it.
func (m *mariadb) viewDefinition(t *testing.T, schema, view string) string {
	t.Helper()
	def := m.query(t, "SELECT VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '"+schema+"' AND TABLE_NAME = '"+view+"'")
	if def == "" {
		t.Fatalf("no definition for %s.%s", schema, view)
	}
	return def
}

// TestMariaDBPrinted parses the views as MariaDB prints them in
// information_schema.VIEWS (fully qualified, join conditions in on(...),
// ORDER BY an alias printed as the aliased expression) and checks that they
// give the same lineage as the CREATE VIEW statements they came from.
func TestMariaDBPrinted(t *testing.T) {
	m := startMariaDB(t)
	m.load(t, fixture(t, "mysql/sakila/sakila-schema.sql"))
	s := sakila(t)
	names := strings.Fields(m.query(t, "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'sakila' ORDER BY TABLE_NAME"))
	if len(names) != 7 {
		t.Fatalf("MariaDB has views %v, want Sakila's 7", names)
	}
	for _, f := range sakilaFacts {
		t.Run(f.view, func(t *testing.T) {
			def := m.viewDefinition(t, "sakila", f.view)
			if !strings.HasPrefix(def, "select ") || !strings.Contains(def, "`sakila`.`") {
				t.Fatalf("not in the printed form: %.80s", def)
			}
			printed, err := viewsql.Parse("sakila", def, s.tables)
			if err != nil {
				t.Fatalf("%v\n%s", err, def)
			}
			requireTables(t, printed, f.tables...)
			if !slices.Equal(printed.Output, f.output) {
				t.Errorf("output %v, want %v", printed.Output, f.output)
			}
			requireEdges(t, printed, f.want, f.absent...)
			written := parseSakila(t, s, f.view)
			if got, want := edges(printed), edges(written); !slices.Equal(got, want) {
				t.Errorf("printed form gives\n  %s\nCREATE VIEW gives\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}

	// Views of other shapes, written here, as MariaDB prints them back.
	for _, c := range []struct {
		name, create string
		want         []string
	}{
		{
			name:   "UnionDerivedCTE",
			create: "CREATE VIEW sakila.v_union AS WITH cheap AS (SELECT film_id, title FROM film WHERE rental_rate < 1) SELECT d.title AS title FROM (SELECT title FROM cheap UNION SELECT name FROM category) d",
			want: []string{
				"title <- sakila.film.title DIRECT/IDENTITY",
				"title <- sakila.category.name DIRECT/IDENTITY",
				"sakila.film.rental_rate INDIRECT/FILTER",
			},
		},
		{
			name:   "StarCaseWindow",
			create: "CREATE VIEW sakila.v_star AS SELECT l.*, CASE WHEN l.language_id = 1 THEN UPPER(l.name) END AS shout, RANK() OVER (ORDER BY l.name) AS r FROM language l WHERE l.name IN (SELECT name FROM category)",
			want: []string{
				"language_id <- sakila.language.language_id DIRECT/IDENTITY",
				"name <- sakila.language.name DIRECT/IDENTITY",
				"shout <- sakila.language.language_id INDIRECT/CONDITIONAL",
				"shout <- sakila.language.name DIRECT/TRANSFORMATION",
				"r <- sakila.language.name INDIRECT/WINDOW",
				"sakila.category.name INDIRECT/FILTER",
				"sakila.language.name INDIRECT/FILTER",
			},
		},
		{
			name:   "IntersectExcept",
			create: "CREATE VIEW sakila.v_setops AS SELECT name FROM category INTERSECT SELECT name FROM language EXCEPT SELECT title FROM film",
			want: []string{
				"name <- sakila.category.name DIRECT/IDENTITY",
				"name <- sakila.language.name DIRECT/IDENTITY",
				"sakila.film.title INDIRECT/FILTER",
			},
		},
		{
			name:   "ViewOverView",
			create: "CREATE VIEW sakila.v_nested AS SELECT store, total_sales FROM sales_by_store WHERE manager LIKE 'M%'",
			want: []string{
				"store <- sakila.sales_by_store.store DIRECT/IDENTITY",
				"sakila.sales_by_store.manager INDIRECT/FILTER",
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			m.query(t, "USE sakila; "+c.create)
			view := strings.Fields(c.create)[2][len("sakila."):]
			def := m.viewDefinition(t, "sakila", view)
			l, err := viewsql.Parse("sakila", def, s.tables)
			if err != nil {
				t.Fatalf("%v\n%s", err, def)
			}
			requireEdges(t, l, c.want)
		})
	}

	t.Run("Chinook", func(t *testing.T) {
		m.load(t, fixture(t, "mysql/chinook/Chinook_MySql.sql"))
		m.query(t, "CREATE VIEW Chinook.AlbumArtist AS SELECT al.Title, ar.Name AS Artist FROM Chinook.Album al JOIN Chinook.Artist ar USING (ArtistId)")
		def := m.viewDefinition(t, "Chinook", "AlbumArtist")
		sc := loadScript(t, fixture(t, "mysql/chinook/Chinook_MySql.sql"), "Chinook")
		l, err := viewsql.Parse("Chinook", def, sc.tables)
		if err != nil {
			t.Fatalf("%v\n%s", err, def)
		}
		requireTables(t, l, "Chinook.Album", "Chinook.Artist")
		requireEdges(t, l, []string{
			"Title <- Chinook.Album.Title DIRECT/IDENTITY",
			"Artist <- Chinook.Artist.Name DIRECT/IDENTITY",
			"Chinook.Album.ArtistId INDIRECT/JOIN",
			"Chinook.Artist.ArtistId INDIRECT/JOIN",
		})
	})
}
