// Package graphtest is the GraphQL client of Quarry's tests: it posts an
// operation to a real /graphql endpoint as a client would and decodes the
// answer, with assertions on its data and errors.
package graphtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Client posts operations to one GraphQL endpoint.
type Client struct {
	URL  string       // the endpoint, e.g. "http://127.0.0.1:8080/graphql"
	HTTP *http.Client // nil means http.DefaultClient
}

// Error is one entry of an answer's errors.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Field is the error's extensions.field: the input it is about.
func (e Error) Field() string { s, _ := e.Extensions["field"].(string); return s }

// Response is an answer: its HTTP status, data and errors.
type Response struct {
	Status int
	Data   map[string]any
	Errors []Error
}

// Do posts query with its variables and the given header pairs (name,
// value, ...) and decodes the answer; it fails the test if the answer is
// not JSON.
func (c *Client) Do(tb testing.TB, query string, vars map[string]any, header ...string) Response {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.Send(tb, req)
}

// Send sends a request made by hand (a body that is not what Do would
// send) and decodes the answer.
func (c *Client) Send(tb testing.TB, req *http.Request) Response {
	tb.Helper()
	resp, err := c.client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []Error        `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("status %d, body not JSON: %s", resp.StatusCode, raw)
	}
	return Response{Status: resp.StatusCode, Data: out.Data, Errors: out.Errors}
}

// Query posts query and returns its data, failing the test on any error.
func (c *Client) Query(tb testing.TB, query string, vars map[string]any) map[string]any {
	tb.Helper()
	return c.Do(tb, query, vars).OK(tb)
}

// Raw posts query and returns the answer undecoded, failing the test on a
// status other than 200 or an answer with errors. Benchmarks use it: it
// costs the client no decoding.
func (c *Client) Raw(tb testing.TB, query string, vars map[string]any) []byte {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := c.client().Post(c.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"errors"`)) {
		tb.Fatalf("%d %s", resp.StatusCode, out)
	}
	return out
}

func (c *Client) client() *http.Client {
	if c.HTTP == nil {
		return http.DefaultClient
	}
	return c.HTTP
}

// OK returns the answer's data, failing the test if the status is not 200
// or there are errors.
func (r Response) OK(tb testing.TB) map[string]any {
	tb.Helper()
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		tb.Fatalf("status %d, errors %+v", r.Status, r.Errors)
	}
	return r.Data
}

// OneError returns the answer's one error, failing the test unless there
// is exactly one, of the code and (when not "") the field.
func (r Response) OneError(tb testing.TB, code, field string) Error {
	tb.Helper()
	if len(r.Errors) != 1 {
		tb.Fatalf("status %d, want one error, got %+v (data %v)", r.Status, r.Errors, r.Data)
	}
	e := r.Errors[0]
	if e.Code() != code || e.Field() != field {
		tb.Fatalf("error %+v: code %q field %q, want %q %q", e, e.Code(), e.Field(), code, field)
	}
	return e
}
