package runreport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/internal/runreport"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
)

func TestRedactArgs(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"mysqldump", "-uetl", "-phunter2", "shop"}, []string{"mysqldump", "-uetl", "-p***", "shop"}},
		{[]string{"load", "--password=hunter2", "--db-password", "hunter2", "--verbose"}, []string{"load", "--password=***", "--db-password", "***", "--verbose"}},
		{[]string{"load", "--api-key", "--dry-run"}, []string{"load", "--api-key", "--dry-run"}},
		{[]string{"psql", "postgres://etl:hunter2@db:5432/shop", "-c", "select 1"}, []string{"psql", "postgres://etl:***@db:5432/shop", "-c", "select 1"}},
		{[]string{"sh", "-c", "PGPASSWORD=hunter2 AWS_SECRET_ACCESS_KEY=abc/def psql -h db"}, []string{"sh", "-c", "PGPASSWORD=*** AWS_SECRET_ACCESS_KEY=*** psql -h db"}},
		{[]string{"curl", "-H", "Authorization: Bearer abc.def", "https://x/api?token=abc&page=2"}, []string{"curl", "-H", "Authorization: Bearer ***", "https://x/api?token=***&page=2"}},
		{[]string{"etl", "--table=orders", "keep=me", "postgres://db:5432/shop"}, []string{"etl", "--table=orders", "keep=me", "postgres://db:5432/shop"}},
		{[]string{"etl", "--header", "x-secret-of-mine-1234"}, []string{"etl", "--header", "x-***"}},
	} {
		if got := runreport.RedactArgs(tc.in, "secret-of-mine-1234"); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("RedactArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := runreport.CommandLine([]string{"sh", "-c", "echo 'hi' > out", ""}); got != `sh -c 'echo '\''hi'\'' > out' ''` {
		t.Errorf("CommandLine: %s", got)
	}
}

func TestParseDataset(t *testing.T) {
	d, err := runreport.ParseDataset("postgres://db:5432:shop.public.orders")
	if err != nil || d.Namespace != "postgres://db:5432" || d.Name != "shop.public.orders" {
		t.Fatalf("%+v %v", d, err)
	}
	for _, bad := range []string{"orders", "postgres://db:5432", ":orders", "bigquery:"} {
		if _, err := runreport.ParseDataset(bad); err == nil || !strings.Contains(err.Error(), "NAMESPACE:NAME") {
			t.Errorf("ParseDataset(%q): %v", bad, err)
		}
	}
}

func TestTail(t *testing.T) {
	tl := &runreport.Tail{MaxLines: 3, MaxBytes: 64}
	for i := range 100 {
		fmt.Fprintf(tl, "line %d\n", i)
	}
	tl.Write([]byte("last line, token=abc\n"))
	if got := tl.Lines(); got != "line 98\nline 99\nlast line, token=***" {
		t.Fatalf("%q", got)
	}
	big := &runreport.Tail{MaxBytes: 10}
	big.Write([]byte(strings.Repeat("y", 1000)))
	if got := big.Lines(); got != strings.Repeat("y", 10) {
		t.Fatalf("%q", got)
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "load_refunds.sh")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, runreport.ConfigFile), []byte(`
server: http://quarry:8080
job: cron/load
inputs: ["postgres://db:5432:shop.public.orders"]
outputs: ["postgres://wh:5432:raw.orders"]
scripts:
  load_refunds.sh:
    job: cron/load_refunds
    outputs: ["postgres://wh:5432:raw.refunds"]
`), 0o600)
	path, sc := runreport.FindConfig([]string{"sh", script})
	if path != filepath.Join(dir, runreport.ConfigFile) || sc != script {
		t.Fatalf("FindConfig: %q %q", path, sc)
	}
	s, server, err := runreport.LoadConfig(path, sc)
	if err != nil || server != "http://quarry:8080" || s.Job != "cron/load_refunds" || len(s.Inputs) != 1 || s.Outputs[0] != "postgres://wh:5432:raw.refunds" {
		t.Fatalf("%+v %q %v", s, server, err)
	}
	os.WriteFile(path, []byte("outputs: [orders]\n"), 0o600)
	if _, _, err := runreport.LoadConfig(path, ""); err == nil || !strings.Contains(err.Error(), "outputs[0]") {
		t.Fatalf("bad dataset: %v", err)
	}
	os.WriteFile(path, []byte("output: [a:b]\n"), 0o600)
	if _, _, err := runreport.LoadConfig(path, ""); err == nil || !strings.Contains(err.Error(), "output") {
		t.Fatalf("unknown key: %v", err)
	}
}

// TestSpool: what a down server could not take waits in the spool, in
// order, and goes out when the server is back; an event it refuses is
// dropped rather than sent for ever.
func TestSpool(t *testing.T) {
	srv := servertest.New(t, nil)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // its port refuses connections
	var warnings []string
	rep := &runreport.Reporter{
		Client:  &runreport.Client{Server: down.URL},
		Spool:   &runreport.Spool{Dir: filepath.Join(t.TempDir(), "spool")},
		Backoff: runreport.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond},
		Warn:    func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) },
	}
	run := runreport.NewRun("cron", "load", time.Now())
	run.Outputs = []runreport.Dataset{{Namespace: "postgres://wh:5432", Name: "raw.orders"}}
	ctx := context.Background()
	rep.Deliver(ctx, run.StartEvent(), time.Now().Add(50*time.Millisecond))
	run.End = time.Now()
	rep.Deliver(ctx, run.EndEvent(), time.Now().Add(50*time.Millisecond))
	if rep.Spool.Len() != 2 || len(warnings) != 2 {
		t.Fatalf("spool %d, warnings %q", rep.Spool.Len(), warnings)
	}
	bad := run.EndEvent()
	bad.Type, bad.JSON = "BAD", []byte(`{"eventType":"BAD"}`)
	bad.Time = bad.Time.Add(time.Second)
	if err := rep.Spool.Put(bad); err != nil {
		t.Fatal(err)
	}

	warnings = nil
	rep.Client.Server = srv.URL
	next := runreport.NewRun("cron", "next", time.Now())
	rep.Deliver(ctx, next.StartEvent(), time.Now().Add(5*time.Second))
	if rep.Spool.Len() != 0 || len(warnings) != 2 || !strings.Contains(warnings[0], "dropped") || !strings.Contains(warnings[1], "sent 2 spooled") {
		t.Fatalf("spool %d, warnings %q", rep.Spool.Len(), warnings)
	}
	if err := srv.Store.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		id    string
		state quarry.RunState
	}{{run.ID, quarry.RunComplete}, {next.ID, quarry.RunStart}} {
		r, err := srv.Store.Run(ctx, want.id)
		if err != nil || r.State != want.state {
			t.Fatalf("run %s: %+v %v", want.id, r, err)
		}
	}
}

// TestToken: a server with access control takes the events of a token
// with the ingest role; without one, or with a viewer's, the events are
// spooled at once (no retrying a refusal that a retry cannot change) and
// sent once the token is right.
func TestToken(t *testing.T) {
	srv := servertest.New(t, &server.Options{Access: &server.Access{}})
	ctx := context.Background()
	viewer, _, err := srv.Tokens.Create(ctx, "dashboards", auth.Viewer, 0)
	if err != nil {
		t.Fatal(err)
	}
	ingest, _, err := srv.Tokens.Create(ctx, "cron", auth.Ingest, 0)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	rep := &runreport.Reporter{
		Client: &runreport.Client{Server: srv.URL},
		Spool:  &runreport.Spool{Dir: filepath.Join(t.TempDir(), "spool")},
		Warn:   func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) },
	}
	run := runreport.NewRun("cron", "load", time.Now())
	for _, token := range []string{"", viewer} {
		warnings = nil
		rep.Client.Token = token
		begin := time.Now()
		rep.Deliver(ctx, run.StartEvent(), time.Now().Add(10*time.Second))
		if time.Since(begin) > 5*time.Second || len(warnings) != 1 || !strings.Contains(warnings[0], "QUARRY_TOKEN") || rep.Spool.Len() != 1 {
			t.Fatalf("token %q: spool %d after %v, warnings %q", token, rep.Spool.Len(), time.Since(begin), warnings)
		}
		os.RemoveAll(rep.Spool.Dir)
	}
	rep.Client.Token = ""
	rep.Deliver(ctx, run.StartEvent(), time.Now().Add(time.Second))
	rep.Client.Token = ingest
	run.End = time.Now()
	rep.Deliver(ctx, run.EndEvent(), time.Now().Add(5*time.Second))
	if err := srv.Store.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := srv.Store.Run(ctx, run.ID); err != nil || r.State != quarry.RunComplete || r.Events != 2 || rep.Spool.Len() != 0 {
		t.Fatalf("run %+v %v, spool %d", r, err, rep.Spool.Len())
	}
}
