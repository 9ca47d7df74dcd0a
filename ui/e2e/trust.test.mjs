// End-to-end tests of "can I trust it?" (issue 20): the dataset header names
// the nearest problem upstream, a deprecated dataset ranks below its
// replacement and links to it, an endorsement shows in the header, and the
// header leaves the tabs above the fold.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { graphql, openPage, screenshot } from "./harness.mjs";

const T = 15_000;
const warehouse = "redshift://analytics.us-east-1:5439";
let env;
let ctx;
let page;
let pageErrors = [];
let close;

before(async () => {
  ({ env, ctx, page, pageErrors, close } = await openPage({ width: 1400, height: 900, timeout: T }));
});

after(async () => {
  await close?.();
});

const shot = (name) => screenshot(page, name);

async function datasetId(name) {
  const d = await graphql(env.base, "query($n:String,$m:String){dataset(namespace:$n,name:$m){id}}", { n: warehouse, m: name });
  assert.ok(d.dataset, `the demo has ${name}`);
  return d.dataset.id;
}

// openDataset opens a dataset's page; the alert evaluator's first pass may
// still be running when the server starts, so the page is reloaded until
// ready() holds.
async function openDataset(id, ready) {
  const until = Date.now() + T;
  for (;;) {
    await page.goto(`${env.base}/datasets/${id}`);
    await page.locator("h1").first().waitFor();
    if (await ready()) return;
    assert.ok(Date.now() < until, "the page shows what the evaluator found");
    await page.waitForTimeout(300);
  }
}

describe("trust at a glance", () => {
  test("daily_revenue's header names the failing check of its input fct_payments", async () => {
    const id = await datasetId("analytics.reporting.daily_revenue");
    const problem = page.getByRole("link", { name: /upstream problem: check accepted_values_fct_payments_method (\(method\) )?fails on fct_payments/ });
    await openDataset(id, async () => (await problem.count()) > 0);
    await page.getByTestId("upstream-problem").getByText("a direct input").waitFor();
    await shot("trust-upstream-problem");
    await problem.click();
    await page.waitForURL(/\/datasets\/[^/]+\/quality/);
    await page.locator("h1", { hasText: "fct_payments" }).waitFor();
  });

  test("the header fits: the tabs start above the fold at 1400x900", async () => {
    for (const name of ["analytics.reporting.daily_revenue", "analytics.reporting.customer_orders_summary", "analytics.marts.fct_orders"]) {
      await page.goto(`${env.base}/datasets/${await datasetId(name)}`);
      const tabs = page.getByRole("tablist", { name: "Dataset sections" });
      await tabs.waitFor();
      const box = await tabs.boundingBox();
      assert.ok(box && box.y + box.height <= 900, `${name}: the tabs end at ${box && box.y + box.height}px, below the fold`);
    }
  });

  test("on a phone the header and a deprecated hit do not scroll the page sideways", async () => {
    const narrow = await ctx.newPage();
    await narrow.setViewportSize({ width: 390, height: 844 });
    for (const url of ["/search?q=customer", `/datasets/${await datasetId("analytics.reporting.customer_orders_summary")}`]) {
      await narrow.goto(env.base + url);
      await narrow.locator(url.startsWith("/search") ? "[data-testid=hit]" : "h1").first().waitFor();
      const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${url}: no horizontal scrolling (${overflow}px too wide)`);
    }
    await narrow.close();
  });

  test("breadcrumbs link to the search of their source, database and schema; the name copies", async () => {
    await page.goto(`${env.base}/datasets/${await datasetId("analytics.reporting.daily_revenue")}`);
    await page.getByRole("button", { name: "Copy name" }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    await page.getByRole("button", { name: "Copy with namespace" }).waitFor();
    // Owners link to what they own.
    await page.getByRole("list", { name: "Owners" }).getByRole("link", { name: "team:finance-analytics" }).waitFor();
    const crumbs = page.getByRole("navigation", { name: "Breadcrumbs" });
    await crumbs.getByRole("link", { name: "reporting" }).click();
    await page.waitForURL(/\/search\?.*schema=reporting/);
    await page.locator("[data-testid=hit]").first().waitFor();
  });

  test("the deprecated summary ranks below its replacement and links to it", async () => {
    // "customer" is in both names, as the first word.
    await page.goto(`${env.base}/search?q=customer`);
    const hits = page.locator("[data-testid=hit]");
    await hits.first().waitFor();
    const names = (await hits.locator(".hit-name").allTextContents()).map((s) => s.trim());
    const old = names.indexOf("analytics.reporting.customer_orders_summary");
    const replacement = names.indexOf("analytics.reporting.customer_lifetime_value");
    assert.ok(old >= 0 && replacement >= 0 && replacement < old, `the replacement first: ${names}`);
    const hit = hits.filter({ hasText: "analytics.reporting.customer_orders_summary" });
    await hit.locator(".badge", { hasText: "deprecated" }).waitFor();
    await shot("trust-search-deprecated");
    await hit.getByRole("link", { name: "Replacement: analytics.reporting.customer_lifetime_value" }).click();
    await page.locator("h1", { hasText: "customer_lifetime_value" }).waitFor();

    // Its page says so, late without an alert.
    await page.goto(`${env.base}/datasets/${await datasetId("analytics.reporting.customer_orders_summary")}`);
    await page.getByRole("note").getByText("Deprecated").waitFor();
    await page.getByRole("note").getByRole("link", { name: "Replacement: analytics.reporting.customer_lifetime_value" }).waitFor();
    await page.locator(".dataset-badges .badge", { hasText: "late" }).waitFor();
    assert.equal(await page.locator(".dataset-badges .badge", { hasText: "alert: late data" }).count(), 0, "a deprecated dataset raises no freshness alert");
    await shot("trust-deprecated");
  });

  test("an endorsement set in the UI shows in the header", async () => {
    const id = await datasetId("analytics.marts.fct_orders");
    await page.goto(`${env.base}/datasets/${id}`);
    await page.getByRole("button", { name: "Endorse" }).click();
    const form = page.getByRole("form", { name: "Endorse" });
    await form.getByRole("textbox", { name: "Why (optional)" }).fill("the finance team's source of truth");
    await form.getByRole("button", { name: "Save endorsement" }).click();
    const badge = page.locator(".dataset-badges .badge", { hasText: "endorsed by" });
    await badge.waitFor();
    assert.match(await badge.getAttribute("title"), /source of truth/);
    await shot("trust-endorsed");
    // Withdrawn, it is gone.
    await page.getByRole("button", { name: "Withdraw endorsement" }).click();
    await badge.waitFor({ state: "detached" });
  });

  test("a view's size is a dash and an unknown update says unknown", async () => {
    const d = await graphql(env.base, '{ search(query: "", filter: { kind: [VIEW] }, first: 1) { hits { dataset { id lastUpdatedAt } } } }');
    const view = d.search.hits[0].dataset;
    await page.goto(`${env.base}/datasets/${view.id}`);
    await page.locator(".facts dt", { hasText: "Size" }).waitFor();
    assert.equal((await page.locator(".facts dt:has-text('Size') + dd").textContent()).trim(), "—");
    if (!view.lastUpdatedAt) await page.getByTestId("freshness").getByText("Last updated: unknown").waitFor();
  });

  test("no page errors", () => {
    assert.deepEqual(pageErrors, []);
  });
});
