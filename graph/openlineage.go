package graph

import (
	"compress/gzip"
	"errors"
	"io"
	"log/slog"
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
	store  Store
	log    *slog.Logger
	limit  int64
	events *prometheus.CounterVec
}

func newOpenLineage(st Store, log *slog.Logger, limit int64, reg prometheus.Registerer) *openLineage {
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
func (ol *openLineage) body(w http.ResponseWriter, r *http.Request) ([]byte, *quarry.Error, int) {
	if r.ContentLength > ol.limit {
		return nil, quarry.Errorf(quarry.ETOOLARGE, "the request body is %d bytes; the limit is %d", r.ContentLength, ol.limit), http.StatusRequestEntityTooLarge
	}
	var in io.Reader = http.MaxBytesReader(w, r.Body, ol.limit)
	// io.ReadAll grows from 512 bytes, copying a 5 KB event four times;
	// a plain body starts from its declared length instead, up to bodyHint
	// (the declaration is the client's: a large one reserves no more).
	hint := int64(512)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if r.ContentLength > 0 {
			hint = min(r.ContentLength, bodyHint)
		}
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, quarry.Invalid("body", "is not gzip: %v", err), http.StatusBadRequest
		}
		defer zr.Close()
		in = zr
	default:
		return nil, quarry.Errorf(quarry.EINVALID, "Content-Encoding %q is not supported; send gzip or nothing", enc), http.StatusUnsupportedMediaType
	}
	body, err := readAll(io.LimitReader(in, ol.limit+1), hint)
	switch {
	case err != nil:
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, quarry.Errorf(quarry.ETOOLARGE, "the request body exceeds the limit of %d bytes", ol.limit), http.StatusRequestEntityTooLarge
		}
		return nil, quarry.Invalid("body", "could not be read: %v", err), http.StatusBadRequest
	case int64(len(body)) > ol.limit:
		return nil, quarry.Errorf(quarry.ETOOLARGE, "the request body decompresses to more than the limit of %d bytes", ol.limit), http.StatusRequestEntityTooLarge
	}
	return body, nil, 0
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
	body, e, status := ol.body(w, r)
	if e != nil {
		ol.events.WithLabelValues("invalid").Inc()
		writeEventError(w, status, e)
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

// fail answers an event's error: 400 naming the field for bad input, the
// code's status otherwise, and a bare "internal error" for the unexpected.
func (ol *openLineage) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := errors.AsType[*quarry.Error](err)
	if !ok || e.Code == quarry.EINTERNAL {
		ol.events.WithLabelValues("failed").Inc()
		ol.log.ErrorContext(r.Context(), "lineage event", "err", err)
		writeEventError(w, http.StatusInternalServerError, quarry.Errorf(quarry.EINTERNAL, "internal error"))
		return
	}
	status := http.StatusBadRequest
	switch e.Code {
	case quarry.ENOTFOUND:
		status = http.StatusNotFound
	case quarry.ECONFLICT:
		status = http.StatusConflict
	case quarry.EUNAVAILABLE:
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	writeEventError(w, status, e)
}

// writeEventError answers {"error": {"code", "field", "message"}}, the
// shape REST clients of the lineage API read.
func writeEventError(w http.ResponseWriter, status int, e *quarry.Error) {
	body := map[string]any{"code": e.Code, "message": e.Error()}
	if e.Field != "" {
		body["field"] = e.Field
	}
	writeJSON(w, status, map[string]any{"error": body})
}

type batchFailure struct {
	Index     int    `json:"index"`
	Reason    string `json:"reason"`
	Field     string `json:"field,omitempty"`
	Retriable bool   `json:"retriable"`
}

func (ol *openLineage) postBatch(w http.ResponseWriter, r *http.Request) {
	body, e, status := ol.body(w, r)
	if e != nil {
		writeEventError(w, status, e)
		return
	}
	errs, err := lineage.IngestBatch(r.Context(), ol.store, body)
	if err != nil {
		ol.fail(w, r, err)
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
	ol.events.WithLabelValues("invalid").Inc()
	return batchFailure{Index: i, Reason: e.Error(), Field: e.Field, Retriable: e.Code == quarry.EUNAVAILABLE}
}
