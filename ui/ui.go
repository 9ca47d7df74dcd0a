// Package ui serves Quarry's web app, embedded in the binary with go:embed.
//
// For now the app is one placeholder page that lists the catalog through
// /graphql; the full app (search, dataset pages, lineage) replaces it. The
// UI talks to nothing but /graphql.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Handler serves the app's files. Paths that name no file and have no
// extension get index.html, so client-side routes survive a reload.
func Handler() http.Handler {
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if _, err := fs.Stat(root, name); err != nil && path.Ext(name) == "" {
			r = r.Clone(r.Context())
			r.URL.Path = "/"
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
