import { describe, expect, test } from "vitest";
import type { Node } from "@xyflow/react";
import { DATASET_H, DATASET_W, MIN_HEIGHT, MIN_READABLE_ZOOM, ROW_H, layout, viewportFor, type ColumnEdgeData, type DatasetData } from "./layout";
import { columnGraph, dataset, edge, job, tableGraph } from "./testgraph";

const byId = (nodes: Node[]) => new Map(nodes.map((n) => [n.id, n]));

describe("layout at table level", () => {
  const { nodes, edges } = layout(tableGraph(), "rev", false);
  const n = byId(nodes);

  test("places upstream left of the job, the job left of what it writes", () => {
    const x = (id: string) => n.get(id)!.position.x;
    expect(x("orders")).toBeLessThan(x("etl"));
    expect(x("payments")).toBeLessThan(x("etl"));
    expect(x("etl")).toBeLessThan(x("rev"));
    expect(x("rev")).toBeLessThan(x("view"));
  });

  test("makes datasets and jobs cards of their own types and sizes", () => {
    expect(n.get("etl")!.type).toBe("job");
    expect(n.get("rev")).toMatchObject({ type: "dataset", width: DATASET_W, height: DATASET_H });
    expect((n.get("rev")!.data as DatasetData).current).toBe(true);
    expect((n.get("orders")!.data as DatasetData).current).toBe(false);
    expect(n.get("rev")!.data).toMatchObject({ href: "/datasets/rev/lineage", columns: [] });
  });

  test("marks a card expandable when the graph shows fewer of its edges than it has", () => {
    expect((n.get("orders")!.data as DatasetData).expandable).toBe(true); // degree 2, one edge shown
    expect((n.get("payments")!.data as DatasetData).expandable).toBe(false);
    expect((n.get("rev")!.data as DatasetData).expandable).toBe(false);
  });

  test("draws every edge between the cards' handles, classed by origin", () => {
    expect(edges.map((e) => [e.source, e.target])).toEqual([
      ["orders", "etl"],
      ["payments", "etl"],
      ["etl", "rev"],
      ["rev", "view"],
    ]);
    expect(edges[0]).toMatchObject({ sourceHandle: "out", targetHandle: "in", className: "edge-run" });
    expect(edges[3].className).toBe("edge-catalog");
  });
});

describe("layout at column level", () => {
  const { nodes, edges } = layout(columnGraph(), "rev", true);

  test("makes a card per dataset, as tall as its columns, with them sorted", () => {
    expect(nodes.map((n) => n.id).sort()).toEqual(["orders", "rev"]);
    const rev = byId(nodes).get("rev")!;
    expect(rev.height).toBe(DATASET_H + 3 * ROW_H);
    expect((rev.data as DatasetData).columns).toEqual(["day", "gross", "net"]);
    expect((rev.data as DatasetData).expandable).toBe(false);
  });

  test("joins column handles and says what each edge maps", () => {
    const e = edges.find((e) => e.targetHandle === "c:gross:in")!;
    expect(e).toMatchObject({ source: "orders", target: "rev", sourceHandle: "c:amount:out", type: "column" });
    expect((e.data as ColumnEdgeData).title).toBe("orders.amount → revenue.gross (direct/aggregation), by job etl.revenue (airflow://etl)");
  });

  test("labels only the middle edge of those a job draws into a card", () => {
    const labelled = edges.filter((e) => (e.data as ColumnEdgeData).job);
    expect(labelled).toHaveLength(1);
    expect(labelled[0].targetHandle).toBe("c:gross:in"); // rows day, gross, net: gross is the middle
    expect((labelled[0].data as ColumnEdgeData).job).toEqual({ label: "revenue", title: "Job etl.revenue (airflow://etl)", href: "/jobs/etl" });
  });
});

describe("viewportFor", () => {
  const box = (id: string, x: number, y: number, width = 100, height = 50): Node => ({ id, position: { x, y }, width, height, data: {} });

  test("a small graph fits at zoom 1, centred in a box of the minimum height", () => {
    const v = viewportFor([box("a", 0, 0), box("b", 200, 0)], "a", 1000, 800);
    expect(v.zoom).toBe(1);
    expect(v.fits).toBe(true);
    expect(v.height).toBe(MIN_HEIGHT);
    // 300 wide in 1000: 350 free on each side.
    expect(v.x).toBe(350);
  });

  test("a wider graph is zoomed out to fit, flush with the padding", () => {
    // 1200 wide in 1000 less 2 × 20 of padding.
    const v = viewportFor([box("a", 0, 0), box("b", 1100, 0)], "b", 1000, 800);
    expect(v.zoom).toBeCloseTo(960 / 1200);
    expect(v.fits).toBe(true);
    expect(v.x).toBeCloseTo(20);
  });

  test("a graph too big to read whole is shown at the readable zoom around the current node", () => {
    const nodes = [box("a", 0, 0), box("cur", 2000, 0), box("c", 4000, 0)];
    const v = viewportFor(nodes, "cur", 1000, 800);
    expect(v.zoom).toBe(MIN_READABLE_ZOOM);
    expect(v.fits).toBe(false);
    // The current node's centre is the box's centre.
    expect(v.x + 2050 * v.zoom).toBeCloseTo(500);
  });

  test("the box grows with the graph up to maxHeight", () => {
    const tall = Array.from({ length: 20 }, (_, i) => box(`n${i}`, 0, i * 60));
    const v = viewportFor(tall, "n0", 1000, 700);
    expect(v.height).toBe(700);
    // The top is not pushed below the box's top padding.
    expect(v.y).toBeLessThanOrEqual(20);
  });

  test("a depth-4 graph both ways (17 layers of cards) fits a laptop's window whole", () => {
    // Four datasets and four jobs each way around the current one, at the
    // sizes layout gives them.
    const ids = Array.from({ length: 17 }, (_, i) => `n${i}`);
    const graph = {
      truncated: false,
      nodes: ids.map((id, i) => (i % 2 ? job(id, `job.${id}`) : dataset(id, `db.s.${id}`))),
      edges: ids.slice(1).map((id, i) => edge(ids[i], id)),
    };
    const { nodes } = layout(graph, "n8", false);
    const v = viewportFor(nodes, "n8", 1300, 700);
    expect(v.fits).toBe(true);
    for (const n of nodes) {
      expect(v.x + n.position.x * v.zoom).toBeGreaterThanOrEqual(0);
      expect(v.x + (n.position.x + n.width!) * v.zoom).toBeLessThanOrEqual(1300);
      expect(v.y + n.position.y * v.zoom).toBeGreaterThanOrEqual(0);
      expect(v.y + (n.position.y + n.height!) * v.zoom).toBeLessThanOrEqual(v.height);
    }
  });
});
