package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/graph/graphtest"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// With access control on: a source's DSN and a webhook's URL appear in no
// answer and no log line (at debug level); outbound connections outside
// auth.outbound.allow are refused when made; changes are attributed to
// the token, not to X-Quarry-User; admin actions are in the audit log,
// which only admins read.
func TestSecretsAttributionAudit(t *testing.T) {
	const (
		password = "pw-S3cr3t-7731"
		dsn      = "postgres://crawler:" + password + "@127.0.0.1:1/wh?sslmode=disable"
		hookPath = "/services/T000/B000/hook-s3cr3t-4412"
	)
	logs := &lockedBuffer{}
	outbound, err := auth.ParseOutbound([]string{"10.0.0.0/8", "db.internal"})
	if err != nil {
		t.Fatal(err)
	}
	s := servertest.New(t, &server.Options{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Access: &server.Access{Anonymous: auth.Viewer},
		Crawl:  crawler.SourcePolicy{Dial: outbound.Dial},
		Alerts: &alert.Options{
			Webhooks: []quarry.Webhook{{Name: "ops", URL: "http://127.0.0.1:1" + hookPath, Format: "json"}},
			Interval: 50 * time.Millisecond, Dial: outbound.Dial, MaxAttempts: 1,
		},
	})
	ctx := context.Background()
	tok := map[string]string{}
	for name, role := range map[string]auth.Role{"ops": auth.Admin, "alice": auth.Editor, "etl": auth.Ingest} {
		secret, _, err := s.Tokens.Create(ctx, name, role, 0)
		if err != nil {
			t.Fatal(err)
		}
		tok[name] = secret
	}
	var answers strings.Builder
	do := func(who, q string, vars map[string]any) graphtest.Response {
		t.Helper()
		h := []string{server.ActorHeader, "mallory"}
		if who != "" {
			h = append(h, "Authorization", "Bearer "+tok[who])
		}
		res := s.GraphQL.Do(t, q, vars, h...)
		b, _ := json.Marshal(res)
		answers.Write(b)
		return res
	}
	ok := func(res graphtest.Response) map[string]any {
		t.Helper()
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %v", res.Errors)
		}
		return res.Data
	}

	// A source registered and crawled by an admin: the crawl may not reach
	// 127.0.0.1.
	if res := do("alice", `mutation($dsn: String!) { registerSource(input: {name: "wh", kind: POSTGRES, dsn: $dsn}) { name } }`, map[string]any{"dsn": dsn}); res.Status != http.StatusForbidden {
		t.Fatalf("an editor registered a source: %d %v", res.Status, res.Errors)
	}
	ok(do("ops", `mutation($dsn: String!) { registerSource(input: {name: "wh", kind: POSTGRES, dsn: $dsn}) { name dsn } }`, map[string]any{"dsn": dsn}))
	run := ok(do("ops", `mutation { crawlSource(name: "wh", wait: true) { status error } }`, nil))["crawlSource"].(map[string]any)
	if run["status"] != "FAILED" {
		t.Fatalf("a crawl outside the allow list: %v", run)
	}
	if !strings.Contains(logs.String(), "auth.outbound.allow") {
		t.Errorf("the log does not say why the crawl could not connect:\n%s", logs)
	}
	src := ok(do("", `{ sources { name dsn dsnEnv } }`, nil))["sources"].([]any)[0].(map[string]any)
	if src["dsn"] != nil {
		t.Errorf("an anonymous viewer sees the DSN: %v", src["dsn"])
	}
	if src := ok(do("ops", `{ source(name: "wh") { dsn updatedBy } }`, nil))["source"].(map[string]any); src["dsn"] != nil || src["updatedBy"] != "ops" {
		t.Errorf("to an admin, the source is %v; want no DSN, changed by ops", src)
	}

	// Attribution: the token's name, whatever X-Quarry-User says.
	ids := ok(do("etl", `mutation { upsertDatasets(input: [{namespace: "postgres://wh:5432", name: "wh.public.orders"}]) { ids } }`, nil))["upsertDatasets"].(map[string]any)["ids"].([]any)
	ok(do("alice", `mutation($id: ID!) { updateDataset(id: $id, input: {description: "Orders, one row each"}) { id } }`, map[string]any{"id": ids[0]}))
	hist := ok(do("", `query($id: ID!) { dataset(id: $id) { metadataHistory { actor field } } }`, map[string]any{"id": ids[0]}))
	edits := hist["dataset"].(map[string]any)["metadataHistory"].([]any)
	if len(edits) == 0 || edits[0].(map[string]any)["actor"] != "alice" {
		t.Fatalf("history: %v; want the edit by alice", edits)
	}

	// A failing check opens an alert; its delivery to the webhook is
	// refused by the allow list.
	ok(do("etl", `mutation { reportCheck(input: {dataset: {namespace: "postgres://wh:5432", name: "wh.public.orders"}, name: "not_null", status: FAIL}) { status } }`, nil))
	var deliveries []any
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		alerts := ok(do("ops", `{ alerts { deliveries { webhook status attempts lastError } } }`, nil))["alerts"].([]any)
		if len(alerts) > 0 {
			deliveries = alerts[0].(map[string]any)["deliveries"].([]any)
			if len(deliveries) > 0 && deliveries[0].(map[string]any)["attempts"].(float64) > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery was tried: %v", deliveries)
		}
	}
	if e, _ := deliveries[0].(map[string]any)["lastError"].(string); !strings.Contains(e, "auth.outbound.allow") {
		t.Errorf("the delivery's error to an admin: %q", e)
	}
	viewed := ok(do("", `{ alerts { deliveries { webhook lastError } } }`, nil))["alerts"].([]any)[0].(map[string]any)["deliveries"].([]any)
	if viewed[0].(map[string]any)["lastError"] != nil {
		t.Errorf("a viewer sees a delivery's error: %v", viewed[0])
	}

	// The audit log: admin actions by the admin's token, for admins only.
	if res := do("alice", `{ auditLog { entries { action } } }`, nil); res.Status != http.StatusForbidden {
		t.Errorf("an editor read the audit log: %d", res.Status)
	}
	entries := ok(do("ops", `{ auditLog(first: 10) { entries { actor action target } hasNextPage } }`, nil))["auditLog"].(map[string]any)["entries"].([]any)
	var got []string
	for _, e := range entries {
		m := e.(map[string]any)
		got = append(got, m["actor"].(string)+" "+m["action"].(string)+" "+m["target"].(string))
	}
	for _, want := range []string{"ops registerSource wh", "ops crawlSource wh"} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("audit log %q lacks %q", got, want)
		}
	}

	if strings.Contains(logs.String(), "crawler:") || strings.Contains(logs.String(), "@127.0.0.1:1/wh") {
		t.Errorf("the DSN, even masked, is in the log:\n%s", logs)
	}
	for what, secret := range map[string]string{"the DSN": dsn, "its password": password, "the webhook URL's secret": "hook-s3cr3t", "a token": tok["ops"][21:]} {
		if strings.Contains(answers.String(), secret) {
			t.Errorf("%s is in an answer", what)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("%s is in the log", what)
		}
	}
}

// In open mode (no Access: loopback without an auth section) the
// X-Quarry-User header names the actor, as before.
func TestOpenModeHonoursActorHeader(t *testing.T) {
	s := servertest.New(t, nil)
	ids := s.GraphQL.Query(t, `mutation { upsertDatasets(input: [{namespace: "postgres://wh:5432", name: "wh.public.t"}]) { ids } }`, nil)["upsertDatasets"].(map[string]any)["ids"].([]any)
	if res := s.GraphQL.Do(t, `mutation($id: ID!) { updateDataset(id: $id, input: {description: "d"}) { id } }`, map[string]any{"id": ids[0]}, server.ActorHeader, "bob"); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	edits := s.GraphQL.Query(t, `query($id: ID!) { dataset(id: $id) { metadataHistory { actor } } }`, map[string]any{"id": ids[0]})["dataset"].(map[string]any)["metadataHistory"].([]any)
	if edits[0].(map[string]any)["actor"] != "bob" {
		t.Fatalf("history: %v", edits)
	}
}
