import { describe, expect, test } from "vitest";
import { columnPath, countCards, edgeId, endpoint, merge, neighbours, shortName, withTableNeighbours } from "./graph";
import { column, columnGraph, dataset, edge, job, tableGraph } from "./testgraph";

describe("merge", () => {
  test("keeps each node and edge once and the first answer's node", () => {
    const base = tableGraph();
    const expanded = {
      truncated: false,
      nodes: [{ ...dataset("orders", "renamed"), degree: 9 }, dataset("src", "db.src.orders"), job("load", "load.orders")],
      edges: [edge("src", "load"), edge("load", "orders"), edge("orders", "etl")],
    };
    const g = merge([base, expanded]);
    expect(g.nodes.map((n) => n.id)).toEqual(["orders", "payments", "etl", "rev", "view", "src", "load"]);
    expect(g.nodes[0].name).toBe("db.raw.orders");
    expect(g.edges).toHaveLength(base.edges.length + 2);
    expect(g.truncated).toBe(false);
  });

  test("an edge drawn by two jobs is two edges", () => {
    const a = { truncated: false, nodes: [], edges: [edge("x", "y", { job: { id: "j1", namespace: "", name: "j1" } })] };
    const b = { truncated: false, nodes: [], edges: [edge("x", "y", { job: { id: "j2", namespace: "", name: "j2" } }), edge("x", "y", { job: { id: "j1", namespace: "", name: "j1" } })] };
    expect(merge([a, b]).edges).toHaveLength(2);
  });

  test("is truncated if any answer is", () => {
    expect(merge([tableGraph(), { ...tableGraph(), truncated: true }]).truncated).toBe(true);
    expect(merge([]).nodes).toEqual([]);
  });
});

describe("endpoint", () => {
  const g = columnGraph();
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  test("a column is its dataset's card and a handle", () => {
    expect(endpoint("orders/amount", byId)).toEqual({ node: "orders", handle: "c:amount" });
  });
  test("a column the answer has no node for is read from its id", () => {
    expect(endpoint("other/x/y", byId)).toEqual({ node: "other", handle: "c:x/y" });
  });
  test("a dataset or job is its own card", () => {
    expect(endpoint("etl", new Map(tableGraph().nodes.map((n) => [n.id, n])))).toEqual({ node: "etl" });
  });
});

test("countCards counts a dataset's columns once", () => {
  expect(countCards(tableGraph())).toBe(5);
  expect(countCards(columnGraph())).toBe(2);
});

test("shortName drops the schema or the directory", () => {
  expect(shortName("db.marts.revenue")).toBe("revenue");
  expect(shortName("finance/revenue_export.csv")).toBe("revenue_export.csv");
  expect(shortName("plain")).toBe("plain");
  expect(shortName("dir/")).toBe("dir/");
  // dbt-ol's job names.
  expect(shortName("postgres.public.jaffle_shop.customers")).toBe("customers");
  expect(shortName("dbt.main_marts.shop.orders.build.run")).toBe("orders");
  expect(shortName("dbt.main_marts.shop.customers.v2.build.run")).toBe("customers.v2");
});

describe("neighbours", () => {
  test("follow one hop through the job between", () => {
    const { up, down } = neighbours(tableGraph(), "rev");
    expect(up).toEqual([
      { id: "orders", name: "db.raw.orders" },
      { id: "payments", name: "db.raw.payments" },
    ]);
    expect(down).toEqual([{ id: "view", name: "db.marts.revenue_v" }]);
  });
  test("at column level are the datasets of the columns", () => {
    const { up, down } = neighbours(columnGraph(), "rev");
    expect(up).toEqual([{ id: "orders", name: "db.raw.orders" }]);
    expect(down).toEqual([]);
  });
  test("never include the dataset itself", () => {
    const g = { truncated: false, nodes: [dataset("a", "a"), job("j", "j")], edges: [edge("a", "j"), edge("j", "a")] };
    expect(neighbours(g, "a")).toEqual({ up: [], down: [] });
  });
});

describe("withTableNeighbours", () => {
  // rev's columns come from orders; a job also exports rev to a CSV file
  // without column lineage.
  const table = () => ({
    ...tableGraph(),
    nodes: [...tableGraph().nodes, job("exp", "export.csv"), dataset("csv", "finance/export.csv")],
    edges: [...tableGraph().edges, edge("rev", "exp"), edge("exp", "csv")],
  });

  test("adds the datasets the columns cannot show, with the job between", () => {
    const g = withTableNeighbours(columnGraph(), table());
    const ids = g.nodes.map((n) => n.id);
    expect(ids).toContain("csv");
    expect(ids).toContain("exp");
    expect(ids).toContain("payments"); // reaches etl, but no column edge of it
    expect(ids).toContain("view"); // read by a view without column lineage
    expect(ids).not.toContain("orders"); // its columns show it
    expect(g.edges.map((e) => `${e.from}>${e.to}`)).toEqual(expect.arrayContaining(["rev>exp", "exp>csv", "rev>view", "payments>etl", "etl>rev"]));
    expect(g.edges.map((e) => `${e.from}>${e.to}`)).not.toContain("orders>etl");
    expect(neighbours(g, "rev").down.map((n) => n.id).sort()).toEqual(["csv", "view"]);
  });

  test("keeps the column answer as it is when nothing is missing or no table answer came", () => {
    const cols = columnGraph();
    expect(withTableNeighbours(cols, undefined)).toBe(cols);
    const same = { truncated: false, nodes: [dataset("orders", "db.raw.orders"), job("etl", "etl"), dataset("rev", "db.marts.revenue")], edges: [edge("orders", "etl"), edge("etl", "rev")] };
    expect(withTableNeighbours(cols, same)).toBe(cols);
  });

  test("is truncated if the table answer was", () => {
    expect(withTableNeighbours(columnGraph(), { ...table(), truncated: true }).truncated).toBe(true);
  });
});

describe("columnPath", () => {
  // a.x -> b.y -> c.z, and a.w -> b.v beside it.
  const g = {
    truncated: false,
    nodes: [column("a", "a", "x"), column("b", "b", "y"), column("c", "c", "z"), column("a", "a", "w"), column("b", "b", "v")],
    edges: [edge("a/x", "b/y"), edge("b/y", "c/z"), edge("a/w", "b/v")],
  };
  test("lights every column upstream and downstream, and the edges between", () => {
    const p = columnPath(g, "b/y");
    expect([...p.nodes].sort()).toEqual(["a/x", "b/y", "c/z"]);
    expect([...p.edges].sort()).toEqual([edgeId(g.edges[0]), edgeId(g.edges[1])].sort());
  });
  test("of a column without edges is the column alone", () => {
    expect(columnPath(g, "c/q")).toEqual({ nodes: new Set(["c/q"]), edges: new Set() });
  });
  test("ends on a cycle", () => {
    const cyc = { truncated: false, nodes: [], edges: [edge("a/x", "b/y"), edge("b/y", "a/x")] };
    expect([...columnPath(cyc, "a/x").nodes].sort()).toEqual(["a/x", "b/y"]);
  });
});
