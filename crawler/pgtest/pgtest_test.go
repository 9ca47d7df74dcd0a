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
	s, err := pgtest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if err := s.CreateDatabase(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "shop", "CREATE TABLE t (id int)"); err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(s.DSN("shop"), pgtest.Password, "wrong", 1)
	if c, err := pgx.Connect(ctx, wrong); err == nil {
		c.Close(ctx)
		t.Fatal("a wrong password was accepted")
	}
}
