package quarry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry"
)

func TestNormalizeNamespace(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Scheme aliases and case.
		{"postgresql://db.internal:5432", "postgres://db.internal:5432"},
		{"POSTGRES://DB.Internal:5432", "postgres://db.internal:5432"},
		{"pgsql://db:5432", "postgres://db:5432"},
		{"mariadb://shop-db:3306", "mysql://shop-db:3306"},
		// Default ports made explicit.
		{"postgres://db.internal", "postgres://db.internal:5432"},
		{"mysql://10.0.0.5", "mysql://10.0.0.5:3306"},
		{"redshift://analytics.us-east-1", "redshift://analytics.us-east-1:5439"},
		{"redshift://analytics.us-east-1:5439", "redshift://analytics.us-east-1:5439"},
		{"postgres://db:6543", "postgres://db:6543"},
		{"kafka://broker", "kafka://broker:9092"},
		{"postgres://[::1]", "postgres://[::1]:5432"},
		{"postgres://[::1]:6000", "postgres://[::1]:6000"},
		// User info, query, fragment and trailing slashes dropped.
		{"postgres://etl:s3cret@db.internal:5432/", "postgres://db.internal:5432"},
		{"postgresql://user@db.internal/shop?sslmode=require", "postgres://db.internal:5432/shop"},
		{"mysql://root:pw@host:3306/?tls=true#x", "mysql://host:3306"},
		// Passwords with URL delimiters in them are still credentials.
		{"postgres://etl:9/9@db.internal:5432", "postgres://db.internal:5432"},
		{"postgres://etl:12#45@db.internal:5432/", "postgres://db.internal:5432"},
		{"postgres://etl:a?b@c@db.internal", "postgres://db.internal:5432"},
		{"postgres://db:05432", "postgres://db:5432"},
		{"  postgres://db:5432//  ", "postgres://db:5432"},
		// Schemes without a default port keep what they have.
		{"s3://acme-exports", "s3://acme-exports"},
		{"s3://acme-exports/", "s3://acme-exports"},
		{"gs://Bucket/path/", "gs://bucket/path"},
		{"hdfs://namenode:8020", "hdfs://namenode:8020"},
		{"spanner://project:instance", "spanner://project:instance"},
		{"snowflake://ORG-ACCOUNT", "snowflake://org-account"},
		// Blob stores keep container@host: it is not a credential there.
		{"abfss://container@svc.dfs.core.windows.net", "abfss://container@svc.dfs.core.windows.net"},
		{"azurecosmos://host/dbs/Orders", "azurecosmos://host/dbs/Orders"},
		// Namespaces without a scheme (job namespaces, "bigquery") stay as written.
		{"food_delivery", "food_delivery"},
		{"bigquery", "bigquery"},
		{"MyTeam", "MyTeam"},
		{"inmemory://", "inmemory://"},
		{"duckdb:///database/jaffle_shop.duckdb", "duckdb:///database/jaffle_shop.duckdb"},
		{"file:///tmp/x/", "file:///tmp/x"},
		{"http://Api.Example.com/v1", "http://api.example.com/v1"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := quarry.NormalizeNamespace(tc.in)
			if err != nil {
				t.Fatalf("NormalizeNamespace(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("NormalizeNamespace(%q) = %q, want %q", tc.in, got, tc.want)
			}
			again, _ := quarry.NormalizeNamespace(got)
			if again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestNormalizeNamespaceInvalid(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"postgres://",
		"postgres://:5432",
		"http://",
		"HTTPS://",
		"https:///path",
		"s3://",
		"s3:///key",
		"gs://",
		"snowflake://",
		"postgres://db:port",
		"postgres://db:",
		"postgres://db:0",
		"postgres://db:99999",
		"postgres://[::1]junk",
		"postgres://[::1",
		"postgres://::1:5432",
		"1postgres://db",
		"post gres://db",
		"postgres://my db:5432",
		"team space",
		"bad\x00ns",
		strings.Repeat("a", quarry.MaxNamespaceLen+1),
		"\xff\xfe",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := quarry.NormalizeNamespace(in)
			if quarry.ErrorCode(err) != quarry.EINVALID {
				t.Fatalf("NormalizeNamespace(%q) error = %v, want code invalid", in, err)
			}
		})
	}
}

func TestNormalizeNamespaceHidesPasswords(t *testing.T) {
	for _, in := range []string{"postgres://admin:hunter2@db:xyz", "postgres://admin:hunter2@[::1", "post gres://admin:hunter2@db"} {
		_, err := quarry.NormalizeNamespace(in)
		if err == nil || strings.Contains(err.Error(), "hunter2") && strings.HasPrefix(in, "postgres") {
			t.Errorf("NormalizeNamespace(%q) = %v: want an error without the password", in, err)
		}
	}
}

func TestDatasetID(t *testing.T) {
	a, err := quarry.DatasetID("postgresql://etl@DB.internal/", "shop.public.orders")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := quarry.DatasetID("postgres://db.internal:5432/", "shop.public.orders")
	if a != b {
		t.Fatalf("the same table named two ways got two IDs: %s, %s", a, b)
	}
	// Spaces are part of a name: "orders " is another table.
	if c, _ := quarry.DatasetID("postgres://db.internal:5432", "shop.public.orders "); c == a {
		t.Fatal("a trailing space was dropped from a name")
	}
	if u := uuid.MustParse(a); u.Version() != 5 {
		t.Fatalf("ID %s is UUID version %d, want 5", a, u.Version())
	}
	// Names are case-sensitive; datasets and jobs with one name differ.
	c, _ := quarry.DatasetID("postgres://db.internal:5432", "shop.public.Orders")
	if c == a {
		t.Fatal("names differing in case got one ID")
	}
	if quarry.NewID(quarry.EntityJob, "postgres://db.internal:5432", "shop.public.orders") == a {
		t.Fatal("a job and a dataset with one name got one ID")
	}
	// Stable across releases: IDs are in users' bookmarks, scripts and
	// backups. A change here is a breaking change.
	if want := "a631c8fb-40e2-5c78-81c2-7845c86a6b1d"; a != want {
		t.Fatalf("ID = %s, want %s", a, want)
	}

	_, err = quarry.DatasetID("postgres://db:x", "t")
	assertField(t, err, "namespace")
	_, err = quarry.DatasetID("postgres://db", "")
	assertField(t, err, "name")
}

func TestDatasetNormalize(t *testing.T) {
	valid := func() quarry.Dataset {
		return quarry.Dataset{
			Namespace: "postgres://db", Name: "shop.public.orders",
			Columns:  []quarry.Column{{Name: "id", Type: "bigint"}, {Name: "total", Type: "numeric"}},
			Provided: quarry.Metadata{Owners: []string{" bob ", "alice", "bob", ""}, Tags: []string{"pii"}},
		}
	}
	t.Run("OK", func(t *testing.T) {
		d := valid()
		if err := d.Normalize(); err != nil {
			t.Fatal(err)
		}
		if d.Kind != quarry.KindTable || d.ID == "" || d.Columns[1].Ordinal != 2 {
			t.Fatalf("normalized: %+v", d)
		}
		if got := strings.Join(d.Provided.Owners, ","); got != "alice,bob" {
			t.Fatalf("owners = %q", got)
		}
	})
	for _, tc := range []struct {
		name, field string
		mutate      func(*quarry.Dataset)
	}{
		{"ErrNamespace", "namespace", func(d *quarry.Dataset) { d.Namespace = "" }},
		{"ErrName", "name", func(d *quarry.Dataset) { d.Name = "a\nb" }},
		{"ErrKind", "kind", func(d *quarry.Dataset) { d.Kind = "SPREADSHEET" }},
		{"ErrColumnName", "columns[1].name", func(d *quarry.Dataset) { d.Columns[1].Name = " " }},
		{"ErrColumnNameControl", "columns[1].name", func(d *quarry.Dataset) { d.Columns[1].Name = "a\tb" }},
		{"ErrColumnDuplicate", "columns[1].name", func(d *quarry.Dataset) { d.Columns[1].Name = "id" }},
		{"ErrColumnOrdinal", "columns[0].ordinal", func(d *quarry.Dataset) { d.Columns[0].Ordinal = -1 }},
		{"ErrOrdinalDuplicate", "columns[1].ordinal", func(d *quarry.Dataset) { d.Columns[0].Ordinal = 2 }},
		{"ErrForeignKey", "columns[0].foreignKey.column", func(d *quarry.Dataset) {
			d.Columns[0].ForeignKey = &quarry.ColumnRef{Namespace: "postgres://db", Name: "shop.public.users"}
		}},
		{"ErrOwner", "owners[1]", func(d *quarry.Dataset) { d.Provided.Owners[1] = "al\x07ice" }},
		{"ErrTags", "tags", func(d *quarry.Dataset) { d.Provided.Tags = make([]string, quarry.MaxLabels+1) }},
		{"ErrRowCount", "rowCount", func(d *quarry.Dataset) { n := int64(-1); d.RowCount = &n }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.mutate(&d)
			assertField(t, d.Normalize(), tc.field)
		})
	}
	t.Run("ErrDescription", func(t *testing.T) {
		d := valid()
		d.Provided.Description = strings.Repeat("x", quarry.MaxDescriptionLen+1)
		assertCode(t, d.Normalize(), quarry.ETOOLARGE, "description")
	})
}

func TestErrorHelpers(t *testing.T) {
	err := quarry.InField("input", quarry.InField("[2]", quarry.Invalid("columns[0].name", "must not be empty")))
	if got := err.Error(); got != "input[2].columns[0].name: must not be empty" {
		t.Fatalf("Error() = %q", got)
	}
	if quarry.ErrorCode(errors.New("disk on fire")) != quarry.EINTERNAL || quarry.ErrorMessage(errors.New("disk on fire")) != "internal error" {
		t.Fatal("a plain error is not internal")
	}
	if quarry.ErrorCode(nil) != "" || quarry.InField("x", nil) != nil {
		t.Fatal("nil handling")
	}
}

func assertField(t *testing.T, err error, field string) {
	t.Helper()
	assertCode(t, err, quarry.EINVALID, field)
}

func assertCode(t *testing.T, err error, code, field string) {
	t.Helper()
	e, ok := errors.AsType[*quarry.Error](err)
	if !ok || e.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
	if e.Field != field {
		t.Fatalf("error %v names field %q, want %q", err, e.Field, field)
	}
}
