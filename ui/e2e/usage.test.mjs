// End-to-end tests of usage and popularity (issue 21): the front page lists
// the most used and the recently changed datasets, a search hit shows its
// popularity, "Most used" sorts by it, and a dataset's Usage tab shows its
// reads per day, top users and copyable top queries (the demo records two
// weeks of use).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { graphql, openPage, screenshot } from "./harness.mjs";

const T = 15_000;
let env;
let page;
let pageErrors = [];
let close;

before(async () => {
  ({ env, page, pageErrors, close } = await openPage({ width: 1360, height: 900, timeout: T }));
});

after(async () => {
  await close?.();
});

describe("usage", () => {
  test("the front page lists the most used and the recently changed datasets", async () => {
    await page.goto(`${env.base}/`);
    const used = page.getByRole("region", { name: "Most used" });
    await used.getByRole("link").first().waitFor();
    assert.equal(await used.getByRole("link").first().textContent(), "shop.public.orders");
    assert.match(await used.getByTestId("popularity").first().textContent(), /most used/);
    const recent = page.getByRole("region", { name: "Recently changed" });
    assert.ok((await recent.getByRole("link").count()) > 0, "recently changed datasets are listed");
    await screenshot(page, "usage-home");
  });

  test("a search hit shows its popularity, and Most used sorts by it", async () => {
    await page.goto(`${env.base}/search?q=users`);
    await page.getByTestId("hit").first().waitFor();
    const hit = page.getByTestId("hit").filter({ has: page.getByRole("link", { name: "shop.public.users", exact: true }) });
    assert.match(await hit.getByTestId("popularity").textContent(), /used · top \d+%/);
    await page.getByLabel("Sort by").selectOption("popular");
    await page.waitForURL(/sort=popular/);
    // The most used hit first, then by use: "most used", then "top N%"
    // growing, then the unused (no badge).
    await page.getByTestId("hit").first().getByTestId("popularity").filter({ hasText: "most used" }).waitFor({ timeout: T });
    const tops = await page.getByTestId("hit").evaluateAll((hits) =>
      hits.map((h) => {
        const badge = h.querySelector('[data-testid="popularity"]');
        if (!badge) return 101;
        const m = badge.textContent.match(/top (\d+)%/);
        return m ? Number(m[1]) : 0;
      }),
    );
    assert.ok(tops.length > 2, "several hits");
    assert.deepEqual(tops, [...tops].sort((a, b) => a - b), "hits in order of use");
  });

  test("the Usage tab shows reads per day, top users and copyable queries", async () => {
    const d = await graphql(env.base, "query($n:String,$m:String){dataset(namespace:$n,name:$m){id}}", {
      n: "postgres://shop-db.internal:5432",
      m: "shop.public.orders",
    });
    await page.goto(`${env.base}/datasets/${d.dataset.id}/usage`);
    await page.getByRole("tab", { name: "Usage", selected: true }).waitFor();
    await page.getByTestId("usage-reads").waitFor();
    assert.ok(Number((await page.getByTestId("usage-reads").textContent()).replace(/\D/g, "")) > 0, "reads are counted");
    const bars = await page.locator(".usage-bar").evaluateAll((els) => els.filter((e) => Number(e.getAttribute("data-reads")) > 0).length);
    assert.equal(bars, 14, "two weeks of reads are drawn");
    const users = await page.getByTestId("usage-user").allTextContents();
    assert.equal(users.length, 4);
    assert.match(users[0], /^ana/);
    const query = page.getByTestId("usage-query").first();
    assert.match(await query.textContent(), /SELECT id, status, total_cents FROM orders/);
    assert.ok(await query.getByRole("button", { name: /copy/i }).count(), "a query can be copied");
    await screenshot(page, "usage-tab");
  });

  test("a dataset no crawl reads says why it has no usage", async () => {
    const d = await graphql(env.base, "query($n:String,$m:String){dataset(namespace:$n,name:$m){id}}", {
      n: "redshift://analytics.us-east-1:5439",
      m: "analytics.marts.fct_orders",
    });
    await page.goto(`${env.base}/datasets/${d.dataset.id}/usage`);
    await page.getByTestId("usage-unavailable").waitFor();
    assert.match(await page.getByTestId("usage-unavailable").textContent(), /no crawl has read/);
    assert.deepEqual(pageErrors, []);
  });
});
