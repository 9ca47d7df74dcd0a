package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quarrydata/quarry"
)

// Only the database being out of reach is unavailable: a statement it
// refuses, or the operation's own answer, is not.
func TestPgUnreachable(t *testing.T) {
	// A real connection error: nothing listens on a port just let go.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, connectErr := pgx.Connect(context.Background(), "postgres://quarry:secret@"+addr+"/db?connect_timeout=5")
	if connectErr == nil {
		t.Fatal("connected to a closed port")
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"ConnectionRefused", fmt.Errorf("store: begin a read transaction: %w", connectErr), true},
		{"AdminShutdown", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}, true},
		{"StartingUp", &pgconn.PgError{Severity: "FATAL", Code: "57P03"}, true},
		{"ConnectionFailure", &pgconn.PgError{Severity: "FATAL", Code: "08006"}, true},
		{"ConnectionCut", fmt.Errorf("store: %w", io.ErrUnexpectedEOF), true},
		{"ConnClosed", fmt.Errorf("store: %w", pgconn.ErrConnClosed), true},
		{"UniqueViolation", &pgconn.PgError{Severity: "ERROR", Code: "23505"}, false},
		{"NotFound", quarry.Errorf(quarry.ENOTFOUND, "dataset not found"), false},
		{"Other", errors.New("store: write panicked"), false},
		{"Nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pgUnreachable(tc.err); got != tc.want {
				t.Errorf("pgUnreachable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}

	// What the client reads says what failed and why, and not where the
	// database is; the log keeps the driver's error.
	s := &Store{db: &pgDB{}}
	err = s.reachable("read the store", fmt.Errorf("store: begin a read transaction: %w", connectErr))
	if quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
		t.Fatalf("code %q, want unavailable: %v", quarry.ErrorCode(err), err)
	}
	if msg := quarry.ErrorMessage(err); msg != "read the store: the PostgreSQL store cannot be reached; retry in a few seconds" || strings.Contains(msg, addr) {
		t.Errorf("the client reads %q", msg)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("the log reads %q, without the driver's error", err)
	}
	if bolt := (&Store{db: boltDB{}}); bolt.reachable("read", io.ErrUnexpectedEOF) != io.ErrUnexpectedEOF {
		t.Error("a bbolt store's error was changed")
	}
}
