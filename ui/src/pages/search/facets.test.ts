import { describe, expect, test } from "vitest";
import { FACET_STEP, JOB, bucketLabel, facetFields, filterFrom, orderFacets, sortBuckets, sortFrom, sourceNames, toggle, visibleBuckets, wants } from "./facets";

const b = (value: string, count = 1) => ({ value, count });

describe("orderFacets", () => {
  test("shows the known facets in the page's order, whatever the API's", () => {
    const facets = [
      { field: "owners", buckets: [b("ann")] },
      { field: "colour", buckets: [b("red")] },
      { field: "kind", buckets: [b("TABLE")] },
      { field: "health", buckets: [b("FAIL")] },
    ];
    expect(orderFacets(facets).map((f) => f.field)).toEqual(["kind", "health", "owners"]);
    // The API's answer is not reordered in place (it is cached).
    expect(facets.map((f) => f.field)).toEqual(["owners", "colour", "kind", "health"]);
  });

  test("sorts status buckets best first and keeps the others by count", () => {
    const [freshness, tags] = orderFacets([
      { field: "tags", buckets: [b("pii", 9), b("tier1", 3), b("", 2)] },
      { field: "freshness", buckets: [b("ERROR", 9), b("FRESH", 5), b("WARN", 1)] },
    ]);
    expect([freshness.field, tags.field]).toEqual(["freshness", "tags"]);
    expect(freshness.buckets.map((x) => x.value)).toEqual(["FRESH", "WARN", "ERROR"]);
    expect(tags.buckets.map((x) => x.value)).toEqual(["pii", "tier1"]);
  });

  test("drops a facet whose only bucket is the empty value", () => {
    expect(orderFacets([{ field: "schema", buckets: [b("")] }])).toEqual([]);
  });
});

test("sortBuckets puts checks in pass, warn, fail, error order", () => {
  expect(sortBuckets("health", [b("ERROR"), b("PASS"), b("FAIL"), b("WARN")]).map((x) => x.value)).toEqual(["PASS", "WARN", "FAIL", "ERROR"]);
});

describe("filterFrom", () => {
  test("reads every facet field with all its values", () => {
    const p = new URLSearchParams("q=x&kind=VIEW&kind=TABLE&tags=pii&freshness=ERROR&health=FAIL&namespace=pg&database=db&schema=s&owners=ann");
    expect(filterFrom(p)).toEqual({
      kind: ["VIEW", "TABLE"],
      freshness: ["ERROR"],
      health: ["FAIL"],
      tags: ["pii"],
      owners: ["ann"],
      namespace: ["pg"],
      database: ["db"],
      schema: ["s"],
    });
  });

  test("drops status values the API would reject", () => {
    expect(filterFrom(new URLSearchParams("freshness=STALE&health=PASS&health=BAD"))).toEqual({ health: ["PASS"] });
  });

  test("is empty without facet parameters", () => {
    expect(filterFrom(new URLSearchParams("q=orders&after=20"))).toEqual({});
  });
});

describe("toggle", () => {
  test("adds a value, keeps the others and goes back to the first page", () => {
    const next = toggle(new URLSearchParams("q=x&kind=VIEW&after=20"), "kind", "TABLE");
    expect(next.getAll("kind")).toEqual(["VIEW", "TABLE"]);
    expect(next.get("after")).toBeNull();
    expect(next.get("q")).toBe("x");
  });

  test("removes a value that is on", () => {
    expect(toggle(new URLSearchParams("kind=VIEW&kind=TABLE"), "kind", "VIEW").toString()).toBe("kind=TABLE");
  });
});

test("bucketLabel words kinds and statuses and leaves other values", () => {
  expect(bucketLabel("kind", "MATERIALIZED_VIEW")).toBe("materialized view");
  expect(bucketLabel("freshness", "ERROR")).toBe("very late (error)");
  expect(bucketLabel("tags", "PII")).toBe("PII");
  expect(facetFields[0]).toBe("kind");
});

describe("visibleBuckets", () => {
  const buckets = Array.from({ length: 15 }, (_, i) => b(`tag${i + 1}`));
  test("shows the first ones, then more a step at a time", () => {
    expect(visibleBuckets(buckets, FACET_STEP, []).map((x) => x.value)).toEqual(["tag1", "tag2", "tag3", "tag4", "tag5", "tag6"]);
    expect(visibleBuckets(buckets, 3 * FACET_STEP, [])).toHaveLength(15);
  });
  test("never hides a selected value", () => {
    expect(visibleBuckets(buckets, 2, ["tag14"]).map((x) => x.value)).toEqual(["tag1", "tag2", "tag14"]);
  });
});

describe("sources and jobs", () => {
  test("the Source facet says the source's name where one is known", () => {
    const names = sourceNames([
      { namespace: "postgres://wh:5432", source: "warehouse" },
      { namespace: "s3://other", source: null },
    ]);
    expect(bucketLabel("namespace", "postgres://wh:5432", names)).toBe("warehouse");
    expect(bucketLabel("namespace", "s3://other", names)).toBe("other (s3)");
    expect(bucketLabel("namespace", "kafka://events.internal:9092")).toBe("events.internal:9092 (kafka)");
  });
  test("JOB is the Kind facet's job bucket, never sent as a dataset kind", () => {
    const p = new URLSearchParams("kind=JOB&kind=VIEW");
    expect(filterFrom(p).kind).toEqual(["VIEW"]);
    expect(wants(p)).toEqual({ datasets: true, jobs: true });
    expect(wants(new URLSearchParams("kind=JOB"))).toEqual({ datasets: false, jobs: true });
    expect(wants(new URLSearchParams("kind=TABLE"))).toEqual({ datasets: true, jobs: false });
    expect(bucketLabel("kind", JOB)).toBe("job");
  });
  test("an unknown sort is relevance", () => {
    expect(sortFrom(new URLSearchParams("sort=name"))).toBe("name");
    expect(sortFrom(new URLSearchParams("sort=size"))).toBe("relevance");
  });
});
