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
