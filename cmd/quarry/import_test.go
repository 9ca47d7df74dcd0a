package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const dbtFixtures = "../../../shared/fixtures/dbt/"

// TestImportDBT runs `quarry import dbt` into a data directory, then
// through a running server, and reads the result back over GraphQL.
func TestImportDBT(t *testing.T) {
	data := t.TempDir()
	out, err := exec.Command(binary, "import", "dbt", "--data", data, "--namespace", "postgres://wh:5432",
		"--job-namespace", "job-namespace", dbtFixtures+"jaffle_shop_postgres").CombinedOutput()
	if err != nil {
		t.Fatalf("import --data: %v\n%s", err, out)
	}
	for _, want := range []string{"imported dbt project jaffle_shop", "models 5 (0 ephemeral), seeds 3", "tests 20", "jobs 5", "8 new"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// Bad input: nothing stored, a clear reason, exit 1.
	out, err = exec.Command(binary, "import", "dbt", "--data", data, "--namespace", "postgres://wh:5432",
		"--manifest", filepath.Join(dbtFixtures, "datahub_jaffle_shop", "jaffle_shop_catalog.json")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is a dbt catalog file, not a manifest") {
		t.Errorf("a catalog given as the manifest: %v\n%s", err, out)
	}

	p := start(t, "--data", t.TempDir())
	d := filepath.Join(dbtFixtures, "datahub_jaffle_shop")
	out, err = exec.Command(binary, "import", "dbt", "--server", "http://"+p.addr, "--namespace", "bigquery",
		"--manifest", filepath.Join(d, "jaffle_shop_manifest.json"), "--catalog", filepath.Join(d, "jaffle_shop_catalog.json"),
		"--run-results", filepath.Join(d, "jaffle_shop_test_results.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("import --server: %v\n%s", err, out)
	}
	for _, want := range []string{"test results 23", "warning: run_results: test.jaffle_shop.dbt_expectations_expect_column_values_to_be_between_customers_customer_id__20__0__customer_id_is_not_null__False.5702665c39 is not in the manifest"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	res := p.graphql(t, `query { dataset(namespace: "bigquery", name: "calm-pagoda-323403.jaffle_shop.orders") {
		kind description dbt { resourceType materialized compiledCode job { name } tests { name type latest { status message } } } } }`, nil)
	ds := res["dataset"].(map[string]any)
	info := ds["dbt"].(map[string]any)
	if info["materialized"] != "table" || !strings.Contains(info["compiledCode"].(string), "select") ||
		info["job"].(map[string]any)["name"] != "calm-pagoda-323403.jaffle_shop.jaffle_shop.orders" {
		t.Errorf("orders' dbt: %v", info)
	}
	var errored int
	for _, tt := range info["tests"].([]any) {
		if l, ok := tt.(map[string]any)["latest"].(map[string]any); ok && l["status"] == "ERROR" {
			errored++
		}
	}
	if errored != 1 {
		t.Errorf("orders' tests: %d with an ERROR result, want 1: %v", errored, info["tests"])
	}
}
