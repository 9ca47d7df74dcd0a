package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/quarrydata/quarry"
)

// TestStatusCoversEveryCode reads the domain's error codes from the root
// package's error.go, so that a code added there without a status here
// fails.
func TestStatusCoversEveryCode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			for i, name := range spec.(*ast.ValueSpec).Names {
				lit, ok := spec.(*ast.ValueSpec).Values[i].(*ast.BasicLit)
				if !strings.HasPrefix(name.Name, "E") || !ok || lit.Kind != token.STRING {
					continue
				}
				code, _ := strconv.Unquote(lit.Value)
				codes = append(codes, code)
				if _, ok := statuses[code]; !ok {
					t.Errorf("code %q (quarry.%s) has no HTTP status", code, name.Name)
				}
			}
		}
	}
	if len(codes) < 8 || len(codes) != len(statuses) {
		t.Fatalf("codes in error.go %v; the table has %d", codes, len(statuses))
	}
}

// TestFail checks the status and body each kind of error is answered with.
// Before this table, the OpenLineage endpoints answered every code they did
// not list (unauthorized, too_large) with 400.
func TestFail(t *testing.T) {
	for _, tc := range []struct {
		err                  error
		status               int
		code, field, message string
	}{
		{quarry.Invalid("run.runId", "is required"), 400, "invalid", "run.runId", "run.runId: is required"},
		{fmt.Errorf("get: %w", quarry.Errorf(quarry.ENOTFOUND, "no such run")), 404, "not_found", "", "no such run"},
		{quarry.Errorf(quarry.ECONFLICT, "run r1 already ended"), 409, "conflict", "", "run r1 already ended"},
		{quarry.Errorf(quarry.EUNAUTHORIZED, "for this machine only"), 403, "unauthorized", "", "for this machine only"},
		{quarry.Errorf(quarry.ETOOLARGE, "too many events"), 413, "too_large", "", "too many events"},
		{quarry.Errorf(quarry.EUNAVAILABLE, "retry later"), 503, "unavailable", "", "retry later"},
		{fmt.Errorf("accept: %w", context.Canceled), 503, "cancelled", "", "request cancelled or timed out"},
		{fmt.Errorf("commit: %w", quarry.Errorf(quarry.EINSUFFICIENTSTORAGE, "the disk is full")), 507, "insufficient_storage", "", "the disk is full"},
		{quarry.Errorf(quarry.EINTERNAL, "disk /var/lib/quarry full"), 500, "internal", "", "internal error"},
		{errors.New("open /var/lib/quarry/quarry.db: permission denied"), 500, "internal", "", "internal error"},
	} {
		w := httptest.NewRecorder()
		fail(w, httptest.NewRequest(http.MethodPost, "/", nil), slog.New(slog.DiscardHandler), "test", tc.err)
		var body errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		want := errorDetail{Code: tc.code, Field: tc.field, Message: tc.message}
		if w.Code != tc.status || body.Error != want || len(body.Errors) != 1 || body.Errors[0].Message != tc.message ||
			body.Errors[0].Extensions != (errorDetail{Code: tc.code, Field: tc.field}) {
			t.Errorf("%v: %d %s, want %d %+v", tc.err, w.Code, w.Body, tc.status, want)
		}
		if retry := w.Header().Get("Retry-After"); (tc.code == quarry.EUNAVAILABLE || tc.code == quarry.EINSUFFICIENTSTORAGE) != (retry != "") {
			t.Errorf("%v: Retry-After %q", tc.err, retry)
		}
	}
}
