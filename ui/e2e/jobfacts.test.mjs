// End-to-end test of a job's facts (issue 23): the Airflow provider's DAG
// facts, from the fixture event, on the job page, with the DAG's other
// tasks linked; and the demo's cron job reported by quarry run. The real
// binary with its demo catalog in Debian's Chromium.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { graphql, openPage, screenshot } from "./harness.mjs";

const T = 15_000;
const fixture = new URL("../../../shared/fixtures/openlineage/events/airflow_bigquery_copy_task_complete_cll.json", import.meta.url);
let env;
let page;
let pageErrors = [];
let close;

before(async () => {
  ({ env, page, pageErrors, close } = await openPage({ timeout: T }));
});

after(async () => {
  await close?.();
});

async function post(event) {
  const res = await fetch(`${env.base}/api/v1/lineage`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(event) });
  assert.equal(res.status, 201, await res.text());
}

async function jobId(namespace, name) {
  // Accepted events are applied a moment later.
  for (let i = 0; i < 100; i++) {
    const d = await graphql(env.base, "query($n:String,$m:String){job(namespace:$n,name:$m){id}}", { n: namespace, m: name });
    if (d.job) return d.job.id;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`no job ${namespace} ${name}`);
}

describe("job facts", () => {
  test("an Airflow task's DAG facts, and the DAG's other tasks linked", async () => {
    const copy = JSON.parse(readFileSync(fixture, "utf8"));
    // The DAG's upload task, as the provider would report it.
    const upload = structuredClone(copy);
    upload.job.name = "BQ.upload";
    upload.run.runId = "01936893-9751-7b10-a4a7-cd7454722d11";
    upload.run.facets.airflow.task.task_id = "upload";
    upload.run.facets.airflow.task.operator_class = "BigQueryInsertJobOperator";
    upload.run.facets.airflow.dag.tags = "['ingest', 'bigquery']";
    await post(copy);
    await post(upload);
    const id = await jobId("airflow", "BQ.copy");
    await jobId("airflow", "BQ.upload");

    await page.goto(`${env.base}/jobs/${id}`);
    const facts = page.getByRole("region", { name: "Job facts" });
    await facts.getByRole("heading", { name: "Orchestration" }).waitFor();
    const fact = (term) => facts.locator("dt", { hasText: new RegExp(`^${term}$`) }).locator("xpath=following-sibling::dd[1]");
    assert.equal(await fact("Reported by").textContent(), "airflow");
    assert.equal(await fact("DAG").textContent(), "BQ");
    assert.equal(await fact("Task").textContent(), "copy");
    assert.equal(await fact("Operator").textContent(), "BigQueryToBigQueryOperator");
    assert.equal(await fact("Owner").textContent(), "airflow");
    assert.equal(await fact("Schedule").textContent(), "None");
    assert.equal(await fact("File").textContent(), "/files/dags/bq.py");
    await screenshot(page, "job-airflow-facts");

    // The DAG's other task, linked, and its own facts on its page.
    const other = facts.getByRole("link", { name: "BQ.upload" });
    await other.click();
    await page.getByRole("heading", { name: "BQ.upload", level: 1 }).waitFor();
    const facts2 = page.getByRole("region", { name: "Job facts" });
    await facts2.getByRole("list", { name: "Tags" }).getByText("ingest", { exact: true }).waitFor();
    await facts2.getByRole("link", { name: "BQ.copy" }).waitFor();
  });

  test("a demo Airflow task lists its DAG and the DAG's other tasks", async () => {
    const id = await jobId("airflow://etl.acme.internal", "shop_to_warehouse.copy_orders");
    await page.goto(`${env.base}/jobs/${id}`);
    const facts = page.getByRole("region", { name: "Job facts" });
    await facts.getByRole("link", { name: "shop_to_warehouse", exact: true }).waitFor();
    assert.equal(await facts.locator(".dag-jobs li").count(), 7); // the DAG and six other tasks
    assert.equal(await facts.getByRole("link", { name: "shop_to_warehouse.copy_orders" }).count(), 0);
    await screenshot(page, "job-airflow-demo-dag");
  });

  test("the demo's cron job, reported by quarry run: its command, and its runs on the view's Runs tab", async () => {
    const d = await graphql(env.base, "query($n:String,$m:String){dataset(namespace:$n,name:$m){id}}", {
      n: "redshift://analytics.us-east-1:5439",
      m: "analytics.reporting.customer_lifetime_value",
    });
    await page.goto(`${env.base}/datasets/${d.dataset.id}/runs`);
    const card = page.locator(".card", { has: page.getByRole("link", { name: "refresh_customer_ltv" }) });
    await card.locator("[data-testid=run-row]").first().waitFor();
    assert.ok((await card.locator("[data-testid=run-row]").count()) >= 9);
    // The night the warehouse was in recovery: the script's stderr.
    await card.locator("td.run-error", { hasText: "the database system is in recovery mode" }).waitFor();
    await screenshot(page, "dataset-runs-cron");

    await card.getByRole("link", { name: "refresh_customer_ltv" }).click();
    const facts = page.getByRole("region", { name: "Job facts" });
    await facts.getByRole("heading", { name: "Command" }).waitFor();
    const cmd = await facts.locator("code.command").textContent();
    assert.match(cmd, /refresh_customer_ltv\.sh --dsn 'redshift:\/\/etl:\*\*\*@analytics/);
    assert.doesNotMatch(cmd, /s3cr3t/);
    assert.equal(await facts.locator("dt", { hasText: /^Host$/ }).locator("xpath=following-sibling::dd[1]").textContent(), "etl-1.acme.internal");
    await screenshot(page, "job-cron-facts");
    assert.deepEqual(pageErrors, []);
  });
});
