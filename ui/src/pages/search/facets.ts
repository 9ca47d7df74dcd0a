// The search page's facets: which fields filter, in which order, what their
// buckets are called, and how the URL's parameters become the API's filter.
// Pure functions, so they are unit-tested (facets.test.ts).
import type { CheckStatus, DatasetKind, FreshnessStatus, SearchFilter } from "../../api/generated";
import { kindLabel } from "../../format";

// facetFields are the fields shown as facets, in the order shown.
export const facetFields = ["kind", "freshness", "health", "tags", "owners", "namespace", "database", "schema"] as const;
export type FacetField = (typeof facetFields)[number];

export const facetTitles: Record<FacetField, string> = {
  kind: "Kind",
  freshness: "Freshness",
  health: "Checks",
  tags: "Tags",
  owners: "Owners",
  namespace: "Source",
  database: "Database",
  schema: "Schema",
};

// Statuses have a fixed order (best first) and words of their own; the API
// rejects any other value, so a hand-edited URL's unknown ones are dropped.
export const statusLabels: Partial<Record<FacetField, Record<string, string>>> = {
  freshness: { FRESH: "fresh", WARN: "late (warn)", ERROR: "very late (error)" },
  health: { PASS: "pass", WARN: "warn", FAIL: "fail", ERROR: "error" },
};

export function isFacetField(field: string): field is FacetField {
  return (facetFields as readonly string[]).includes(field);
}

// JOB is the Kind facet's bucket for jobs: not a dataset kind (the API's
// filter has none such), the page searches jobs beside datasets.
export const JOB = "JOB";

// bucketLabel is a bucket's words; sources names the source of each
// namespace, so that the Source facet says "warehouse", not a cut-off URL.
export function bucketLabel(field: FacetField, value: string, sources?: ReadonlyMap<string, string>) {
  if (field === "kind") return value === JOB ? "job" : kindLabel(value);
  if (field === "namespace") return sources?.get(value) ?? shortNamespace(value);
  return statusLabels[field]?.[value] ?? value;
}

// shortNamespace is a namespace no source names, shorter than its URL:
// "events.internal:9092 (kafka)" for kafka://events.internal:9092.
export function shortNamespace(ns: string) {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.+)$/i.exec(ns);
  return m ? `${m[2]} (${m[1]})` : ns;
}

// sourceNames maps each namespace to its source's name, where one is known.
export function sourceNames(list: readonly { namespace: string; source?: string | null }[]) {
  const out = new Map<string, string>();
  for (const s of list) if (s.source) out.set(s.namespace, s.source);
  return out;
}

// FACET_STEP is how many buckets a facet shows at first, and how many more
// each "Show more" adds.
export const FACET_STEP = 6;

// visibleBuckets are a facet's first shown buckets, and the selected ones
// beyond them (a selected value never hides).
export function visibleBuckets<B extends { value: string }>(buckets: readonly B[], shown: number, selected: readonly string[]): B[] {
  return buckets.filter((b, i) => i < shown || selected.includes(b.value));
}

// wants says what the Kind facet asks for: datasets (no kind, or a dataset
// kind, selected), jobs (no kind, or JOB, selected), or both.
export function wants(params: URLSearchParams): { datasets: boolean; jobs: boolean } {
  const kinds = params.getAll("kind");
  if (!kinds.length) return { datasets: true, jobs: true };
  return { datasets: kinds.some((k) => k !== JOB), jobs: kinds.includes(JOB) };
}

// sorts are the orders the results may be listed in (the URL's sort).
export const sorts = { relevance: "Relevance", name: "Name", updated: "Recently updated", popular: "Most used" } as const;
export type Sort = keyof typeof sorts;

export function sortFrom(params: URLSearchParams): Sort {
  const s = params.get("sort") ?? "";
  return s in sorts ? (s as Sort) : "relevance";
}

// filterFrom reads the filter from the URL's parameters, one per selected
// value (kind=VIEW&kind=TABLE).
export function filterFrom(params: URLSearchParams): SearchFilter {
  const f: SearchFilter = {};
  for (const field of facetFields) {
    const known = statusLabels[field];
    const v = params.getAll(field).filter((x) => (!known || x in known) && !(field === "kind" && x === JOB));
    if (!v.length) continue;
    if (field === "kind") f.kind = v as DatasetKind[];
    else if (field === "freshness") f.freshness = v as FreshnessStatus[];
    else if (field === "health") f.health = v as CheckStatus[];
    else f[field] = v;
  }
  return f;
}

// sortBuckets keeps the API's order (most hits first) except for statuses.
export function sortBuckets<B extends { value: string }>(field: FacetField, buckets: B[]): B[] {
  const known = statusLabels[field];
  if (!known) return buckets;
  const order = Object.keys(known);
  return [...buckets].sort((a, b) => order.indexOf(a.value) - order.indexOf(b.value));
}

// orderFacets keeps the facets the page knows, in facetFields' order
// whatever the API's, with their buckets sorted by sortBuckets, without the
// empty value, and drops a facet left with no bucket.
export function orderFacets<B extends { value: string }, F extends { field: string; buckets: B[] }>(
  facets: readonly F[],
): (F & { field: FacetField })[] {
  return facets
    .filter((f): f is F & { field: FacetField } => isFacetField(f.field))
    .sort((a, b) => facetFields.indexOf(a.field) - facetFields.indexOf(b.field))
    .map((f) => ({ ...f, buckets: sortBuckets(f.field, f.buckets.filter((b) => b.value !== "")) }))
    .filter((f) => f.buckets.length > 0);
}

// toggle turns a facet value on or off in the URL's parameters and goes back
// to the first page.
export function toggle(params: URLSearchParams, field: FacetField, value: string): URLSearchParams {
  const next = new URLSearchParams(params);
  const values = next.getAll(field);
  next.delete(field);
  const on = values.includes(value);
  for (const v of values) if (v !== value) next.append(field, v);
  if (!on) next.append(field, value);
  next.delete("after");
  return next;
}
