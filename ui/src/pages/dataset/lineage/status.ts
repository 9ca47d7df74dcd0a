// What a lineage card says of its dataset's state, at a glance: one tone (its
// colour) and one icon, the worst of removed, deprecated, checks failing,
// data late, then fresh and passing; unknown until known. Pure (status.test.ts).
import type { NodeStatusQuery } from "../../../api/generated";

export type NodeState = "removed" | "deprecated" | "failing" | "late" | "warn" | "ok" | "unknown";

export type NodeStatus = { state: NodeState; icon: string; label: string };

// The legend's entries, in the order a card picks them (the first that holds).
export const legend: readonly NodeStatus[] = [
  { state: "removed", icon: "⌫", label: "removed" },
  { state: "deprecated", icon: "⊘", label: "deprecated" },
  { state: "failing", icon: "✕", label: "checks failing or data very late" },
  { state: "late", icon: "◷", label: "data late" },
  { state: "warn", icon: "!", label: "checks warn" },
  { state: "ok", icon: "✓", label: "fresh and passing" },
  { state: "unknown", icon: "?", label: "not known" },
];

const by = new Map(legend.map((s) => [s.state, s]));

export function stateOf(state: NodeState): NodeStatus {
  return by.get(state)!;
}

type D = Omit<NonNullable<NodeStatusQuery["dataset"]>, "deprecated"> & { deprecated?: { at: string } | null };

// nodeStatus sums a dataset up. Deprecation is the dataset's deprecated
// field, or the "deprecated" tag other catalogs use for it.
export function nodeStatus(d: D | null | undefined): NodeStatus {
  if (!d) return by.get("unknown")!;
  const pick = (s: NodeState) => by.get(s)!;
  if (d.removedAt) return pick("removed");
  if (d.deprecated || d.tags.some((t) => t.toLowerCase() === "deprecated")) return pick("deprecated");
  const checks = d.health.status;
  const fresh = d.freshness.status;
  if (checks === "FAIL" || checks === "ERROR" || fresh === "ERROR") return pick("failing");
  if (fresh === "WARN") return pick("late");
  if (checks === "WARN") return pick("warn");
  if (fresh === "FRESH" || checks === "PASS") return pick("ok");
  return pick("unknown");
}

// describe is a card's status in words, for its tooltip and screen readers.
export function describe(d: D | null | undefined): string {
  if (!d) return "status not known";
  const parts = [nodeStatus(d).label];
  const fresh = d.freshness.status;
  parts.push(fresh === "UNKNOWN" ? "freshness unknown" : `freshness ${fresh.toLowerCase()}`);
  parts.push(d.health.status ? `checks ${d.health.status.toLowerCase()}` : "no checks");
  return parts.join("; ");
}
