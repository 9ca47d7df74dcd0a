// The lineage graph as the API answers it, and what the tab reads from it
// without drawing: several answers merged into one, the card a node belongs
// to, a dataset's direct neighbours. Pure functions (graph.test.ts).
import type { LineageQuery } from "../../../api/generated";

export type G = LineageQuery["lineage"];
export type LNode = G["nodes"][number];
export type LEdge = G["edges"][number];

// edgeId names an edge by its ends and the job that draws it: the same edge
// in two answers is one edge.
export function edgeId(e: Pick<LEdge, "from" | "to" | "job">): string {
  return `${e.from}>${e.to}>${e.job?.id ?? ""}`;
}

// merge unites answers (the traced graph and the neighbours of nodes expanded
// by hand): a node or an edge is kept once, the first answer's node wins and
// the last answer's edge, and the whole is truncated if any answer was.
export function merge(graphs: readonly G[]): G {
  const nodes = new Map<string, LNode>();
  const edges = new Map<string, LEdge>();
  let truncated = false;
  for (const g of graphs) {
    truncated ||= g.truncated;
    for (const n of g.nodes) if (!nodes.has(n.id)) nodes.set(n.id, n);
    for (const e of g.edges) edges.set(edgeId(e), e);
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()], truncated };
}

// Endpoint is a card (a dataset or a job) and, at column level, the handle of
// one of its columns ("c:<column>").
export type Endpoint = { node: string; handle?: string };

// endpoint maps a lineage node id to its card and handle. A column the
// answer has no node for is named "<dataset id>/<column>".
export function endpoint(id: string, byId: ReadonlyMap<string, LNode>): Endpoint {
  const n = byId.get(id);
  if (n?.kind === "COLUMN" && n.datasetId) return { node: n.datasetId, handle: `c:${n.column}` };
  const slash = id.indexOf("/");
  if (!n && slash > 0) return { node: id.slice(0, slash), handle: `c:${id.slice(slash + 1)}` };
  return { node: id };
}

// countCards is how many datasets and jobs a graph shows (a column counts as
// its dataset).
export function countCards(graph: G): number {
  return new Set(graph.nodes.map((n) => (n.kind === "COLUMN" ? n.datasetId : n.id))).size;
}

// shortName is a table's name without its database and schema, or a file's
// name without its directory. dbt-ol's job names (db.schema.project.model,
// with .build.run and a version such as .v2 in recent versions) become the
// model's name, not "run".
export function shortName(name: string) {
  const slash = name.lastIndexOf("/");
  if (slash >= 0) return name.slice(slash + 1) || name;
  const parts = name.replace(/\.build\.(run|test|seed|snapshot)$/, "").split(".");
  const last = parts.length - 1;
  if (last > 0 && /^v\d+$/.test(parts[last])) return `${parts[last - 1]}.${parts[last]}`;
  return parts[last] || name;
}

export type Neighbour = { id: string; name: string };

// neighbours are the datasets one hop upstream and downstream of current,
// through the job between when there is one, in the order the edges give.
export function neighbours(graph: G, currentId: string): { up: Neighbour[]; down: Neighbour[] } {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const ds = (id: string) => endpoint(id, byId).node;
  const up = new Set<string>();
  const down = new Set<string>();
  const into = (target: string) => graph.edges.filter((e) => ds(e.to) === target).map((e) => ds(e.from));
  const outOf = (source: string) => graph.edges.filter((e) => ds(e.from) === source).map((e) => ds(e.to));
  for (const s of into(currentId)) (byId.get(s)?.kind === "JOB" ? into(s) : [s]).forEach((x) => x !== currentId && up.add(x));
  for (const t of outOf(currentId)) (byId.get(t)?.kind === "JOB" ? outOf(t) : [t]).forEach((x) => x !== currentId && down.add(x));
  const name = (id: string) => byId.get(id)?.name ?? graph.nodes.find((n) => n.datasetId === id)?.name ?? id;
  const named = (ids: Set<string>) => [...ids].map((id) => ({ id, name: name(id) }));
  return { up: named(up), down: named(down) };
}

// withTableNeighbours adds to a column-level answer the table-level
// neighbours it cannot show: a dataset that some job reads or writes without
// reporting column lineage (a CSV export) has no column edge, so the
// column-level answer leaves it out, though it is as much downstream. Such
// datasets come in as cards of their own, with the jobs and table edges
// that link them; datasets the columns already show keep only their column
// edges.
export function withTableNeighbours(columns: G, table: G | undefined): G {
  if (!table) return columns;
  const shown = new Set<string>();
  for (const n of columns.nodes) if (n.kind === "COLUMN" && n.datasetId) shown.add(n.datasetId);
  const byId = new Map(columns.nodes.map((n) => [n.id, n]));
  for (const e of columns.edges) for (const id of [e.from, e.to]) shown.add(endpoint(id, byId).node);
  const kind = new Map(table.nodes.map((n) => [n.id, n.kind]));
  // A job stays if it reads or writes a dataset the columns do not show:
  // with its edges to those, and its edges to shown datasets on the other
  // side of it, which link them in (a job's edges between shown datasets
  // are drawn by the columns already).
  const hidden = (id: string) => kind.get(id) !== "JOB" && !shown.has(id);
  const reads = new Map<string, boolean>(); // job -> reads a hidden dataset
  const writes = new Map<string, boolean>(); // job -> writes one
  for (const e of table.edges) {
    if (kind.get(e.to) === "JOB" && hidden(e.from)) reads.set(e.to, true);
    if (kind.get(e.from) === "JOB" && hidden(e.to)) writes.set(e.from, true);
  }
  const edges = table.edges.filter((e) => {
    if (kind.get(e.to) === "JOB") return hidden(e.from) || !!writes.get(e.to);
    if (kind.get(e.from) === "JOB") return hidden(e.to) || !!reads.get(e.from);
    // A dataset-to-dataset edge (a view) to or from a dataset not shown.
    return hidden(e.from) || hidden(e.to);
  });
  const ends = new Set(edges.flatMap((e) => [e.from, e.to]));
  const nodes = table.nodes.filter((n) => ends.has(n.id) && !shown.has(n.id));
  if (!edges.length) return columns;
  return merge([columns, { nodes, edges, truncated: table.truncated }]);
}

// columnPath is what a click on a column lights up: the column, every column
// upstream of it and every column downstream, and the edges between them.
export function columnPath(graph: G, columnId: string): { nodes: Set<string>; edges: Set<string> } {
  const nodes = new Set([columnId]);
  const edges = new Set<string>();
  const walk = (from: "from" | "to", to: "from" | "to") => {
    const queue = [columnId];
    const seen = new Set(queue);
    while (queue.length) {
      const id = queue.shift()!;
      for (const e of graph.edges) {
        if (e[from] !== id) continue;
        edges.add(edgeId(e));
        const next = e[to];
        nodes.add(next);
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
  };
  walk("from", "to");
  walk("to", "from");
  return { nodes, edges };
}
