package dbt

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/quarrydata/quarry"
)

// Store is what an import writes to.
type Store interface {
	ImportDBT(ctx context.Context, im *quarry.DBTImport) (quarry.DBTResult, error)
}

// Import maps the artifacts and writes them in one transaction. It empties
// a once they are mapped, so that what the mapping did not keep (the tests'
// SQL, meta blocks, the decoded nodes) can be reclaimed while the store
// writes.
func Import(ctx context.Context, st Store, a *Artifacts, o Options) (quarry.DBTResult, error) {
	im, err := Map(a, o)
	if err != nil {
		return quarry.DBTResult{}, err
	}
	*a = Artifacts{}
	return st.ImportDBT(ctx, im)
}

// Files name the artifacts of a target directory; empty names take the
// defaults beside the manifest (manifest.json, catalog.json,
// run_results.json, sources.json), which are read when they exist. A file
// named here must exist.
type Files struct {
	Manifest, Catalog, RunResults, Sources string
}

// ReadDir reads the artifacts of dir (a target directory; it may be empty
// when f names the manifest).
func ReadDir(dir string, f Files) (*Artifacts, error) {
	path := func(name, def string) (string, bool) {
		if name != "" {
			return name, true
		}
		base := dir
		if base == "" && f.Manifest != "" {
			base = filepath.Dir(f.Manifest)
		}
		return filepath.Join(base, def), false
	}
	a := &Artifacts{}
	open := func(name, def string, read func(io.Reader, string) error) error {
		p, required := path(name, def)
		file, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) && !required && def != "manifest.json" {
			return nil
		}
		if err != nil {
			return quarry.Invalid(def, "cannot be read: %v", err)
		}
		defer file.Close()
		return read(file, filepath.Base(p))
	}
	steps := []struct {
		name, def string
		read      func(io.Reader, string) error
	}{
		{f.Manifest, "manifest.json", func(r io.Reader, n string) (err error) { a.Manifest, err = ReadManifest(r, n); return }},
		{f.Catalog, "catalog.json", func(r io.Reader, n string) (err error) { a.Catalog, err = ReadCatalog(r, n); return }},
		{f.RunResults, "run_results.json", func(r io.Reader, n string) (err error) { a.RunResults, err = ReadRunResults(r, n); return }},
		{f.Sources, "sources.json", func(r io.Reader, n string) (err error) { a.Sources, err = ReadSources(r, n); return }},
	}
	for _, s := range steps {
		if err := open(s.name, s.def, s.read); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Request is the body of POST /api/v1/dbt: one JSON object whose fields
// are the options and the artifacts themselves (each file's JSON as the
// value of its field, not as a string).
//
//	{"namespace": "postgres://wh:5432", "source": "", "jobNamespace": "default",
//	 "docsUrl": "", "project": "",
//	 "manifest": {...}, "catalog": {...}, "run_results": {...}, "sources": {...}}
type Request struct {
	Options   Options
	Source    string // a registered source whose namespace to use
	Artifacts Artifacts
}

// ReadRequest decodes a request as a stream: each artifact is decoded as
// it arrives, never held as bytes beside its nodes.
func ReadRequest(r io.Reader) (*Request, error) {
	dec := json.NewDecoder(r)
	req := &Request{}
	str := func(dst *string, field string) error {
		var s *string
		if err := dec.Decode(&s); err != nil {
			return quarry.Invalid(field, "must be a string")
		}
		if s != nil {
			*dst = *s
		}
		return nil
	}
	err := eachMember(dec, "request body", "", func(key string) (err error) {
		a := &req.Artifacts
		switch key {
		case "namespace":
			return str(&req.Options.Namespace, key)
		case "jobNamespace":
			return str(&req.Options.JobNamespace, key)
		case "docsUrl":
			return str(&req.Options.DocsURL, key)
		case "project":
			return str(&req.Options.Project, key)
		case "source":
			return str(&req.Source, key)
		case "manifest":
			a.Manifest, err = decodeManifest(dec, "manifest")
		case "catalog":
			a.Catalog, err = decodeCatalog(dec, "catalog")
		case "run_results":
			a.RunResults, err = decodeRunResults(dec, "run_results")
		case "sources":
			a.Sources, err = decodeSources(dec, "sources")
		default:
			return quarry.Invalid(key, "is not a field of a dbt import; want namespace, source, jobNamespace, docsUrl, project, manifest, catalog, run_results or sources")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, quarry.Invalid("request body", "has more after its object")
	}
	if req.Artifacts.Manifest == nil {
		return nil, quarry.Invalid("manifest", "is required")
	}
	return req, nil
}
