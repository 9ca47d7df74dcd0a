// End-to-end tests of the lineage graph and the Impact tab (issue 20): the
// real binary with its demo catalog in Debian's Chromium. Screenshots land in
// e2e/screenshots/.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { graphql, openPage, screenshot } from "./harness.mjs";

const T = 15_000;
const WAREHOUSE = "redshift://analytics.us-east-1:5439";
let env;
let page;
let pageErrors = [];
let close;

before(async () => {
  ({ env, page, pageErrors, close } = await openPage({ timeout: T, acceptDownloads: true }));
});

after(async () => {
  await close?.();
});

const shot = (name) => screenshot(page, name);

async function datasetId(name, namespace = WAREHOUSE) {
  const d = await graphql(env.base, "query($n:String,$m:String){dataset(namespace:$n,name:$m){id}}", { n: namespace, m: name });
  assert.ok(d.dataset, `the demo has ${namespace} ${name}`);
  return d.dataset.id;
}

const card = (graph, name) => graph.locator(`[data-testid=lineage-dataset][data-name="${name}"]`);

describe("lineage graph", () => {
  test("column level keeps the table-level neighbours that have no column edges", async () => {
    const id = await datasetId("analytics.reporting.daily_revenue");
    await page.goto(`${env.base}/datasets/${id}/lineage?columns=1`);
    const graph = page.getByTestId("lineage-graph");
    // Its columns are drawn, and the CSV export a job writes from it
    // without column lineage is a card all the same.
    await graph.locator(".lnode-columns li", { hasText: "gross_revenue" }).first().waitFor();
    await card(graph, "finance/revenue_export.csv").waitFor();
    const down = page.getByRole("heading", { name: "Direct downstream" }).locator("..");
    await down.getByRole("link", { name: "finance/revenue_export.csv" }).waitFor();
    assert.equal(await down.getByText("none known").count(), 0);
    await shot("lineage-columns-with-table-neighbours");
  });

  test("each card shows its state as an icon and a colour, with a legend", async () => {
    const id = await datasetId("analytics.reporting.daily_revenue");
    await page.goto(`${env.base}/datasets/${id}/lineage`);
    const graph = page.getByTestId("lineage-graph");
    // fct_payments has a failing check in the demo.
    const payments = card(graph, "analytics.marts.fct_payments");
    await payments.and(page.locator("[data-state=failing]")).waitFor();
    await payments.getByRole("img", { name: /checks failing/ }).waitFor();
    const legend = page.getByRole("note", { name: "Legend" });
    for (const label of ["deprecated", "checks failing or data very late", "data late", "fresh and passing"]) await legend.getByText(label, { exact: true }).waitFor();
    // Every card gets a known state or "not known", never nothing.
    for (const c of await graph.locator("[data-testid=lineage-dataset]").all()) assert.ok(await c.getAttribute("data-state"));
  });

  test("clicking a column lights its upstream and downstream path and dims the rest", async () => {
    const id = await datasetId("analytics.reporting.daily_revenue");
    await page.goto(`${env.base}/datasets/${id}/lineage?columns=1`);
    const graph = page.getByTestId("lineage-graph");
    const gross = graph.getByRole("button", { name: "Column daily_revenue.gross_revenue" });
    await gross.click();
    assert.equal(await gross.getAttribute("aria-pressed"), "true");
    // Upstream: fct_orders.gross_amount_eur feeds it; its sibling columns dim.
    const lit = await graph.locator(".lnode-columns li.lit").allTextContents();
    assert.ok(lit.includes("gross_amount_eur"), `lit columns: ${lit.join(", ")}`);
    assert.ok(lit.includes("gross_revenue"));
    const dimmed = await graph.locator(".lnode-columns li.dim").allTextContents();
    assert.ok(dimmed.includes("orders_count"), `dimmed columns: ${dimmed.join(", ")}`);
    assert.ok((await graph.locator(".react-flow__edge.lit").count()) > 0, "its edges are lit");
    assert.ok((await graph.locator(".react-flow__edge.dim").count()) > 0, "the other edges are dimmed");
    // The CSV export has no column on the path: its card is dimmed.
    assert.match(await card(graph, "finance/revenue_export.csv").getAttribute("class"), /\bdim\b/);
    await shot("lineage-column-path");
    await gross.click();
    assert.equal(await graph.locator(".lnode-columns li.dim").count(), 0, "a second click clears it");
  });

  test("a depth-4 graph fits in its box, none of it under the overview map", async () => {
    const id = await datasetId("analytics.marts.fct_orders");
    await page.goto(`${env.base}/datasets/${id}/lineage?depth=4`);
    const graph = page.getByTestId("lineage-graph");
    await card(graph, "analytics.raw.orders").waitFor();
    await card(graph, "analytics.reporting.daily_revenue").waitFor();
    const box = await graph.boundingBox();
    const map = page.locator(".react-flow__minimap");
    const mapBox = (await map.count()) ? await map.boundingBox() : null;
    const cards = await graph.locator("[data-testid=lineage-dataset], [data-testid=lineage-job]").all();
    assert.ok(cards.length >= 10, `a wide graph: ${cards.length} cards`);
    for (const c of cards) {
      const b = await c.boundingBox();
      const name = await c.getAttribute("data-name");
      assert.ok(b.x >= box.x && b.y >= box.y && b.x + b.width <= box.x + box.width && b.y + b.height <= box.y + box.height, `${name} is inside the box`);
      if (mapBox) {
        const over = b.x < mapBox.x + mapBox.width && mapBox.x < b.x + b.width && b.y < mapBox.y + mapBox.height && mapBox.y < b.y + b.height;
        assert.ok(!over, `${name} is not under the overview map`);
      }
    }
    await shot("lineage-depth-4");
  });

  test("the URL keeps the nodes expanded by hand, and collapse clears them", async () => {
    const id = await datasetId("analytics.reporting.daily_revenue");
    const orders = await datasetId("analytics.marts.fct_orders");
    await page.goto(`${env.base}/datasets/${id}/lineage?depth=1&dir=UPSTREAM`);
    const graph = page.getByTestId("lineage-graph");
    await card(graph, "analytics.marts.fct_orders").getByRole("button", { name: "Expand analytics.marts.fct_orders" }).click();
    await page.waitForURL(new RegExp(`expand=${orders}`));
    await card(graph, "analytics.staging.stg_orders").waitFor();
    // A reload (or a shared link) shows the same graph.
    await page.reload();
    await card(graph, "analytics.staging.stg_orders").waitFor();
    await page.getByRole("button", { name: /Collapse 1 expanded/ }).click();
    await page.waitForURL((u) => !u.search.includes("expand="));
    await page.waitForFunction(() => !document.querySelector('[data-name="analytics.staging.stg_orders"]'));
  });
});

describe("impact tab", () => {
  test("the impact CSV of fct_orders.order_key lists what is downstream of the column", async () => {
    const id = await datasetId("analytics.marts.fct_orders");
    await page.goto(`${env.base}/datasets/${id}/impact`);
    await page.getByRole("tab", { name: "Impact" }).waitFor();
    await page.getByLabel("Impact of").selectOption("order_key");
    await page.waitForURL(/column=order_key/);
    const table = page.getByRole("table", { name: "Downstream of analytics.marts.fct_orders.order_key" });
    await table.getByRole("link", { name: "analytics.reporting.daily_revenue" }).waitFor();
    await table.getByText("analytics.reporting.daily_revenue", { exact: true }).last().waitFor();
    await shot("impact-column");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
    assert.equal(download.suggestedFilename(), "impact-analytics.marts.fct_orders.order_key.csv");
    const csv = readFileSync(await download.path(), "utf8");
    const [header, ...lines] = csv.trimEnd().split("\r\n");
    assert.equal(header, "distance,namespace,name,kind,columns,owners,freshness,checks,last_updated_at,via_jobs");
    // The columns that do not move with the clock: distance, name, kind,
    // columns, owners, the job between.
    const rows = lines.map((l) => {
      const f = l.split(",");
      return [f[0], f[1], f[2], f[3], f[4], f[5], f[9]].join(",");
    });
    assert.deepEqual(rows, [
      `1,${WAREHOUSE},analytics.marts.fct_order_items,TABLE,order_key,team:analytics-eng,analytics.marts.fct_order_items`,
      `1,${WAREHOUSE},analytics.marts.fct_payments,TABLE,order_key,team:analytics-eng; team:finance-analytics,analytics.marts.fct_payments`,
      `1,${WAREHOUSE},analytics.reporting.customer_lifetime_value,MATERIALIZED_VIEW,orders_count,priya@acme.example; team:finance-analytics,view definition`,
      `1,${WAREHOUSE},analytics.reporting.daily_revenue,TABLE,average_order_value; orders_count,priya@acme.example; team:finance-analytics,analytics.reporting.daily_revenue`,
    ]);
  });

  test("the list sorts and filters", async () => {
    const id = await datasetId("analytics.marts.fct_orders");
    await page.goto(`${env.base}/datasets/${id}/impact`);
    const table = page.getByRole("table", { name: "Downstream of analytics.marts.fct_orders" });
    await table.getByRole("link", { name: "analytics.reporting.daily_revenue" }).first().waitFor();
    const names = () => table.locator("tbody tr td:nth-child(2) a").allTextContents();
    const all = await names();
    assert.ok(all.includes("finance/revenue_export.csv"), `the whole dataset's impact reaches the export: ${all.join(", ")}`);
    const distances = (await table.locator("tbody tr td:first-child").allTextContents()).map(Number);
    assert.deepEqual(distances, [...distances].sort((a, b) => a - b), "nearest first");
    await table.getByRole("button", { name: "Dataset" }).click();
    assert.deepEqual(await names(), [...all].sort((a, b) => a.localeCompare(b)));
    assert.equal(await table.getByRole("columnheader", { name: /Dataset/ }).getAttribute("aria-sort"), "ascending");
    await page.getByLabel("Filter impacted datasets").fill("finance-analytics");
    await page.waitForURL(/q=finance-analytics/);
    // The URL changes before the table renders the filtered rows.
    let filtered = await names();
    for (const until = Date.now() + 5000; filtered.length === all.length && Date.now() < until; ) {
      await page.waitForTimeout(50);
      filtered = await names();
    }
    assert.ok(filtered.length > 0 && filtered.length < all.length, `filtered: ${filtered.join(", ")}`);
    await page.getByRole("status").getByText(`${filtered.length} of ${all.length} downstream`).waitFor();
    await shot("impact-dataset");
    assert.deepEqual(pageErrors, []);
  });
});
