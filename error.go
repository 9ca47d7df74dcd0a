package quarry

import (
	"errors"
	"fmt"
)

// Error codes. They are part of the API: GraphQL clients read them from
// extensions.code and the HTTP endpoints map them to status codes.
const (
	EINVALID      = "invalid"      // the input is malformed; Field names what
	ENOTFOUND     = "not_found"    // the entity does not exist
	ECONFLICT     = "conflict"     // the change contradicts stored state
	EUNAUTHORIZED = "unauthorized" // the caller may not do this
	// EUNAUTHENTICATED: the caller sent no credentials (or bad ones) where
	// some are required; signing in or a token would help.
	EUNAUTHENTICATED     = "unauthenticated"
	ETOOLARGE            = "too_large"            // the request exceeds a configured limit
	EUNAVAILABLE         = "unavailable"          // overloaded for now; retry later
	ECANCELLED           = "cancelled"            // the request was cancelled or ran out of time before it finished
	EINSUFFICIENTSTORAGE = "insufficient_storage" // the server's disk is full: writes fail until space is freed, reads go on
	EINTERNAL            = "internal"             // a bug or an I/O failure; details are logged, not shown
)

// Error is the one error type whose message is safe to show to a client.
// Anything that is not an *Error (after unwrapping) is internal: it is logged
// with detail and presented as "internal error".
type Error struct {
	Code    string
	Field   string // path of the offending input field, e.g. "input[2].columns[0].name"
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error about the named field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL if
// there is none, and "" for a nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the message of its
// *Error (with the field path), or "internal error".
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Error()
	}
	return "internal error"
}

// InField returns err with its field path put under prefix: a validation error
// about "columns[0].name" becomes one about "input[3].columns[0].name".
// Errors about input other than EINVALID and ETOOLARGE (a field over its
// size limit) are returned unchanged.
func InField(prefix string, err error) error {
	e, ok := errors.AsType[*Error](err)
	if !ok || prefix == "" || (e.Code != EINVALID && e.Code != ETOOLARGE) {
		return err
	}
	c := *e
	switch {
	case c.Field == "":
		c.Field = prefix
	case c.Field[0] == '[':
		c.Field = prefix + c.Field
	default:
		c.Field = prefix + "." + c.Field
	}
	return &c
}
