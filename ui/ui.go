// Package ui serves Quarry's web app, embedded in the binary with go:embed.
//
// The app (TypeScript, React, Vite) lives in this directory and is built
// into dist/ by `make ui` (npm ci, GraphQL codegen, vite build). dist/ is not
// committed, except for a marker file so that the embed pattern matches on
// a fresh clone: there, before the app is built, the handler serves
// fallback.html, a page that says how to build it. The app talks to nothing
// but /graphql.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

//go:embed fallback.html
var fallback []byte

// Built reports whether the binary holds the built app rather than the
// page that says how to build it.
func Built() bool {
	_, err := fs.Stat(dist, "dist/index.html")
	return err == nil
}

// Handler serves the app's files. Paths that name no file and have no
// extension get index.html, so client-side routes survive a reload. Vite
// puts content-hashed files under /assets/, which may be cached for good;
// everything else is revalidated.
func Handler() http.Handler {
	root := FS()
	if !Built() {
		return fallbackHandler()
	}
	index, err := fs.ReadFile(root, "index.html")
	if err != nil {
		panic(err) // Built checked it
	}
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" || name == "index.html" || name == ".gitkeep" {
			serveIndex(w, r, index)
			return
		}
		if _, err := fs.Stat(root, name); err != nil {
			if path.Ext(name) == "" {
				serveIndex(w, r, index)
				return
			}
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(name, "assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

// GraphiQL serves GraphiQL's page, built with the app (graphiql.html and
// its assets under /assets/, which Handler serves): what a browser's GET
// /graphql gets. Nil before the app is built, when there is none.
func GraphiQL() http.Handler {
	page, err := fs.ReadFile(FS(), "graphiql.html")
	if err != nil {
		return nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serveIndex(w, r, page) })
}

func serveIndex(w http.ResponseWriter, r *http.Request, index []byte) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(index)
	}
}

// fallbackHandler serves fallback.html for every route and 404 for files.
func fallbackHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name := path.Clean(r.URL.Path); path.Ext(name) != "" && name != "/index.html" {
			http.NotFound(w, r)
			return
		}
		serveIndex(w, r, fallback)
	})
}

// FS returns the embedded dist directory (the built app, or only its marker
// file before the app is built).
func FS() fs.FS {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return root
}
