package server

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/dbt"
)

// dbtImport serves POST /api/v1/dbt: a dbt project's artifacts in one JSON
// object (dbt.Request), for a CI job after `dbt build`. It answers 200 with
// what the import did (quarry.DBTResult: counts per kind, warnings) once it
// is committed, or an error and nothing stored. The body is decoded as it
// arrives, artifact by artifact, never held whole.
type dbtImport struct {
	store dbtStore
	log   *slog.Logger
	limit int64
}

// dbtStore is what the dbt endpoint needs of the store.
type dbtStore interface {
	dbt.Store
	Source(ctx context.Context, name string) (*quarry.Source, error)
}

func (h *dbtImport) post(w http.ResponseWriter, r *http.Request) {
	// JSON only, as for lineage events: a browser sends form and multipart
	// bodies to another site without asking it first.
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		writeError(w, http.StatusUnsupportedMediaType, quarry.Invalid("Content-Type", "%q is not supported; send application/json", quarry.Truncate(ct, 64)))
		return
	}
	if r.ContentLength > h.limit {
		fail(w, r, h.log, "dbt import", quarry.Errorf(quarry.ETOOLARGE, "the request body is %d bytes; the limit is %d", r.ContentLength, h.limit))
		return
	}
	in := &capped{r: r.Body, left: h.limit}
	var body io.Reader = in
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			fail(w, r, h.log, "dbt import", quarry.Invalid("body", "is not gzip: %v", err))
			return
		}
		defer zr.Close()
		in.r = zr // the limit applies to what it decompresses to
	default:
		writeError(w, http.StatusUnsupportedMediaType, quarry.Errorf(quarry.EINVALID, "Content-Encoding %q is not supported; send gzip or nothing", enc))
		return
	}
	req, err := dbt.ReadRequest(body)
	if in.over {
		err = quarry.Errorf(quarry.ETOOLARGE, "the request body exceeds the limit of %d bytes", h.limit)
	}
	if err != nil {
		fail(w, r, h.log, "dbt import", err)
		return
	}
	o := req.Options
	if req.Source != "" {
		src, err := h.store.Source(r.Context(), req.Source)
		if err != nil {
			fail(w, r, h.log, "dbt import", quarry.InField("source", err))
			return
		}
		if o.Namespace == "" {
			o.Namespace = src.Namespace
		}
	}
	res, err := dbt.Import(r.Context(), h.store, &req.Artifacts, o)
	if err != nil {
		fail(w, r, h.log, "dbt import", err)
		return
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	writeJSON(w, http.StatusOK, res)
}

// capped reads at most left bytes and remembers that there were more.
type capped struct {
	r    io.Reader
	left int64
	over bool
}

var errOverLimit = errors.New("the body exceeds the limit")

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			c.over = true
			return 0, errOverLimit
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
