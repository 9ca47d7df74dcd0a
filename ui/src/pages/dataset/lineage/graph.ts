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
