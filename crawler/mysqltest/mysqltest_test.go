package mysqltest_test

import (
	"context"
	"testing"

	"github.com/quarrydata/quarry/crawler/mysqltest"
)

// TestServer: a server starts, takes the account's password over TCP, runs
// SQL, and is gone after Stop.
func TestServer(t *testing.T) {
	ctx := context.Background()
	s, err := mysqltest.Start(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Database(t, "shop", "CREATE TABLE orders (id int PRIMARY KEY)")
	if err := s.Exec(ctx, "shop", "INSERT INTO orders VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "shop", "SELECT 1"); err == nil {
		t.Fatal("a stopped server still answers")
	}
}
