// Where the lineage graph's cards and edges go: dagre lays the cards out in
// layers, upstream on the left, and viewportFor picks the zoom and position
// of the first view. Pure functions of the graph (layout.test.ts); the
// components that draw the result are in nodes.tsx and Flow.tsx.
import type { Edge, Node } from "@xyflow/react";
import dagre from "@dagrejs/dagre";
import { edgeId, endpoint, shortName, type Endpoint, type G, type LNode } from "./graph";

// A dataset's card. expandable: the graph shows fewer of its edges than it
// has (degree), so expanding it adds some.
export type DatasetData = {
  label: string;
  namespace: string;
  current: boolean;
  removed: boolean;
  expandable: boolean;
  columns: string[];
  href: string;
};
export type JobData = { label: string; namespace: string; href: string };
// A column-level edge: what it maps, and on the middle one of the edges a job
// draws into a card, that job.
export type ColumnEdgeData = { title: string; job?: { label: string; title: string; href: string }; row: number };

// Compact cards and gaps, so that a few hops fit the window at a zoom whose
// text can be read; column level leaves room between the cards for job labels.
export const DATASET_W = 200;
export const DATASET_H = 54;
export const JOB_W = 124;
export const JOB_H = 30;
export const ROW_H = 22;
export const RANK_GAP = 34;
export const RANK_GAP_COLUMNS = 150;
// The zoom a graph may be shrunk to so that all of it is in view (a depth-4
// graph both ways, 17 layers, in a laptop's window); past it, the graph is
// shown at this zoom and the overview map appears under the box.
export const MIN_READABLE_ZOOM = 0.35;
export const MAX_ZOOM = 1;
const PAD = 20;
// Room below the graph for the zoom buttons.
const PAD_BOTTOM = 44;
export const MIN_HEIGHT = 300;

type Card = { kind: "DATASET" | "JOB"; name: string; namespace: string; removed: boolean; degree: number; columns: Set<string> };

// layout turns the graph into React Flow's nodes (cards: datasets, with their
// columns at column level, and jobs) and edges, placed by dagre. At column
// level jobs are not cards: the edges name them.
export function layout(graph: G, currentId: string, columnLevel: boolean): { nodes: Node[]; edges: Edge[] } {
  const byId = new Map<string, LNode>(graph.nodes.map((n) => [n.id, n]));
  const cards = new Map<string, Card>();
  for (const n of graph.nodes) {
    const key = n.kind === "COLUMN" ? (n.datasetId ?? n.id) : n.id;
    const c = cards.get(key) ?? {
      kind: n.kind === "JOB" ? "JOB" : "DATASET",
      name: n.name,
      namespace: n.namespace,
      removed: n.removed,
      degree: 0,
      columns: new Set<string>(),
    };
    if (n.kind === "COLUMN" && n.column) c.columns.add(n.column);
    if (n.kind !== "COLUMN") c.degree = n.degree;
    cards.set(key, c);
  }
  const seen = new Map<string, number>();
  const flowEdges: Edge[] = [];
  const bundles = new Map<string, Edge<ColumnEdgeData>[]>();
  for (const e of graph.edges) {
    const from = endpoint(e.from, byId);
    const to = endpoint(e.to, byId);
    for (const ep of [from, to]) {
      if (!cards.has(ep.node)) cards.set(ep.node, { kind: "DATASET", name: ep.node, namespace: "", removed: false, degree: 0, columns: new Set() });
      if (ep.handle) cards.get(ep.node)!.columns.add(ep.handle.slice(2));
    }
    const indirect = e.transformation?.startsWith("INDIRECT");
    const edge: Edge = {
      id: edgeId(e),
      source: from.node,
      target: to.node,
      sourceHandle: from.handle ? `${from.handle}:out` : "out",
      targetHandle: to.handle ? `${to.handle}:in` : "in",
      className: `edge-${e.origin.toLowerCase()}${indirect ? " edge-indirect" : ""}`,
    };
    // A table-level edge at column level (a neighbour without column
    // lineage, withTableNeighbours) is drawn as at table level.
    if (columnLevel && (from.handle || to.handle)) {
      const what = `${columnOf(from, cards)} → ${columnOf(to, cards)}`;
      const how = e.transformation ? ` (${e.transformation.toLowerCase()})` : "";
      const by = e.job ? `by job ${e.job.name} (${e.job.namespace})` : e.origin === "CATALOG" ? "from the view's definition" : "declared by hand";
      const row = to.handle ? [...cards.get(to.node)!.columns].sort().indexOf(to.handle.slice(2)) : -1;
      const ce = { ...edge, type: "column", data: { title: `${what}${how}, ${by}`, row } } satisfies Edge<ColumnEdgeData>;
      if (e.job) {
        const key = `${to.node}>${e.job.id}`;
        bundles.set(key, [...(bundles.get(key) ?? []), ce]);
      }
      flowEdges.push(ce);
    } else {
      flowEdges.push(edge);
    }
    seen.set(from.node, (seen.get(from.node) ?? 0) + 1);
    seen.set(to.node, (seen.get(to.node) ?? 0) + 1);
  }

  // One label per job and card it writes, on its middle edge into the card.
  for (const [key, es] of bundles) {
    const job = graph.edges.find((e) => e.job && key.endsWith(`>${e.job.id}`))!.job!;
    es.sort((a, b) => a.data!.row - b.data!.row);
    const mid = es[Math.floor((es.length - 1) / 2)];
    mid.data = { ...mid.data!, job: { label: shortName(job.name), title: `Job ${job.name} (${job.namespace})`, href: `/jobs/${job.id}` } };
  }

  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: columnLevel ? RANK_GAP_COLUMNS : RANK_GAP, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  const sizes = new Map<string, [number, number]>();
  for (const [id, c] of cards) {
    const size: [number, number] =
      c.kind === "JOB" ? [JOB_W, JOB_H] : columnLevel ? [DATASET_W, DATASET_H + c.columns.size * ROW_H] : [DATASET_W, DATASET_H];
    sizes.set(id, size);
    g.setNode(id, { width: size[0], height: size[1] });
  }
  for (const e of flowEdges) g.setEdge(e.source, e.target);
  dagre.layout(g);

  const nodes: Node[] = [];
  for (const [id, c] of cards) {
    const p = g.node(id);
    const [w, h] = sizes.get(id)!;
    const position = { x: p.x - w / 2, y: p.y - h / 2 };
    if (c.kind === "JOB") {
      nodes.push({ id, type: "job", position, data: { label: c.name, namespace: c.namespace, href: `/jobs/${id}` } satisfies JobData, width: w, height: h });
    } else {
      nodes.push({
        id,
        type: "dataset",
        position,
        width: w,
        height: h,
        data: {
          label: c.name,
          namespace: c.namespace,
          current: id === currentId,
          removed: c.removed,
          expandable: !columnLevel && c.degree > (seen.get(id) ?? 0),
          columns: columnLevel ? [...c.columns].sort() : [],
          href: `/datasets/${id}/lineage`,
        } satisfies DatasetData,
      });
    }
  }
  return { nodes, edges: flowEdges };
}

// columnOf names an endpoint for a tooltip: "table.column", or the table.
function columnOf(ep: Endpoint, cards: Map<string, { name: string }>) {
  const name = shortName(cards.get(ep.node)?.name ?? ep.node);
  return ep.handle ? `${name}.${ep.handle.slice(2)}` : name;
}

export type Viewport = { x: number; y: number; zoom: number; height: number; fits: boolean };

// viewportFor places laid-out nodes in a box width wide and at most maxHeight
// tall: the zoom that fits them all, but never below MIN_READABLE_ZOOM, then
// centred on the current node and moved so that no side of the graph leaves
// empty space it could fill. fits: the whole graph is in view.
export function viewportFor(nodes: Node[], currentId: string, width: number, maxHeight: number): Viewport {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const n of nodes) {
    minX = Math.min(minX, n.position.x);
    minY = Math.min(minY, n.position.y);
    maxX = Math.max(maxX, n.position.x + (n.width ?? 0));
    maxY = Math.max(maxY, n.position.y + (n.height ?? 0));
  }
  const fit = Math.min(MAX_ZOOM, (width - 2 * PAD) / (maxX - minX), (maxHeight - PAD - PAD_BOTTOM) / (maxY - minY));
  const zoom = Math.max(fit, MIN_READABLE_ZOOM);
  const height = Math.min(maxHeight, Math.max(MIN_HEIGHT, Math.ceil((maxY - minY) * zoom + PAD + PAD_BOTTOM)));
  const cur = nodes.find((n) => n.id === currentId);
  const cx = cur ? cur.position.x + (cur.width ?? 0) / 2 : (minX + maxX) / 2;
  const cy = cur ? cur.position.y + (cur.height ?? 0) / 2 : (minY + maxY) / 2;
  // Between lo and hi every side is in view or beyond it; when lo > hi the
  // graph is smaller than the box and is centred.
  const place = (size: number, c: number, lo0: number, hi0: number, padEnd: number) => {
    const lo = size - padEnd - hi0 * zoom;
    const hi = PAD - lo0 * zoom;
    return lo >= hi ? (lo + hi) / 2 : Math.min(hi, Math.max(lo, size / 2 - c * zoom));
  };
  return { x: place(width, cx, minX, maxX, PAD), y: place(height, cy, minY, maxY, PAD_BOTTOM), zoom, height, fits: fit >= MIN_READABLE_ZOOM };
}
