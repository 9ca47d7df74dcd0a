// The Impact tab's rows: what is downstream of a dataset or one of its
// columns (the impact query), with the jobs between (read from the
// downstream lineage graph), sorted, filtered and written as CSV. Pure
// functions (impact.test.ts).
import type { ImpactQuery, LineageQuery } from "../../api/generated";

type Hit = ImpactQuery["impact"]["datasets"][number];
type G = LineageQuery["lineage"];

export type ImpactRow = {
  id: string;
  distance: number;
  name: string;
  namespace: string;
  kind: string;
  columns: string[];
  owners: string[];
  freshness: string;
  checks: string;
  lastUpdatedAt: string | null;
  // via: the jobs (or "view definition", "declared by hand") that carry the
  // change into it from upstream.
  via: string[];
};

// viaOf names what writes each dataset of a downstream graph from the graph's
// side: at table level the job nodes with an edge into it, at column level
// the jobs of the column edges into its columns; a view's edge has no job.
export function viaOf(graph: G | undefined): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  if (!graph) return new Map();
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const datasetOf = (id: string) => {
    const n = byId.get(id);
    if (n?.kind === "COLUMN" && n.datasetId) return n.datasetId;
    const slash = id.indexOf("/");
    return !n && slash > 0 ? id.slice(0, slash) : id;
  };
  for (const e of graph.edges) {
    const to = byId.get(e.to);
    if (to?.kind === "JOB") continue;
    const from = byId.get(e.from);
    const name = from?.kind === "JOB" ? from.name : e.job ? e.job.name : e.origin === "CATALOG" ? "view definition" : e.origin === "MANUAL" ? "declared by hand" : "";
    if (!name) continue;
    const ds = datasetOf(e.to);
    if (!out.has(ds)) out.set(ds, new Set());
    out.get(ds)!.add(name);
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort()]));
}

export function rowsOf(hits: readonly Hit[], via: ReadonlyMap<string, string[]>): ImpactRow[] {
  return hits.map((h) => ({
    id: h.dataset.id,
    distance: h.distance,
    name: h.dataset.name,
    namespace: h.dataset.namespace,
    kind: h.dataset.kind,
    columns: [...h.columns],
    owners: [...h.dataset.owners],
    freshness: h.dataset.freshness.status,
    checks: h.dataset.health.status ?? "",
    lastUpdatedAt: h.dataset.lastUpdatedAt,
    via: via.get(h.dataset.id) ?? [],
  }));
}

export type SortKey = "distance" | "name" | "kind" | "owners" | "freshness" | "via";
export type Sort = { key: SortKey; desc: boolean };

const text = (r: ImpactRow, k: SortKey): string =>
  k === "owners" ? r.owners.join(", ") : k === "via" ? r.via.join(", ") : k === "distance" ? "" : String(r[k]);

// sortRows orders by one column, then by distance and name, so that equal
// keys keep a stable, meaningful order.
export function sortRows(rows: readonly ImpactRow[], { key, desc }: Sort): ImpactRow[] {
  const base = (a: ImpactRow, b: ImpactRow) => a.distance - b.distance || a.name.localeCompare(b.name) || a.namespace.localeCompare(b.namespace);
  const by = (a: ImpactRow, b: ImpactRow) => (key === "distance" ? a.distance - b.distance : text(a, key).localeCompare(text(b, key)));
  return [...rows].sort((a, b) => (desc ? -by(a, b) : by(a, b)) || base(a, b));
}

// filterRows keeps the rows with every word of the filter in their name,
// namespace, kind, columns, owners, freshness or jobs (case-insensitive).
export function filterRows(rows: readonly ImpactRow[], filter: string): ImpactRow[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [...rows];
  return rows.filter((r) => {
    const hay = [r.name, r.namespace, r.kind, r.freshness, r.checks, ...r.columns, ...r.owners, ...r.via].join(" ").toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export const csvHeader = ["distance", "namespace", "name", "kind", "columns", "owners", "freshness", "checks", "last_updated_at", "via_jobs"];

// csvField quotes a field that holds a comma, a quote or a line break
// (RFC 4180), and defuses a leading =, +, - or @ that a spreadsheet would
// run as a formula.
export function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

// toCSV writes the rows as they are shown (filtered and sorted), lists
// joined by "; ", lines ended by CRLF as RFC 4180 says.
export function toCSV(rows: readonly ImpactRow[]): string {
  const lines = [csvHeader.join(",")];
  for (const r of rows) {
    lines.push(
      [String(r.distance), r.namespace, r.name, r.kind, r.columns.join("; "), r.owners.join("; "), r.freshness, r.checks, r.lastUpdatedAt ?? "", r.via.join("; ")]
        .map(csvField)
        .join(","),
    );
  }
  return lines.join("\r\n") + "\r\n";
}
