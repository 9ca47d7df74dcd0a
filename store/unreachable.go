package store

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quarrydata/quarry"
)

// reachable turns an error of a transaction on PostgreSQL that comes from
// the database being out of reach (down, restarting, a connection cut)
// into unavailable, which the HTTP edge answers 503 and clients retry: it
// is no fault of the operation, and "internal error" would hide that the
// next try may well work. Other errors are returned unchanged, as are all
// of bbolt's.
//
// The client is told what failed and why, not the driver's error, which
// names the database's host, port and user; that stays in the chain for
// the logs.
func (s *Store) reachable(what string, err error) error {
	if _, ok := s.db.(*pgDB); !ok || !pgUnreachable(err) {
		return err
	}
	return fmt.Errorf("%w (%w)", quarry.Errorf(quarry.EUNAVAILABLE, "%s: the PostgreSQL store cannot be reached; retry in a few seconds", what), err)
}

// pgUnreachable reports whether err says PostgreSQL could not be reached
// or the connection to it broke, rather than that it refused a statement.
func pgUnreachable(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := errors.AsType[*quarry.Error](err); ok {
		return false // the operation's own answer
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true // down, starting up, refusing connections
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		// Class 08 is a connection exception; 57P01-57P03 are a shutdown
		// (fast or immediate, which ends the sessions) and "the database
		// system is starting up".
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true // a connection reset, refused or timed out
	}
	// A connection closed under a statement: pgconn reports the broken
	// read as it met it.
	return errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.Timeout(err)
}
