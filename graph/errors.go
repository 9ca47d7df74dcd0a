package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/quarrydata/quarry"
)

// errorPresenter is the one place that turns errors into what clients see.
// A *quarry.Error shows its message with extensions.code (and
// extensions.field for invalid input). GraphQL's own parse and validation
// errors keep their codes, except bad variable values, which are invalid
// input like any other. Everything else is logged with detail and shown as
// "internal error".
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if qe, ok := errors.AsType[*quarry.Error](err); ok {
			field := qe.Field
			if field == "" && qe.Code == quarry.EINVALID {
				field = argumentPath(ctx, gerr.Path)
			}
			gerr.Message = qe.Message
			if field != "" {
				gerr.Message = field + ": " + qe.Message
			}
			setCode(gerr, qe.Code, field)
			return gerr
		}
		if code, _ := gerr.Extensions["code"].(string); code != "" {
			if code == "GRAPHQL_VALIDATION_FAILED" && len(gerr.Path) > 1 && gerr.Path[0] == ast.PathName("variable") {
				field := pathString(gerr.Path[1:])
				gerr.Message = field + ": " + gerr.Message
				setCode(gerr, quarry.EINVALID, field)
			}
			return gerr
		}
		if !graphql.HasOperationContext(ctx) {
			// Before an operation exists, errors are about the request itself
			// (the transport could not read it).
			gerr.Message = quarry.Truncate(gerr.Message, 300)
			setCode(gerr, quarry.EINVALID, "")
			return gerr
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			gerr.Message = "request cancelled or timed out"
			setCode(gerr, quarry.ECANCELLED, "")
			return gerr
		}
		log.ErrorContext(ctx, "graphql internal error", "err", err, "path", pathString(gerr.Path))
		gerr.Message = "internal error"
		setCode(gerr, quarry.EINTERNAL, "")
		return gerr
	}
}

// argumentPath returns the part of an error's path below the field being
// resolved: for an argument that failed to decode, ["upsertDatasets",
// "input", 1, "rowCount"] is "input[1].rowCount". It is "" for a result
// path.
func argumentPath(ctx context.Context, p ast.Path) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return ""
	}
	own := fc.Path()
	if len(p) <= len(own) || pathString(p[:len(own)]) != pathString(own) {
		return ""
	}
	return pathString(p[len(own):])
}

func setCode(e *gqlerror.Error, code, field string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
	if field != "" {
		e.Extensions["field"] = field
	}
}

// pathString formats a path as input[0].columns[2].name.
func pathString(p ast.Path) string {
	var b strings.Builder
	for _, el := range p {
		switch el := el.(type) {
		case ast.PathIndex:
			fmt.Fprintf(&b, "[%d]", int(el))
		case ast.PathName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(el))
		}
	}
	return b.String()
}

// recoverFunc turns a resolver panic into an internal error, logged with the
// panic value.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql resolver panic", "panic", p)
		return errors.New("panic in resolver")
	}
}
