package server

import (
	"log/slog"
	"net/http"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
)

// withPrincipal runs the authenticators in order; the first that knows the
// request's credentials names its principal, who is then the actor of the
// changes it makes (the X-Quarry-User header counts only without one). Bad
// credentials are refused here, before any handler.
func withPrincipal(log *slog.Logger, authns []auth.Authenticator, next http.Handler) http.Handler {
	if len(authns) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, a := range authns {
			p, err := a.Authenticate(r)
			if err != nil {
				fail(w, r, log, "authentication", err)
				return
			}
			if p != nil {
				ctx := auth.WithPrincipal(r.Context(), p)
				if p.Name != "" {
					ctx = quarry.WithActor(ctx, p.Name)
				}
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
