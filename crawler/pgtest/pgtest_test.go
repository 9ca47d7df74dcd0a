package pgtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry/crawler/pgtest"
)

func TestStart(t *testing.T) {
	ctx := context.Background()
	s := pgtest.New(t)
	dsn := s.Database(t, "shop", "CREATE TABLE t (id int)")
	if c, err := pgx.Connect(ctx, dsn); err != nil {
		t.Fatal(err)
	} else {
		c.Close(ctx)
	}
	wrong := strings.Replace(dsn, pgtest.Password, "wrong", 1)
	if c, err := pgx.Connect(ctx, wrong); err == nil {
		c.Close(ctx)
		t.Fatal("a wrong password was accepted")
	}
}

// A durable cluster fsyncs; the default one does not.
func TestStartDurable(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		start func(context.Context) (*pgtest.Server, error)
		want  string
	}{{pgtest.Start, "off"}, {pgtest.StartDurable, "on"}} {
		s, err := c.start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err != nil {
			s.Stop()
			t.Fatal(err)
		}
		var fsync, commit string
		err = conn.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('synchronous_commit')").Scan(&fsync, &commit)
		conn.Close(ctx)
		s.Stop()
		if err != nil {
			t.Fatal(err)
		}
		if fsync != c.want || commit != c.want {
			t.Errorf("fsync %s, synchronous_commit %s; want both %s", fsync, commit, c.want)
		}
	}
}
