package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/quarrydata/quarry"
)

// statuses is the one table from an error code to an HTTP status. Every
// code of the domain is in it (a test checks); an unknown code is a 500.
var statuses = map[string]int{
	quarry.EINVALID:      http.StatusBadRequest,
	quarry.ENOTFOUND:     http.StatusNotFound,
	quarry.ECONFLICT:     http.StatusConflict,
	quarry.EUNAUTHORIZED: http.StatusForbidden, // "may not": the credentials sent do not include the role
	// no credentials (or bad ones) where some are needed; answered with a
	// WWW-Authenticate challenge
	quarry.EUNAUTHENTICATED: http.StatusUnauthorized,
	quarry.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	quarry.EUNAVAILABLE:     http.StatusServiceUnavailable,
	quarry.ECANCELLED:       http.StatusServiceUnavailable,
	// 507, WebDAV's: the operator must free space, and reads still work.
	quarry.EINSUFFICIENTSTORAGE: http.StatusInsufficientStorage,
	quarry.EINTERNAL:            http.StatusInternalServerError,
}

// httpStatus returns the HTTP status that answers an error of the code.
func httpStatus(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// fail answers err: a *quarry.Error with its code's status and its message,
// a cancelled request as cancelled, anything else logged (as what failed)
// and answered as "internal error".
func fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, what string, err error) {
	e, ok := errors.AsType[*quarry.Error](err)
	switch {
	case ok && e.Code != quarry.EINTERNAL:
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e = quarry.Errorf(quarry.ECANCELLED, "request cancelled or timed out")
	default:
		log.ErrorContext(r.Context(), what, "err", err)
		e = quarry.Errorf(quarry.EINTERNAL, "internal error")
	}
	switch e.Code {
	case quarry.EUNAVAILABLE:
		w.Header().Set("Retry-After", "5")
	case quarry.EINSUFFICIENTSTORAGE:
		w.Header().Set("Retry-After", "30") // until someone frees space
	}
	writeError(w, httpStatus(e.Code), e)
}

// errorBody is the one shape of an error answer. It is GraphQL's, so that a
// GraphQL client reads a request refused before GraphQL saw it (too large,
// not JSON) as it reads any error, and it carries the same error as
// "error", the shape the OpenLineage endpoints documented first:
//
//	{"errors": [{"message": "run.runId: is required", "extensions": {"code": "invalid", "field": "run.runId"}}],
//	 "error": {"code": "invalid", "field": "run.runId", "message": "run.runId: is required"}}
type errorBody struct {
	Errors []errorEntry `json:"errors"`
	Error  errorDetail  `json:"error"`
}

type errorEntry struct {
	Message    string      `json:"message"`
	Extensions errorDetail `json:"extensions"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message,omitempty"`
}

// writeError answers e with the status given (httpStatus(e.Code) but for the
// rare answer HTTP has a status of its own for).
func writeError(w http.ResponseWriter, status int, e *quarry.Error) {
	msg := e.Error()
	writeJSON(w, status, errorBody{
		Errors: []errorEntry{{Message: msg, Extensions: errorDetail{Code: e.Code, Field: e.Field}}},
		Error:  errorDetail{Code: e.Code, Field: e.Field, Message: msg},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
