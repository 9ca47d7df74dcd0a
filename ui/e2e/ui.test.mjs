// End-to-end tests of the web UI: the real binary with its demo catalog, the
// real app, Debian's Chromium. Screenshots of every page land in
// e2e/screenshots/ for a person to look at.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { graphql, openPage, screenshot } from "./harness.mjs";

const T = 15_000;
let env;
let ctx;
let page;
let pageErrors = [];
let close;

before(async () => {
  ({ env, ctx, page, pageErrors, close } = await openPage({ timeout: T }));
});

after(async () => {
  await close?.();
});

const shot = (name, p = page) => screenshot(p, name);
const heading = () => page.locator("h1").first();

async function datasetId(namespace, name) {
  const d = await graphql(env.base, "query($n:String,$m:String){dataset(namespace:$n,name:$m){id}}", { n: namespace, m: name });
  assert.ok(d.dataset, `the demo has ${namespace} ${name}`);
  return d.dataset.id;
}

describe("web UI", () => {
  test("search 'revenue' puts the daily revenue table first", async () => {
    await page.goto(env.base + "/");
    await page.locator("[data-testid=hit]").first().waitFor();
    // "/" focuses the search box.
    await page.keyboard.press("/");
    const box = page.getByRole("combobox", { name: "Search the catalog" });
    assert.ok(await box.evaluate((el) => el === document.activeElement), "'/' focuses the search box");
    await box.fill("revenue");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/search\?q=revenue/);
    await page.getByRole("heading", { name: /Results for/ }).waitFor();
    const first = page.locator("[data-testid=hit]").first();
    await first.locator(".hit-name", { hasText: "analytics.reporting.daily_revenue" }).waitFor();
    assert.equal((await first.locator(".hit-name").textContent()).trim(), "analytics.reporting.daily_revenue");
    // Why it matched, highlighted; owners, tags and the trust badges.
    assert.ok((await first.locator("mark").count()) > 0, "matched words are highlighted");
    await first.getByText("team:finance-analytics").waitFor();
    await first.getByText("#tier1").waitFor();
    await first.locator(".badge", { hasText: "fresh" }).waitFor();
    await first.locator(".badge", { hasText: "checks" }).waitFor();
    await shot("search");
  });

  test("the dataset page shows its header and columns", async () => {
    await page.locator("[data-testid=hit] .hit-name").first().click();
    await page.waitForURL(/\/datasets\/[0-9a-f-]{36}$/);
    await heading().filter({ hasText: "daily_revenue" }).waitFor();
    await page.getByText("redshift://analytics.us-east-1:5439").first().waitFor();
    await page.getByTestId("freshness").getByText("Last updated").waitFor();
    const rows = page.locator("[data-testid=column-row]");
    await rows.first().waitFor();
    const names = await rows.locator("th").allTextContents();
    for (const c of ["revenue_date", "gross_revenue", "net_revenue", "orders_count"]) {
      assert.ok(names.includes(c), `columns list ${c}: ${names}`);
    }
    // The filter box narrows the columns.
    await page.getByLabel("Filter columns").fill("net_");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=column-row]").length === 1);
    await page.getByLabel("Filter columns").fill("");
    await shot("dataset-columns");
  });

  test("the lineage tab draws upstream tables and the job between, and a click opens an upstream dataset", async () => {
    await page.getByRole("tab", { name: "Lineage" }).click();
    await page.waitForURL(/\/lineage/);
    const graph = page.getByTestId("lineage-graph");
    await graph.waitFor();
    await graph.locator('[data-testid=lineage-dataset][data-name="analytics.marts.fct_orders"]').waitFor();
    await graph.locator('[data-testid=lineage-dataset][data-name="analytics.marts.fct_payments"]').waitFor();
    await graph.locator('[data-testid=lineage-job][data-name="analytics.reporting.daily_revenue"]').waitFor();
    // Edges are drawn: orders -> job -> daily_revenue.
    assert.ok((await graph.locator(".react-flow__edge").count()) >= 3, "edges are drawn");
    // The first view holds the whole graph at a zoom whose text can be read.
    const transform = await graph.locator(".react-flow__viewport").evaluate((el) => el.style.transform);
    const zoom = Number(/scale\(([\d.]+)\)/.exec(transform)?.[1]);
    assert.ok(zoom >= 0.65, `readable zoom: ${transform}`);
    const box = await graph.boundingBox();
    for (const card of await graph.locator("[data-testid=lineage-dataset], [data-testid=lineage-job]").all()) {
      const b = await card.boundingBox();
      const name = await card.getAttribute("data-name");
      assert.ok(b.x >= box.x && b.y >= box.y && b.x + b.width <= box.x + box.width && b.y + b.height <= box.y + box.height, `${name} is in view`);
    }
    await shot("dataset-lineage");

    // Column level: columns of the upstream tables appear.
    // The checkbox follows the URL, which a navigation (a React transition) changes.
    await page.getByLabel("Column level").click();
    await page.waitForURL(/columns=1/);
    await graph.locator(".lnode-columns li", { hasText: "gross_amount_eur" }).first().waitFor();
    // Column edges name their job: a label per job and card it writes, and
    // each edge's tooltip.
    const jobLabels = page.getByTestId("lineage-edge-job");
    await jobLabels.filter({ hasText: "daily_revenue" }).waitFor();
    assert.deepEqual((await jobLabels.allTextContents()).map((t) => t.replace("⚙", "").trim()).sort(), ["daily_revenue", "fct_orders", "fct_payments"]);
    assert.equal(await jobLabels.filter({ hasText: "fct_orders" }).getByRole("link").getAttribute("title"), "Job analytics.marts.fct_orders (dbt://analytics)");
    const tips = await graph.locator(".react-flow__edge title").allTextContents();
    assert.ok(tips.includes("fct_orders.gross_amount_eur → daily_revenue.gross_revenue (direct/aggregation), by job analytics.reporting.daily_revenue (dbt://analytics)"), `edge tooltips: ${tips.join("; ")}`);
    await shot("dataset-lineage-columns");
    await page.getByLabel("Column level").click();
    await page.waitForURL((u) => !u.search.includes("columns=1"));

    // Depth 3 reaches the raw tables behind the marts.
    await page.getByLabel("Depth").selectOption("3");
    await page.waitForURL(/depth=3/);
    await graph.locator('[data-testid=lineage-dataset][data-name="analytics.raw.orders"]').waitFor();

    const orders = await datasetId("redshift://analytics.us-east-1:5439", "analytics.marts.fct_orders");
    await graph.scrollIntoViewIfNeeded();
    await graph.locator('[data-testid=lineage-dataset][data-name="analytics.marts.fct_orders"] .lnode-sub').click();
    await page.waitForURL(new RegExp(`/datasets/${orders}`));
    await heading().filter({ hasText: "fct_orders" }).waitFor();
  });

  test("a description edit shows after a reload and in search", async () => {
    const id = await datasetId("redshift://analytics.us-east-1:5439", "analytics.reporting.daily_revenue");
    await page.goto(`${env.base}/datasets/${id}`);
    await page.getByRole("button", { name: "Edit description" }).click();
    const text = "Revenue per day, **checked** by the quokka team.";
    await page.getByLabel("Description (Markdown)").fill(text);
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator(".description strong", { hasText: "checked" }).waitFor();
    await page.reload();
    await page.locator(".description", { hasText: "checked by the quokka team" }).waitFor();
    await shot("dataset-edited");

    // The index follows the store's changelog; give it a moment.
    const until = Date.now() + T;
    for (;;) {
      await page.goto(`${env.base}/search?q=quokka`);
      await page.locator("[data-testid=hit], .state-empty").first().waitFor();
      const hit = page.locator("[data-testid=hit]", { hasText: "analytics.reporting.daily_revenue" });
      if ((await hit.count()) > 0) {
        await hit.locator("mark", { hasText: "quokka" }).first().waitFor();
        break;
      }
      assert.ok(Date.now() < until, "search finds the edited description");
      await page.waitForTimeout(300);
    }
  });

  test("a column description is edited in place", async () => {
    const id = await datasetId("redshift://analytics.us-east-1:5439", "analytics.reporting.daily_revenue");
    await page.goto(`${env.base}/datasets/${id}/columns`);
    await page.getByRole("button", { name: "Edit the description of refunds" }).click();
    await page.getByLabel("Description of refunds").fill("Refunds issued that day, in EUR.");
    await page.keyboard.press("Enter");
    await page.locator("[data-testid=column-row]", { hasText: "refunds" }).getByText("Refunds issued that day, in EUR.").waitFor();
    await page.reload();
    await page.locator("[data-testid=column-row]", { hasText: "refunds" }).getByText("Refunds issued that day, in EUR.").waitFor();
  });

  test("the alerts page lists the late tables", async () => {
    await page.goto(env.base + "/alerts");
    const alerts = page.locator("[data-testid=alert]");
    await alerts.filter({ hasText: "analytics.reporting.weekly_active_users" }).waitFor();
    await alerts.filter({ hasText: "finance/revenue_export.csv" }).waitFor();
    const late = alerts.filter({ hasText: "analytics.reporting.weekly_active_users" });
    await late.getByText("late data").waitFor();
    await late.getByText(/late for/).waitFor(); // counted from when it was due (issue 20)
    // Worst first: no WARN before an ERROR.
    const levels = await alerts.locator(".alert-level .badge").allTextContents();
    assert.deepEqual(levels, [...levels].sort((a, b) => (a === "error" ? 0 : 1) - (b === "error" ? 0 : 1)), `worst first: ${levels}`);
    await shot("alerts");
    await late.getByRole("link", { name: "analytics.reporting.weekly_active_users" }).click();
    await heading().filter({ hasText: "weekly_active_users" }).waitFor();
    await page.locator(".badge", { hasText: "very late" }).first().waitFor();
  });

  test("a facet click narrows the results and the URL carries it", async () => {
    await page.goto(env.base + "/search");
    const total = page.getByTestId("total");
    await total.waitFor();
    const all = parseInt(await total.textContent(), 10);
    const view = page.locator("[data-facet=kind][data-value=VIEW]");
    const expected = parseInt(await view.locator(".facet-count").textContent(), 10);
    await view.click();
    await page.waitForURL(/kind=VIEW/);
    await page.waitForFunction((n) => parseInt(document.querySelector("[data-testid=total]").textContent, 10) === n, expected);
    assert.ok(expected < all, `${expected} views of ${all} datasets`);
    const kinds = await page.locator("[data-testid=hit] .kind .kind-label").allTextContents();
    assert.ok(kinds.length > 0 && kinds.every((k) => k === "view"), `only views: ${kinds}`);
    await shot("search-facet");
    // A shared URL restores the filter.
    await page.reload();
    await page.locator("[data-facet=kind][data-value=VIEW][aria-pressed=true]").waitFor();
    assert.equal(parseInt(await total.textContent(), 10), expected);
  });

  test("the freshness facet narrows the results to the late tables", async () => {
    // The alert evaluator runs when the server starts: wait until it has
    // judged the demo's tables.
    const error = page.locator("[data-facet=freshness][data-value=ERROR]");
    const until = Date.now() + T;
    for (;;) {
      await page.goto(env.base + "/search");
      await page.getByTestId("total").waitFor();
      if ((await error.count()) > 0) break;
      assert.ok(Date.now() < until, "the freshness facet appears");
      await page.waitForTimeout(300);
    }
    await page.getByRole("region", { name: "Freshness" }).getByText("very late (error)").waitFor();
    await page.getByRole("region", { name: "Checks" }).locator("[data-facet=health][data-value=FAIL]", { hasText: "fail" }).waitFor();
    await error.click();
    await page.waitForURL(/freshness=ERROR/);
    await page.waitForFunction(() => parseInt(document.querySelector("[data-testid=total]").textContent, 10) === 2);
    const names = await page.locator("[data-testid=hit] .hit-name").allTextContents();
    assert.deepEqual(names.sort(), ["analytics.reporting.weekly_active_users", "finance/revenue_export.csv"]);
    await page.locator(".active-filters", { hasText: "Freshness: very late (error)" }).waitFor();
    await shot("search-freshness");
    await page.reload();
    await page.locator("[data-facet=freshness][data-value=ERROR][aria-pressed=true]").waitFor();
    assert.equal(await page.locator("[data-testid=hit]").count(), 2);
  });

  test("paging moves through all datasets", async () => {
    await page.goto(env.base + "/search");
    await page.locator("[data-testid=hit]").first().waitFor();
    const firstPage = await page.locator("[data-testid=hit] .hit-name").allTextContents();
    await page.getByRole("button", { name: "Next →" }).click();
    await page.waitForURL(/after=/);
    await page.waitForFunction((first) => document.querySelector("[data-testid=hit] .hit-name")?.textContent !== first, firstPage[0]);
    const second = await page.locator("[data-testid=hit] .hit-name").allTextContents();
    assert.ok(second.every((n) => !firstPage.includes(n)), "the second page holds other datasets");
    await page.getByRole("button", { name: "← Previous" }).click();
    await page.waitForFunction((first) => document.querySelector("[data-testid=hit] .hit-name")?.textContent === first, firstPage[0]);
  });

  test("autocomplete completes a dataset name and opens it from the keyboard", async () => {
    await page.goto(env.base + "/alerts");
    // React renders after the load event: wait for the page before typing.
    await page.locator("[data-testid=alert]").first().waitFor();
    await page.keyboard.press("/");
    await page.keyboard.type("daily_rev");
    const option = page.getByRole("option", { name: /analytics.reporting.daily_revenue/ });
    await option.waitFor();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/datasets\//);
    await heading().filter({ hasText: "daily_revenue" }).waitFor();
  });

  test("the quality tab shows a failing check's results over time", async () => {
    // The demo's dbt tests run after every daily model run: the accepted
    // values test passed until the last two runs, which failed.
    const id = await datasetId("redshift://analytics.us-east-1:5439", "analytics.marts.fct_payments");
    await page.goto(`${env.base}/datasets/${id}/quality`);
    const row = page.locator('[data-testid=check-row][data-name="accepted_values_fct_payments_method"]');
    await row.waitFor();
    // The strip: oldest first, the latest result last.
    const strip = row.locator(".check-strip li");
    await page.waitForFunction(() => document.querySelectorAll('[data-name="accepted_values_fct_payments_method"] .check-strip li').length >= 3);
    const marks = await strip.locator(".sr-only").allTextContents();
    assert.deepEqual(marks.slice(-3), ["pass", "fail", "fail"], `the strip: ${marks}`);
    assert.ok(marks.slice(0, -2).every((m) => m === "pass"), `it passed before: ${marks}`);
    await page.locator(".badge", { hasText: "alert: failing check" }).waitFor();
    await row.getByRole("button", { name: `History (${marks.length})` }).click();
    const results = page.getByTestId("check-history").locator("[data-testid=check-result]");
    await results.nth(2).waitFor();
    // Newest first, with what each run observed.
    assert.match(await results.nth(0).textContent(), /fail.*3 rows with method 'crypto'/);
    assert.match(await results.nth(1).textContent(), /fail/);
    assert.match(await results.nth(2).textContent(), /pass/);
    await shot("dataset-quality-history");
  });

  test("the other tabs, the job and sources pages render", async () => {
    const id = await datasetId("redshift://analytics.us-east-1:5439", "analytics.marts.fct_payments");
    await page.goto(`${env.base}/datasets/${id}/quality`);
    await page.getByRole("heading", { name: "Checks" }).waitFor();
    await page.getByText("accepted_values_fct_payments_method").first().waitFor();
    await shot("dataset-quality");
    await page.getByRole("tab", { name: "History" }).click();
    await page.locator(".timeline li, .state-empty").first().waitFor();
    await shot("dataset-history");
    await page.getByRole("tab", { name: "Runs" }).click();
    await page.getByRole("heading", { name: "Written by" }).waitFor();
    await shot("dataset-runs");

    const job = await graphql(env.base, '{ job(namespace:"airflow://etl.acme.internal", name:"finance_export.revenue_csv"){ id } }');
    await page.goto(`${env.base}/jobs/${job.job.id}`);
    await heading().filter({ hasText: "finance_export.revenue_csv" }).waitFor();
    await page.locator("[data-testid=run-row]", { hasText: "AccessDenied" }).first().waitFor();
    await page.getByRole("link", { name: "finance/revenue_export.csv" }).waitFor();
    await shot("job");

    await page.goto(env.base + "/sources");
    await page.getByRole("heading", { name: "Sources" }).waitFor();
    await page.locator("[data-testid=source-row], .state-empty").first().waitFor();
  });

  test("crawl now on the sources page runs a crawl and shows its error", async () => {
    // The demo registers no source: register one nothing listens for.
    await graphql(env.base, 'mutation { registerSource(input: {name: "legacy", kind: POSTGRES, dsn: "postgres://quarry:secret@127.0.0.1:1/legacy"}) { name } }');
    await page.goto(env.base + "/sources");
    const row = page.locator("[data-testid=source-row]", { hasText: "legacy" });
    await row.getByText("never crawled").waitFor();
    assert.ok(!(await row.textContent()).includes("secret"), "the password is masked");
    await row.getByRole("button", { name: "Crawl now" }).click();
    await row.locator(".badge", { hasText: "failed" }).waitFor();
    await row.getByText(/unreachable/).waitFor(); // a coarse reason: the detail is in the server log
    await shot("sources");
  });

  test("expanding a lineage node adds its neighbours", async () => {
    const id = await datasetId("redshift://analytics.us-east-1:5439", "analytics.reporting.daily_revenue");
    await page.goto(`${env.base}/datasets/${id}/lineage?depth=1&dir=UPSTREAM`);
    const graph = page.getByTestId("lineage-graph");
    const orders = graph.locator('[data-testid=lineage-dataset][data-name="analytics.marts.fct_orders"]');
    await orders.waitFor();
    const staging = graph.locator('[data-testid=lineage-dataset][data-name="analytics.staging.stg_orders"]');
    assert.equal(await staging.count(), 0, "depth 1 stops at the marts");
    await graph.scrollIntoViewIfNeeded();
    await orders.getByRole("button", { name: "Expand analytics.marts.fct_orders" }).click();
    await staging.waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot("dataset-lineage-expanded");

    await page.goto(env.base + "/datasets/00000000-0000-0000-0000-000000000000");
    await page.getByText("No dataset has the id").waitFor();
  });

  test("a narrow window stays usable", async () => {
    const narrow = await ctx.newPage();
    await narrow.setViewportSize({ width: 390, height: 844 });
    await narrow.goto(env.base + "/search?q=orders");
    await narrow.locator("[data-testid=hit]").first().waitFor();
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal scrolling (${overflow}px too wide)`);
    await shot("narrow-search", narrow);
    const id = await datasetId("redshift://analytics.us-east-1:5439", "analytics.reporting.daily_revenue");
    await narrow.goto(`${env.base}/datasets/${id}`);
    await narrow.locator("[data-testid=column-row]").first().waitFor();
    await shot("narrow-dataset", narrow);
    await narrow.close();
  });

  test("no page threw", () => {
    assert.deepEqual(pageErrors, []);
  });
});

// dbt: real projects' artifacts (../shared/fixtures/dbt) imported into the
// running server through the real CLI, as a CI job would after `dbt build`.
const dbtFixtures = join(new URL("..", import.meta.url).pathname, "../../shared/fixtures/dbt");
const warehouse = "postgres://warehouse.acme.internal:5432";
const dashboardUrl = "https://bi.acme.example/dashboards/customers";

async function importDbt(...args) {
  const { stdout } = await promisify(execFile)(env.bin, ["import", "dbt", "--server", env.base, ...args]);
  return stdout;
}

describe("dbt", () => {
  let tmp;
  before(async () => {
    // The bouncer project's exposures declare no url or maturity: give its
    // dashboard both, in a copy of the manifest, so that the page's link and
    // maturity have something to show. Everything else is the fixture's.
    const bouncer = join(dbtFixtures, "dbt_bouncer_1_11");
    const manifest = JSON.parse(readFileSync(join(bouncer, "manifest.json"), "utf8"));
    const dash = manifest.exposures["exposure.dbt_bouncer_test_project.customers"];
    assert.equal(dash.type, "dashboard", "the fixture's customers exposure is a dashboard");
    Object.assign(dash, { url: dashboardUrl, maturity: "high" });
    tmp = mkdtempSync(join(tmpdir(), "quarry-e2e-dbt-"));
    writeFileSync(join(tmp, "manifest.json"), JSON.stringify(manifest));
    const out = await importDbt(
      "--namespace", warehouse,
      "--docs-url", "https://dbt-docs.acme.example",
      "--catalog", join(bouncer, "catalog.json"),
      "--run-results", join(bouncer, "run_results.json"),
      tmp,
    );
    assert.match(out, /exposures 2/, out);
    assert.match(out, /test results 34/, out);
    // datahub's jaffle_shop: tests that errored, with their messages.
    const jaffle = join(dbtFixtures, "datahub_jaffle_shop");
    const out2 = await importDbt(
      "--namespace", "postgres://jaffle.acme.internal:5432",
      "--manifest", join(jaffle, "jaffle_shop_manifest.json"),
      "--catalog", join(jaffle, "jaffle_shop_catalog.json"),
      "--run-results", join(jaffle, "jaffle_shop_test_results.json"),
      jaffle,
    );
    assert.match(out2, /models 5/, out2);
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: env.base });
  });
  after(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  test("a dbt model's page shows its facts, its code raw and compiled with a copy button, its tests and its exposures", async () => {
    const id = await datasetId(warehouse, "dbt.main_marts.customers_v2");
    await page.goto(`${env.base}/datasets/${id}`);
    await heading().filter({ hasText: "customers_v2" }).waitFor();
    // The header: what dbt says of it.
    await page.locator(".dataset-badges .badge", { hasText: "dbt model" }).waitFor();
    await page.locator(".dataset-badges .badge", { hasText: "contract" }).waitFor();
    assert.equal(await page.getByTestId("materialized").textContent(), "table");
    assert.equal(await page.getByTestId("dbt-path").textContent(), "dbt_bouncer_test_project: models/marts/finance/customers_v2.sql");
    const facts = page.getByTestId("dbt-facts");
    assert.match(await facts.textContent(), /Access public.*Version 2.*Latest version 2.*Contract enforced/);
    assert.equal(
      await facts.getByRole("link", { name: /dbt docs/ }).getAttribute("href"),
      "https://dbt-docs.acme.example/#!/model/model.dbt_bouncer_test_project.customers.v2",
    );
    await page.getByTestId("dbt-properties").getByText("gold").waitFor(); // meta: maturity

    await page.getByRole("tab", { name: "dbt" }).click();
    await page.waitForURL(/\/dbt$/);
    // The job that builds it, as dbt-ol names it.
    assert.equal(await page.getByTestId("dbt-job").textContent(), "dbt.main_marts.dbt_bouncer_test_project.customers.v2.build.run");
    // The code as written, Jinja and all, highlighted.
    const sql = page.getByTestId("sql");
    await sql.locator(".tok-jinja", { hasText: '{{ ref("stg_customers") }}' }).waitFor();
    assert.ok((await sql.locator(".tok-keyword", { hasText: /^select$/ }).count()) > 0, "keywords are highlighted");
    await sql.locator(".tok-function", { hasText: "coalesce" }).waitFor();
    await sql.locator(".tok-string", { hasText: "'New column'" }).waitFor();
    const { dataset } = await graphql(env.base, "query($id:ID!){dataset(id:$id){dbt{rawCode compiledCode}}}", { id });
    assert.equal(await sql.textContent(), dataset.dbt.rawCode, "the block shows the code as it is");
    // The copy button puts it on the clipboard.
    await page.getByRole("button", { name: "Copy the raw SQL" }).click();
    await page.getByRole("button", { name: "Copy the raw SQL" }).filter({ hasText: "Copied" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), dataset.dbt.rawCode);
    await shot("dbt-model");
    // The compiled code: relations instead of refs.
    await page.getByRole("button", { name: "Compiled SQL" }).click();
    await page.getByRole("button", { name: "Compiled SQL", pressed: true }).waitFor();
    await sql.locator(".tok-ident", { hasText: '"stg_customers"' }).waitFor();
    assert.equal(await sql.textContent(), dataset.dbt.compiledCode);
    assert.equal(await sql.locator(".tok-jinja").count(), 0, "no Jinja left in the compiled code");
    await page.getByRole("button", { name: "Copy the compiled SQL" }).waitFor();

    // Its tests, generic and unit, with their latest results.
    const tests = page.locator("[data-testid=dbt-test]");
    assert.equal(await tests.count(), 4);
    const unique = page.locator('[data-testid=dbt-test][data-name="unique_customers_v2_customer_id"]');
    assert.match(await unique.textContent(), /^pass.*unique_customers_v2_customer_id.*unique.*customer_id.*error.*0.*ago.*ms$/);
    const unit = page.locator('[data-testid=dbt-test][data-name="test_clv_logic"]');
    assert.match(await unit.textContent(), /pass.*test_clv_logic.*Validate CLV logic.*unit/);
    await page.getByRole("heading", { name: /Tests.*4 pass/ }).waitFor();

    // Its exposures, linked: the dashboard and the notebook that read it.
    const exposures = page.locator("[data-testid=exposure]");
    assert.equal(await exposures.count(), 2);
    const shown = async (e) => [await e.locator(".kind").textContent(), await e.getByRole("link").textContent(), await e.locator(".chip").textContent()];
    assert.deepEqual(await shown(exposures.nth(0)), ["◔dashboard", "customers", "anna.anderson@example.com"]);
    assert.deepEqual(await shown(exposures.nth(1)), ["▣application", "Pulse queries", "jacky.jackson@example.com"]);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await shot("dbt-model-tests");
    const dash = await datasetId("dbt://dbt_bouncer_test_project", "customers");
    await exposures.getByRole("link", { name: "customers" }).click();
    await page.waitForURL(new RegExp(`/datasets/${dash}$`));
  });

  test("a dashboard's page shows its owner, link, maturity and everything upstream", async () => {
    await heading().filter({ hasText: "customers" }).waitFor();
    await page.locator(".dataset-badges .kind", { hasText: "dashboard" }).waitFor();
    const owner = page.getByTestId("exposure-owner");
    await owner.getByText("Anna Anderson").waitFor();
    assert.equal(await owner.getByRole("link", { name: "anna.anderson@example.com" }).getAttribute("href"), "mailto:anna.anderson@example.com");
    const link = page.getByTestId("exposure-url").getByRole("link");
    assert.equal(await link.getAttribute("href"), dashboardUrl);
    assert.equal(await link.getAttribute("target"), "_blank");
    assert.equal(await page.getByTestId("exposure-maturity").textContent(), "high");
    // No freshness, checks or columns: it has no data of its own.
    assert.equal(await page.getByTestId("freshness").count(), 0);
    assert.deepEqual(await page.getByRole("tab").allTextContents(), ["Lineage", "History"]);
    // Its lineage opens upstream, deep enough to reach the seeds behind it.
    const graph = page.getByTestId("lineage-graph");
    await graph.waitFor();
    assert.equal(await page.getByLabel("Direction").inputValue(), "UPSTREAM");
    for (const name of ["dbt.main_marts.customers_v2", "dbt.main_stg_crm.stg_customers", "dbt.main_stg_payments.stg_payments", "dbt.main.raw_customers"]) {
      await graph.locator(`[data-testid=lineage-dataset][data-name="${name}"]`).waitFor();
    }
    // The job between is named for its model, not "run".
    const job = graph.locator('[data-testid=lineage-job][data-name="dbt.main_marts.dbt_bouncer_test_project.customers.v2.build.run"]');
    assert.equal(await job.getByRole("link").textContent(), "customers.v2");
    await page.locator(".neighbours").getByRole("link", { name: "dbt.main_marts.customers_v2" }).waitFor();
    await shot("dbt-dashboard");
  });

  test("a dbt test that errored shows its status and message first; one never run says so", async () => {
    const id = await datasetId("postgres://jaffle.acme.internal:5432", "calm-pagoda-323403.jaffle_shop.customers");
    await page.goto(`${env.base}/datasets/${id}/dbt`);
    const tests = page.locator("[data-testid=dbt-test]");
    await tests.first().waitFor();
    const first = tests.first();
    assert.equal(await first.getAttribute("data-name"), "dbt_expectations_expect_column_values_to_be_in_set_customers_customer_id__customer_id_is_not_null__0__1__2");
    await first.locator(".badge", { hasText: "error" }).waitFor();
    assert.match(await first.locator(".test-message").textContent(), /^Database Error in test .*\n\s+No matching signature for operator = for argument types: INT64, STRING/);
    const last = tests.last();
    assert.match(await last.textContent(), /^not run/);
    await page.getByRole("heading", { name: /Tests.*1 error.*not run/ }).waitFor();
    // No exposure reads it, and the tab says so.
    await page.getByText("No exposure (dashboard, application or ML model) declares that it uses this model.").waitFor();
    await shot("dbt-tests-error");

    // On a phone the code and the tests scroll inside their boxes, not the page.
    const narrow = await ctx.newPage();
    await narrow.setViewportSize({ width: 390, height: 844 });
    await narrow.goto(`${env.base}/datasets/${id}/dbt`);
    await narrow.locator("[data-testid=dbt-test]").first().waitFor();
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal scrolling (${overflow}px too wide)`);
    await shot("narrow-dbt", narrow);
    await narrow.close();
  });

  test("a dbt source shows its freshness policy as dbt's, and no code", async () => {
    const id = await datasetId(warehouse, "dbt.dummy_source.customers");
    await page.goto(`${env.base}/datasets/${id}/dbt`);
    await page.getByTestId("freshness").getByText("dbt's policy: warn after 12h, error after 1d").waitFor();
    assert.match(await page.getByTestId("dbt-facts").textContent(), /^source.*Source dummy_source/);
    await page.getByText("dbt keeps no code for this source.").waitFor();
    assert.equal(await page.getByTestId("dbt-job").count(), 0);
  });

  test("search shows the new kinds with their glyphs, and the kind facet filters them", async () => {
    await page.goto(env.base + "/search");
    const facet = page.locator("[data-facet=kind][data-value=DASHBOARD]");
    await facet.waitFor();
    assert.equal((await facet.locator(".facet-value").textContent()).trim(), "◔dashboard");
    await page.locator("[data-facet=kind][data-value=APPLICATION] .facet-value", { hasText: "application" }).waitFor();
    await facet.click();
    await page.waitForURL(/kind=DASHBOARD/);
    await page.waitForFunction(() => parseInt(document.querySelector("[data-testid=total]").textContent, 10) === 1);
    const hit = page.locator("[data-testid=hit]");
    assert.equal(await hit.locator(".hit-name").textContent(), "customers");
    assert.equal(await hit.locator(".kind .kind-label").textContent(), "dashboard");
    assert.equal(await hit.locator(".badge", { hasText: "freshness" }).count(), 0, "an exposure has no freshness badge");
    await shot("search-dashboard");
  });

  test("no dbt page threw", () => {
    assert.deepEqual(pageErrors, []);
  });
});
