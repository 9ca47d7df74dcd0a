// What the dataset page reads from a dbt import: which datasets are
// exposures, which of a model's downstream datasets are its exposures, the
// properties dbt adds (named facts apart from the rest of meta), and the
// order of its tests. Pure functions, unit-tested in dbt.test.ts.

// The kinds of dbt exposures: the dashboards, applications and ML models
// that read a project's models, leaves of the lineage graph.
export const exposureKinds: readonly string[] = ["DASHBOARD", "APPLICATION", "ML_MODEL"];

export function isExposure(kind: string): boolean {
  return exposureKinds.includes(kind);
}

type Linked = { id: string; name: string; namespace: string; kind: string };

// exposuresOf keeps the exposures among a dataset's downstream edges, once
// each (column edges repeat a dataset), by name.
export function exposuresOf<D extends Linked>(downstream: readonly { toDataset: D | null }[]): D[] {
  const seen = new Map<string, D>();
  for (const e of downstream) {
    const d = e.toDataset;
    if (d && isExposure(d.kind) && !seen.has(d.id)) seen.set(d.id, d);
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export type Property = { key: string; value: string };
export type Fact = { key: string; label: string; value: string };

// factLabels are the properties the importer sets from what dbt says
// (dbt.*), with their words and in the order shown; any other property is
// the project's own meta.
const factLabels: [string, string][] = [
  ["dbt.exposure_type", "Type"],
  ["dbt.owner_name", "Owner"],
  ["dbt.maturity", "Maturity"],
  ["dbt.label", "Label"],
  ["dbt.access", "Access"],
  ["dbt.group", "Group"],
  ["dbt.version", "Version"],
  ["dbt.latest_version", "Latest version"],
  ["dbt.contract.enforced", "Contract"],
  ["dbt.deprecation_date", "Deprecation date"],
  ["dbt.language", "Language"],
  ["dbt.source_name", "Source"],
  ["dbt.loader", "Loader"],
  ["dbt.loaded_at_field", "Loaded-at field"],
];

// splitProperties separates dbt's facts (in factLabels' order, with their
// labels) from the rest of meta (by key).
export function splitProperties(props: readonly Property[]): { facts: Fact[]; meta: Property[] } {
  const byKey = new Map(props.map((p) => [p.key, p.value]));
  const facts: Fact[] = [];
  for (const [key, label] of factLabels) {
    const v = byKey.get(key);
    if (v == null || v === "") continue;
    facts.push({ key, label, value: key === "dbt.contract.enforced" ? (v === "true" ? "enforced" : v) : v });
  }
  const known = new Set(factLabels.map(([k]) => k));
  const meta = props.filter((p) => !known.has(p.key)).sort((a, b) => a.key.localeCompare(b.key));
  return { facts, meta };
}

// fact returns one of dbt's facts by key, or undefined.
export function fact(props: readonly Property[], key: string): string | undefined {
  const v = props.find((p) => p.key === key)?.value;
  return v ? v : undefined;
}

type TestLike = { name: string; latest: { status: string } | null };

const statusOrder: Record<string, number> = { ERROR: 0, FAIL: 1, WARN: 2, PASS: 3 };

// sortTests puts the tests that need attention first (error, fail, warn),
// then the passing ones, then those never run; by name within each.
export function sortTests<T extends TestLike>(tests: readonly T[]): T[] {
  const rank = (t: T) => (t.latest ? (statusOrder[t.latest.status] ?? 4) : 5);
  return [...tests].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

// testSummary counts the tests by their latest status: "3 pass, 1 error".
export function testSummary(tests: readonly TestLike[]): string {
  const counts = new Map<string, number>();
  for (const t of tests) {
    const s = t.latest ? t.latest.status.toLowerCase() : "not run";
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const order = ["error", "fail", "warn", "pass", "not run"];
  const rank = (s: string) => (order.includes(s) ? order.indexOf(s) : order.length);
  return [...counts.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
}

// safeHref returns an address a link may point to (http, https, mailto),
// or null: a manifest's url is the project's text, and a javascript: one
// must not become a link.
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" || u.protocol === "mailto:" ? u.href : null;
  } catch {
    return null;
  }
}
