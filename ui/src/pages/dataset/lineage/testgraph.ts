// Small lineage answers for the unit tests: raw.orders and raw.payments feed
// a job that writes marts.revenue, which a view reads.
import type { G, LEdge, LNode } from "./graph";

export function dataset(id: string, name: string, degree = 1): LNode {
  return { id, kind: "DATASET", namespace: "pg://db", name, column: null, datasetId: null, degree, distance: 0, removed: false };
}

export function job(id: string, name: string, degree = 1): LNode {
  return { id, kind: "JOB", namespace: "airflow://etl", name, column: null, datasetId: null, degree, distance: 0, removed: false };
}

export function column(datasetId: string, name: string, col: string): LNode {
  return { id: `${datasetId}/${col}`, kind: "COLUMN", namespace: "pg://db", name, column: col, datasetId, degree: 1, distance: 0, removed: false };
}

export function edge(from: string, to: string, extra: Partial<LEdge> = {}): LEdge {
  return { from, to, transformation: null, origin: "RUN", job: null, ...extra };
}

// tableGraph is the table-level answer around marts.revenue ("rev").
export function tableGraph(): G {
  return {
    truncated: false,
    nodes: [
      dataset("orders", "db.raw.orders", 2),
      dataset("payments", "db.raw.payments", 1),
      job("etl", "etl.revenue", 3),
      dataset("rev", "db.marts.revenue", 2),
      dataset("view", "db.marts.revenue_v", 1),
    ],
    edges: [edge("orders", "etl"), edge("payments", "etl"), edge("etl", "rev"), edge("rev", "view", { origin: "CATALOG" })],
  };
}

const etl = { id: "etl", namespace: "airflow://etl", name: "etl.revenue" };

// columnGraph is the column-level answer: the job maps three columns of
// orders into rev and names the edges; jobs are no nodes.
export function columnGraph(): G {
  return {
    truncated: false,
    nodes: [
      column("orders", "db.raw.orders", "amount"),
      column("orders", "db.raw.orders", "day"),
      column("orders", "db.raw.orders", "fee"),
      column("rev", "db.marts.revenue", "day"),
      column("rev", "db.marts.revenue", "gross"),
      column("rev", "db.marts.revenue", "net"),
    ],
    edges: [
      edge("orders/day", "rev/day", { job: etl, transformation: "DIRECT/IDENTITY" }),
      edge("orders/amount", "rev/gross", { job: etl, transformation: "DIRECT/AGGREGATION" }),
      edge("orders/fee", "rev/net", { job: etl, transformation: "DIRECT/AGGREGATION" }),
    ],
  };
}
