// End-to-end tests of issue 20's page work: the search page (facets, typos,
// did-you-mean, jobs, tag chips, sort), the dataset page's SQL, partitions
// and Runs tabs, GraphiQL from the binary with no internet, dark mode and
// keyboard focus.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { darkContext, graphql, openPage, screenshot, shotDark } from "./harness.mjs";

const T = 20_000;
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

const shot = (name, p = page) => screenshot(p, name);

async function datasetId(namespace, name) {
  const d = await graphql(env.base, "query($n:String,$m:String){dataset(namespace:$n,name:$m){id}}", { n: namespace, m: name });
  assert.ok(d.dataset, `the demo has ${namespace} ${name}`);
  return d.dataset.id;
}

const hitNames = async (p = page) => (await p.locator("[data-testid=hit] .hit-name").allTextContents()).map((s) => s.trim());

describe("search page", () => {
  test("facets show the top values and 'show more' reaches a third page of tags", async () => {
    await page.goto(env.base + "/search");
    const tags = page.getByRole("region", { name: "Tags" });
    await tags.getByRole("button").first().waitFor();
    const all = await graphql(env.base, "{search(query:\"\"){facets{field buckets{value}}}}");
    const tagValues = all.search.facets.find((f) => f.field === "tags").buckets.map((b) => b.value).filter(Boolean);
    assert.ok(tagValues.length > 12, `the demo has more than 12 tags (${tagValues.length})`);
    const third = tagValues[12];
    const bucket = tags.locator(`button[data-value="${third}"]`);
    assert.equal(await bucket.count(), 0, "a third-page tag is hidden at first");
    await tags.getByRole("button", { name: "Show more tags" }).click();
    assert.equal(await bucket.count(), 0, "still hidden after one 'show more'");
    await tags.getByRole("button", { name: "Show more tags" }).click();
    await bucket.click();
    await page.waitForURL(new RegExp(`tags=${encodeURIComponent(third)}`));
    await page.getByRole("region", { name: "Active filters" }).or(page.locator(".active-filters")).getByText(`Tags: ${third}`).waitFor();
    for (const name of await hitNames()) assert.ok(name, "a hit");
    // The sidebar is no second scroll area.
    const overflow = await page.locator(".facets").evaluate((el) => getComputedStyle(el).overflowY);
    assert.equal(overflow, "visible");
  });

  test("the Source facet names the source, not its URL", async () => {
    await page.goto(env.base + "/search");
    const source = page.getByRole("region", { name: "Source" });
    await source.getByRole("button", { name: /warehouse/ }).first().waitFor();
    assert.ok(!(await source.textContent()).includes("://"), "no URL in the Source facet");
  });

  test("'reveneu' finds all five revenue datasets", async () => {
    await page.goto(env.base + "/search?q=reveneu");
    await page.locator("[data-testid=hit]").first().waitFor();
    const names = await hitNames();
    for (const want of [
      "analytics.reporting.daily_revenue",
      "analytics.reporting.monthly_revenue_by_category",
      "analytics.reporting.customer_lifetime_value",
      "shop.public.orders",
      "finance/revenue_export.csv",
    ]) {
      assert.ok(names.includes(want), `reveneu finds ${want}: ${names}`);
    }
  });

  test("a query that finds little offers 'did you mean'", async () => {
    await page.goto(env.base + "/search?q=custmer_lifetme_value");
    const status = page.getByRole("status").filter({ hasText: "Did you mean" });
    await status.waitFor();
    await status.getByRole("link", { name: "customer lifetime value" }).click();
    await page.waitForURL((u) => new URL(u).searchParams.get("q") === "customer lifetime value");
    await page.locator("[data-testid=hit] .hit-name", { hasText: "customer_lifetime_value" }).first().waitFor();
    await shot("search-did-you-mean");
  });

  test("jobs appear in results, with a Jobs bucket in the Kind facet", async () => {
    await page.goto(env.base + "/search?q=revenue");
    const jobs = page.getByRole("region", { name: "Jobs" });
    await jobs.locator("[data-testid=job-hit]").first().waitFor();
    const kind = page.getByRole("region", { name: "Kind" });
    await kind.locator('button[data-value="JOB"]').click();
    await page.waitForURL(/kind=JOB/);
    await jobs.locator("[data-testid=job-hit]").first().waitFor();
    assert.equal(await page.locator("[data-testid=hit]").count(), 0, "only jobs");
    await jobs.locator("[data-testid=job-hit] .hit-name").first().click();
    await page.waitForURL(/\/jobs\//);
  });

  test("a tag chip in a result filters by the tag; sort by name", async () => {
    await page.goto(env.base + "/search?q=revenue");
    const first = page.locator("[data-testid=hit]").first();
    await first.getByRole("button", { name: "#tier1" }).click();
    await page.waitForURL(/tags=tier1/);
    await page.getByRole("combobox", { name: "Sort by" }).selectOption("name");
    await page.waitForURL(/sort=name/);
    await page.waitForFunction(() => {
      const names = [...document.querySelectorAll("[data-testid=hit] .hit-name")].map((e) => e.textContent.trim());
      return names.length > 1 && names.every((n, i) => i === 0 || names[i - 1] <= n);
    });
    await shot("search-sorted");
  });
});

describe("dataset tabs", () => {
  test("a view's SQL shows, highlighted and copyable", async () => {
    const id = await datasetId("mysql://billing-db.internal:3306", "billing.active_subscriptions");
    await page.goto(`${env.base}/datasets/${id}`);
    await page.getByRole("tab", { name: "SQL" }).click();
    const sql = page.getByRole("region", { name: "Definition" }).locator("[data-testid=sql]");
    await sql.waitFor();
    assert.match(await sql.textContent(), /SELECT s\.id AS subscription_id/);
    assert.ok((await sql.locator(".tok-keyword").count()) > 3, "keywords are highlighted");
    await page.getByRole("button", { name: /Copy the view SQL/ }).waitFor();
    await shot("dataset-view-sql");
  });

  test("a partitioned table lists its partitions", async () => {
    const id = await datasetId("postgres://shop-db.internal:5432", "shop.public.sessions");
    await page.goto(`${env.base}/datasets/${id}/partitions`);
    const list = page.getByRole("region", { name: "Partitions" });
    await list.getByText("shop.public.sessions_2026_11_30").waitFor();
    await list.getByRole("searchbox", { name: "Filter partitions" }).fill("11_0");
    await list.getByText("9 of 30 partitions").waitFor();
  });

  test("the quality tab's alert line says 'check' once and the age counts from when the data was late", async () => {
    const id = await datasetId("redshift://analytics.us-east-1:5439", "analytics.marts.fct_payments");
    await page.goto(`${env.base}/datasets/${id}/quality`);
    await page.getByRole("heading", { name: "Open alerts and their history" }).waitFor();
    const text = await page.locator(".tab-panel").textContent();
    assert.ok(!/check\s+check/i.test(text), "no 'check check'");
    await page.goto(`${env.base}/alerts`);
    await page.locator("[data-testid=alert]").first().waitFor();
    const late = page.locator("[data-testid=alert]", { hasText: "late data" }).first();
    if (await late.count()) assert.match(await late.locator(".alert-age").textContent(), /late for/);
  });

  test("the Runs tab fits a narrow screen", async () => {
    const narrow = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
    const p = await narrow.newPage();
    // One writer whose runs pass, one whose last run failed with an error.
    for (const [ns, name, shotName] of [
      ["redshift://analytics.us-east-1:5439", "analytics.reporting.daily_revenue", "dataset-runs-narrow"],
      ["s3://acme-exports", "finance/revenue_export.csv", "dataset-runs-narrow-failed"],
    ]) {
      const id = await datasetId(ns, name);
      await p.goto(`${env.base}/datasets/${id}/runs`);
      await p.locator("[data-testid=run-row]").first().waitFor({ timeout: T });
      const { scroll, width } = await p.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
      assert.ok(scroll <= width + 1, `${name}: the page does not scroll sideways (${scroll} > ${width})`);
      // Nor does a runs table inside its box: every column shows.
      for (const wrap of await p.locator(".table-wrap:has(.runs-table)").all()) {
        assert.ok(await wrap.evaluate((el) => el.scrollWidth <= el.clientWidth + 1), `${name}: the runs table fits its box`);
      }
      await shot(shotName, p);
    }
    await narrow.close();
  });
});

describe("GraphiQL, dark mode, focus", () => {
  test("GET /graphql renders GraphiQL with the network blocked", async () => {
    const offline = await env.browser.newContext({ viewport: { width: 1360, height: 900 } });
    const blocked = [];
    await offline.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1") return route.continue();
      blocked.push(url.href);
      return route.abort();
    });
    const p = await offline.newPage();
    const errors = [];
    p.on("pageerror", (e) => errors.push(e.message));
    await p.goto(env.base + "/graphql");
    await p.locator(".graphiql-container").waitFor({ timeout: T });
    await p.locator(".monaco-editor").first().waitFor({ timeout: T });
    await p.getByRole("button", { name: /Execute query/i }).click();
    await p.locator(".result-window, .graphiql-response").getByText('"total"').first().waitFor({ timeout: T });
    assert.deepEqual(blocked, [], "GraphiQL asked nothing of another host");
    assert.deepEqual(errors, []);
    await shot("graphiql", p);
    await offline.close();
  });

  test("dark mode follows prefers-color-scheme: screenshots of every page", async () => {
    const dark = await darkContext(env.browser);
    dark.setDefaultTimeout(T);
    const p = await dark.newPage();
    const daily = await datasetId("redshift://analytics.us-east-1:5439", "analytics.reporting.daily_revenue");
    const view = await datasetId("mysql://billing-db.internal:3306", "billing.active_subscriptions");
    const jobs = await graphql(env.base, '{searchJobs(query:"revenue",first:1){job{id}}}');
    const pages = [
      ["home", "/", "[data-testid=hit]"],
      ["search", "/search?q=revenue", "[data-testid=hit]"],
      ["dataset", `/datasets/${daily}`, ".columns-table"],
      ["dataset-lineage", `/datasets/${daily}/lineage`, ".react-flow__node"],
      ["dataset-quality", `/datasets/${daily}/quality`, "h2"],
      ["dataset-history", `/datasets/${daily}/history`, "h2, .state"],
      ["dataset-runs", `/datasets/${daily}/runs`, "[data-testid=run-row]"],
      ["dataset-view-sql", `/datasets/${view}/sql`, "[data-testid=sql]"],
      ["job", `/jobs/${jobs.searchJobs[0].job.id}`, "h1"],
      ["alerts", "/alerts", "[data-testid=alert]"],
      ["sources", "/sources", "h1"],
      ["graphiql", "/graphql", ".monaco-editor"],
    ];
    for (const [name, path, ready] of pages) {
      await p.goto(env.base + path);
      await p.locator(ready).first().waitFor();
      if (name !== "graphiql") {
        const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor || getComputedStyle(document.documentElement).backgroundColor);
        const rgb = (bg.match(/\d+/g) ?? []).slice(0, 3).map(Number);
        const root = await p.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
        const c = rgb.length === 3 && !bg.startsWith("rgba(0, 0, 0, 0)") ? rgb : (root.match(/\d+/g) ?? []).slice(0, 3).map(Number);
        assert.ok(c.length === 3 && c.every((v) => v < 60), `${name} is dark (${bg} / ${root})`);
      }
      await shotDark(p, name);
    }
    await dark.close();
  });

  test("keyboard focus is visible", async () => {
    await page.goto(env.base + "/search?q=revenue");
    await page.locator("[data-testid=hit]").first().waitFor();
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press("Tab");
      const style = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const s = getComputedStyle(el);
        return { tag: el.tagName, outline: s.outlineStyle, width: parseFloat(s.outlineWidth), shadow: s.boxShadow };
      });
      assert.ok(style, "Tab moves the focus to an element");
      assert.ok((style.outline !== "none" && style.width >= 2) || style.shadow !== "none", `focus on a ${style.tag} is visible: ${JSON.stringify(style)}`);
    }
    await shot("focus-visible");
  });

  test("no page threw", () => {
    assert.deepEqual(pageErrors, []);
  });
});
