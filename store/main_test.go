package store_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/store/storetest"
)

// TestMain runs the suite on each engine: on bbolt, then on PostgreSQL 15
// (a throwaway cluster from pgtest), where storetest.MustOpen opens every
// store in a new schema. $QUARRY_STORE_ENGINES (bbolt, postgres, or both
// comma-separated; both by default) narrows it, say to run benchmarks on
// one. Tests that open a file by its path (reopening, migrating an old
// file, locking) are bbolt's: they open bbolt on both passes.
// Benchmarks run on a cluster that fsyncs, as bbolt does; tests on one
// that does not.
// Without PostgreSQL's binaries the PostgreSQL pass is skipped, saying so.
func TestMain(m *testing.M) {
	flag.Parse()
	engines := os.Getenv("QUARRY_STORE_ENGINES")
	if engines == "" {
		engines = "bbolt,postgres"
	}
	code := 0
	for _, e := range strings.Split(engines, ",") {
		switch strings.TrimSpace(e) {
		case "bbolt":
			os.Unsetenv(storetest.EnvDSN)
			fmt.Println("store: the suite on bbolt")
			code = max(code, m.Run())
		case "postgres":
			code = max(code, runOnPostgres(m))
		default:
			fmt.Fprintf(os.Stderr, "QUARRY_STORE_ENGINES: unknown engine %q (bbolt, postgres)\n", e)
			code = 2
		}
	}
	os.Exit(code)
}

func runOnPostgres(m *testing.M) int {
	start := pgtest.Start
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		start = pgtest.StartDurable // commits cost what they cost bbolt: an fsync
	}
	srv, err := start(context.Background())
	if err != nil {
		if strings.Contains(err.Error(), "binaries not found") {
			fmt.Printf("store: SKIP the suite on PostgreSQL: %v\n", err)
			return 0
		}
		fmt.Fprintf(os.Stderr, "store: start PostgreSQL for the suite: %v\n", err)
		return 1
	}
	defer srv.Stop()
	os.Setenv(storetest.EnvDSN, srv.DSN("postgres"))
	defer os.Unsetenv(storetest.EnvDSN)
	fmt.Println("store: the suite on PostgreSQL")
	return m.Run()
}
