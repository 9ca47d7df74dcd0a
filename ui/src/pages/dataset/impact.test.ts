import { describe, expect, test } from "vitest";
import { csvField, filterRows, rowsOf, sortRows, toCSV, viaOf, type ImpactRow } from "./impact";
import { column, dataset, edge, job } from "./lineage/testgraph";

const row = (over: Partial<ImpactRow>): ImpactRow => ({
  id: "x",
  distance: 1,
  name: "db.x",
  namespace: "pg://db",
  kind: "TABLE",
  columns: [],
  owners: [],
  freshness: "FRESH",
  checks: "PASS",
  lastUpdatedAt: null,
  via: [],
  ...over,
});

describe("viaOf", () => {
  test("at table level is the job node into each dataset, or the view's definition", () => {
    const g = {
      truncated: false,
      nodes: [dataset("a", "db.a"), job("j", "etl.b"), dataset("b", "db.b"), dataset("v", "db.v")],
      edges: [edge("a", "j"), edge("j", "b"), edge("b", "v", { origin: "CATALOG" })],
    };
    expect(Object.fromEntries(viaOf(g))).toEqual({ b: ["etl.b"], v: ["view definition"] });
  });
  test("at column level is the jobs of the column edges into the dataset, once", () => {
    const etl = { id: "j", namespace: "airflow://etl", name: "etl.rev" };
    const g = {
      truncated: false,
      nodes: [column("o", "db.o", "k"), column("r", "db.r", "n"), column("r", "db.r", "m")],
      edges: [edge("o/k", "r/n", { job: etl }), edge("o/k", "r/m", { job: etl })],
    };
    expect(Object.fromEntries(viaOf(g))).toEqual({ r: ["etl.rev"] });
  });
  test("is empty without a graph", () => {
    expect(viaOf(undefined).size).toBe(0);
  });
});

test("rowsOf reads the hits and their jobs", () => {
  const hit = {
    distance: 2,
    columns: ["n"],
    dataset: { id: "r", namespace: "pg://db", name: "db.r", kind: "VIEW" as const, owners: ["ann"], tags: [], removedAt: null, lastUpdatedAt: "2026-01-02T03:04:05Z", freshness: { status: "WARN" as const }, health: { status: null } },
  };
  expect(rowsOf([hit], new Map([["r", ["etl.rev"]]]))).toEqual([
    { id: "r", distance: 2, name: "db.r", namespace: "pg://db", kind: "VIEW", columns: ["n"], owners: ["ann"], freshness: "WARN", checks: "", lastUpdatedAt: "2026-01-02T03:04:05Z", via: ["etl.rev"] },
  ]);
});

describe("sortRows", () => {
  const rows = [row({ id: "1", name: "b", distance: 2, owners: ["zed"] }), row({ id: "2", name: "c", distance: 1, owners: ["amy"] }), row({ id: "3", name: "a", distance: 2, owners: ["amy"] })];
  test("by distance, then name", () => {
    expect(sortRows(rows, { key: "distance", desc: false }).map((r) => r.id)).toEqual(["2", "3", "1"]);
    expect(sortRows(rows, { key: "distance", desc: true }).map((r) => r.id)).toEqual(["3", "1", "2"]);
  });
  test("by a text column, equal keys nearest first", () => {
    expect(sortRows(rows, { key: "name", desc: false }).map((r) => r.name)).toEqual(["a", "b", "c"]);
    expect(sortRows(rows, { key: "owners", desc: false }).map((r) => r.id)).toEqual(["2", "3", "1"]);
  });
  test("leaves its input alone", () => {
    sortRows(rows, { key: "name", desc: true });
    expect(rows.map((r) => r.id)).toEqual(["1", "2", "3"]);
  });
});

test("filterRows needs every word somewhere in the row", () => {
  const rows = [row({ id: "1", name: "db.daily_revenue", owners: ["team:finance"] }), row({ id: "2", name: "db.orders", via: ["etl.orders"] })];
  expect(filterRows(rows, "").map((r) => r.id)).toEqual(["1", "2"]);
  expect(filterRows(rows, "FINANCE revenue").map((r) => r.id)).toEqual(["1"]);
  expect(filterRows(rows, "etl.orders").map((r) => r.id)).toEqual(["2"]);
  expect(filterRows(rows, "finance orders")).toEqual([]);
});

describe("CSV", () => {
  test("quotes commas, quotes and line breaks, and defuses formulas", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvField("-1")).toBe("'-1");
  });
  test("writes a header and a row a dataset, lists joined by '; ', CRLF", () => {
    const csv = toCSV([row({ name: "db.r", columns: ["n", "m"], owners: ["ann", "team:x, y"], via: ["etl.rev"], lastUpdatedAt: "2026-01-02T03:04:05Z", checks: "" })]);
    expect(csv).toBe(
      "distance,namespace,name,kind,columns,owners,freshness,checks,last_updated_at,via_jobs\r\n" +
        '1,pg://db,db.r,TABLE,n; m,"ann; team:x, y",FRESH,,2026-01-02T03:04:05Z,etl.rev\r\n',
    );
  });
  test("of no rows is the header alone", () => {
    expect(toCSV([])).toBe("distance,namespace,name,kind,columns,owners,freshness,checks,last_updated_at,via_jobs\r\n");
  });
});
