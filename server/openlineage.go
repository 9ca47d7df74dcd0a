package server

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
)

// openLineage serves OpenLineage's HTTP API: POST /api/v1/lineage takes one
// RunEvent, DatasetEvent or JobEvent and answers 201 once it is committed;
// POST /api/v1/lineage/batch takes an array and answers with a per-event
// summary, as OpenLineage.yml says. Accepted events are committed to the
// store's lineage log and applied to the catalog a moment later.
type openLineage struct {
	store  lineageStore
	log    *slog.Logger
	limit  int64
	events *prometheus.CounterVec
}

// lineageStore is what the OpenLineage endpoints need of the store.
type lineageStore interface {
	AcceptLineage(ctx context.Context, evs []quarry.LineageEvent) []error
}

func newOpenLineage(st lineageStore, log *slog.Logger, limit int64, reg prometheus.Registerer) *openLineage {
	ol := &openLineage{store: st, log: log, limit: limit, events: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "quarry_lineage_events_total",
		Help: "OpenLineage events received, by result: accepted (committed), invalid, failed.",
	}, []string{"result"})}
	if reg != nil {
		reg.MustRegister(ol.events)
	}
	return ol
}

// body reads the request body, gunzipping it when the client says so; the
// limit applies to what the body decompresses to, so a gzip bomb is a 413.
// When it cannot, it answers the request and returns false.
// The body must be declared JSON: a browser sends text/plain, form and
// multipart bodies to another site without asking it first (no CORS
// preflight), so accepting them would let any web page a user of the
// network opens post events.
func (ol *openLineage) body(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		// HTTP's status for a media type the server does not take.
		writeError(w, http.StatusUnsupportedMediaType, quarry.Invalid("Content-Type", "%q is not supported; send application/json", quarry.Truncate(ct, 64)))
		return nil, false
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity", "gzip", "x-gzip":
	default:
		// The one answer whose status is not its code's: HTTP has a status
		// of its own for a content coding the server cannot read.
		writeError(w, http.StatusUnsupportedMediaType, quarry.Errorf(quarry.EINVALID, "Content-Encoding %q is not supported; send gzip or nothing", enc))
		return nil, false
	}
	body, err := ol.read(w, r, enc)
	if err != nil {
		ol.fail(w, r, err)
		return nil, false
	}
	return body, true
}

func (ol *openLineage) read(w http.ResponseWriter, r *http.Request, enc string) ([]byte, error) {
	if r.ContentLength > ol.limit {
		return nil, quarry.Errorf(quarry.ETOOLARGE, "the request body is %d bytes; the limit is %d", r.ContentLength, ol.limit)
	}
	var in io.Reader = http.MaxBytesReader(w, r.Body, ol.limit)
	// io.ReadAll grows from 512 bytes, copying a 5 KB event four times;
	// a plain body starts from its declared length instead, up to bodyHint
	// (the declaration is the client's: a large one reserves no more).
	hint := int64(512)
	switch enc {
	case "", "identity":
		if r.ContentLength > 0 {
			hint = min(r.ContentLength, bodyHint)
		}
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, quarry.Invalid("body", "is not gzip: %v", err)
		}
		defer zr.Close()
		in = zr
	}
	body, err := readAll(io.LimitReader(in, ol.limit+1), hint)
	switch {
	case err != nil:
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, quarry.Errorf(quarry.ETOOLARGE, "the request body exceeds the limit of %d bytes", ol.limit)
		}
		return nil, quarry.Invalid("body", "could not be read: %v", err)
	case int64(len(body)) > ol.limit:
		return nil, quarry.Errorf(quarry.ETOOLARGE, "the request body decompresses to more than the limit of %d bytes", ol.limit)
	}
	return body, nil
}

// isJSON reports whether a Content-Type is application/json, with any
// parameters (charset=utf-8).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// bodyHint is the most buffer a request's Content-Length reserves before
// its bytes arrive.
const bodyHint = 64 << 10

// readAll is io.ReadAll into a buffer of hint bytes to start with, one more
// so that the end needs no growth.
func readAll(r io.Reader, hint int64) ([]byte, error) {
	b := make([]byte, 0, hint+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func (ol *openLineage) post(w http.ResponseWriter, r *http.Request) {
	body, ok := ol.body(w, r)
	if !ok {
		ol.events.WithLabelValues("invalid").Inc()
		return
	}
	if err := lineage.Ingest(r.Context(), ol.store, body); err != nil {
		if quarry.ErrorCode(err) == quarry.EINVALID {
			ol.events.WithLabelValues("invalid").Inc()
		}
		ol.fail(w, r, err)
		return
	}
	ol.events.WithLabelValues("accepted").Inc()
	w.WriteHeader(http.StatusCreated)
}

// fail answers an event's error as every endpoint answers one, and counts
// those that are not the client's doing.
func (ol *openLineage) fail(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := errors.AsType[*quarry.Error](err); !ok || e.Code == quarry.EINTERNAL {
		ol.events.WithLabelValues("failed").Inc()
	}
	fail(w, r, ol.log, "lineage event", err)
}

type batchFailure struct {
	Index     int    `json:"index"`
	Reason    string `json:"reason"`
	Field     string `json:"field,omitempty"`
	Retriable bool   `json:"retriable"`
}

func (ol *openLineage) postBatch(w http.ResponseWriter, r *http.Request) {
	body, ok := ol.body(w, r)
	if !ok {
		return
	}
	errs, err := lineage.IngestBatch(r.Context(), ol.store, body)
	if err != nil {
		ol.fail(w, r, err)
		return
	}
	if full := allFull(errs); full != nil {
		// Nothing was stored and nothing could be: the whole request is
		// refused as a single event would be, with the status that says so.
		ol.fail(w, r, full)
		return
	}
	failures := []batchFailure{}
	for i, err := range errs {
		if err != nil {
			failures = append(failures, ol.failure(r, i, err))
		} else {
			ol.events.WithLabelValues("accepted").Inc()
		}
	}
	retriable := 0
	for _, f := range failures {
		if f.Retriable {
			retriable++
		}
	}
	statusText := "success"
	if len(failures) > 0 {
		statusText = "partial_success"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": statusText,
		"summary": map[string]int{
			"received": len(errs), "successful": len(errs) - len(failures), "failed": len(failures),
			"retriable": retriable, "non_retriable": len(failures) - retriable,
		},
		"failed_events": failures,
	})
}

func (ol *openLineage) failure(r *http.Request, i int, err error) batchFailure {
	e, ok := errors.AsType[*quarry.Error](err)
	if !ok || e.Code == quarry.EINTERNAL {
		ol.events.WithLabelValues("failed").Inc()
		ol.log.ErrorContext(r.Context(), "lineage event", "index", i, "err", err)
		return batchFailure{Index: i, Reason: "Server error", Retriable: true}
	}
	retriable := e.Code == quarry.EUNAVAILABLE || e.Code == quarry.EINSUFFICIENTSTORAGE
	if e.Code == quarry.EINSUFFICIENTSTORAGE {
		ol.events.WithLabelValues("failed").Inc()
	} else {
		ol.events.WithLabelValues("invalid").Inc()
	}
	return batchFailure{Index: i, Reason: e.Error(), Field: e.Field, Retriable: retriable}
}

// allFull returns the first error of a batch whose events all failed, at
// least one for lack of disk space (the others may be invalid), and nil
// otherwise.
func allFull(errs []error) error {
	var full error
	for _, err := range errs {
		if err == nil {
			return nil
		}
		if full == nil && quarry.ErrorCode(err) == quarry.EINSUFFICIENTSTORAGE {
			full = err
		}
	}
	return full
}
