// Search: results with why they matched, facets that filter, paging. The
// URL holds the query, the filters and the page, so a search can be shared.
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { useEffect, useMemo, useState } from "react";
import { useQuery } from "../api/client";
import { SearchDocument, SearchJobsDocument, NamespaceSourcesDocument, type SearchSort, type SearchJobsQuery, type SearchQuery } from "../api/generated";
import { kindIcon } from "../format";
import { isExposure } from "./dataset/dbt/dbt";
import { Badge, CheckBadge, Chips, Empty, ErrorBox, FreshnessBadge, Highlighted, KindBadge, Loading } from "../components/ui";
import {
  FACET_STEP,
  JOB,
  bucketLabel,
  facetFields,
  facetTitles,
  filterFrom,
  orderFacets,
  sortFrom,
  sorts,
  sourceNames,
  statusLabels,
  toggle as toggled,
  visibleBuckets,
  wants,
  type FacetField,
  type Sort,
} from "./search/facets";
import { DeprecatedHit } from "./dataset/Trust";
import { HomeLists, PopularityBadge } from "./search/Home";

const PAGE = 20;
const JOB_PAGE = 10;
const apiSort: Record<Sort, SearchSort> = { relevance: "RELEVANCE", name: "NAME", updated: "UPDATED", popular: "POPULARITY" };
const matchLabels: Record<string, string> = {
  name: "name",
  qualifiedName: "qualified name",
  column: "column",
  description: "description",
  columnDescription: "column description",
  tag: "tag",
};

export function SearchPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const q = params.get("q") ?? "";
  const after = params.get("after");
  const filter = filterFrom(params);
  const sort = sortFrom(params);
  const want = wants(params);
  const prev: string[] = (location.state as { prev?: string[] } | null)?.prev ?? [];

  useEffect(() => {
    document.title = q ? `${q} · Quarry search` : "Quarry";
  }, [q]);

  const { data, error, isPending, isFetching, refetch } = useQuery(
    SearchDocument,
    { query: q, filter, first: PAGE, after, sort: apiSort[sort] },
    { keepPrevious: true },
  );
  // Jobs are searched beside datasets (their own API, which has no
  // filters): on the first page of a query, when the Kind facet allows them.
  const jobsShown = !!q.trim() && !after && want.jobs && facetFields.every((f) => f === "kind" || !params.getAll(f).length);
  const jobs = useQuery(SearchJobsDocument, { query: q, first: JOB_PAGE }, { skip: !jobsShown, keepPrevious: true });
  const jobHits = jobsShown ? (jobs.data?.searchJobs ?? []) : [];
  const namespaces = (data?.search.facets.find((f) => f.field === "namespace")?.buckets ?? []).map((b) => b.value).filter(Boolean);
  const sourcesQ = useQuery(NamespaceSourcesDocument, { namespaces }, { skip: !namespaces.length, keepPrevious: true });
  const sources = useMemo(() => sourceNames(sourcesQ.data?.namespaceSources ?? []), [sourcesQ.data]);
  // How many buckets each facet shows ("Show more" adds FACET_STEP).
  const [shown, setShown] = useState<Partial<Record<FacetField, number>>>({});

  const go = (next: URLSearchParams, state?: unknown) => navigate(`/search?${next}`, { state });

  const toggle = (field: FacetField, value: string) => go(toggled(params, field, value));

  const active = facetFields.flatMap((f) => params.getAll(f).map((v) => [f, v] as const));
  const results = data?.search;
  const facets = useMemo(() => {
    const out = results ? orderFacets(results.facets) : [];
    if (!jobHits.length && !params.getAll("kind").includes(JOB)) return out;
    // The Kind facet counts the jobs found too.
    const job = { value: JOB, count: jobHits.length };
    const kind = out.find((f) => f.field === "kind");
    if (kind) return out.map((f) => (f === kind ? { ...f, buckets: [...f.buckets, job] } : f));
    return [{ field: "kind" as const, buckets: [job] }, ...out];
  }, [results, jobHits.length, params]);

  return (
    <div className="search-page">
      <aside className="facets" aria-label="Filters">
        {results &&
          facets.map((facet) => {
            const buckets = facet.buckets;
            const selected = params.getAll(facet.field);
            const limit = shown[facet.field] ?? FACET_STEP;
            const visible = visibleBuckets(buckets, limit, selected);
            return (
              <section key={facet.field} className="facet" aria-label={facetTitles[facet.field]}>
                <h3>{facetTitles[facet.field]}</h3>
                <ul>
                  {visible.map((b) => {
                    const on = selected.includes(b.value);
                    return (
                      <li key={b.value}>
                        <button
                          type="button"
                          className={`facet-bucket${on ? " on" : ""}`}
                          aria-pressed={on}
                          data-facet={facet.field}
                          data-value={b.value}
                          title={facet.field === "namespace" ? b.value : undefined}
                          onClick={() => toggle(facet.field, b.value)}
                        >
                          <span className="facet-value">
                            {statusLabels[facet.field] && <span className={`facet-dot status-${b.value.toLowerCase()}`} aria-hidden="true" />}
                            {facet.field === "kind" && (
                              <span className="kind-icon" aria-hidden="true">
                                {kindIcon(b.value)}
                              </span>
                            )}
                            {bucketLabel(facet.field, b.value, sources)}
                          </span>
                          <span className="facet-count" title={results.approximate ? "counted from a sample" : undefined}>
                            {results.approximate ? "~" : ""}
                            {b.count}
                          </span>
                        </button>
                      </li>
                    );
                  })}
                </ul>
                {(buckets.length > limit || limit > FACET_STEP) && (
                  <div className="row">
                    {buckets.length > limit && (
                      <button
                        type="button"
                        className="btn-link facet-more"
                        aria-label={`Show more ${facetTitles[facet.field].toLowerCase()}`}
                        onClick={() => setShown({ ...shown, [facet.field]: limit + FACET_STEP })}
                      >
                        Show more ({buckets.length - limit})
                      </button>
                    )}
                    {limit > FACET_STEP && (
                      <button
                        type="button"
                        className="btn-link facet-more"
                        aria-label={`Show fewer ${facetTitles[facet.field].toLowerCase()}`}
                        onClick={() => setShown({ ...shown, [facet.field]: FACET_STEP })}
                      >
                        Show fewer
                      </button>
                    )}
                  </div>
                )}
              </section>
            );
          })}
      </aside>
      <section className="results" aria-label="Results" aria-busy={isFetching}>
        {!q.trim() && !after && !active.length && sort === "relevance" && <HomeLists />}
        <div className="results-head">
          <h1 className="results-title">
            {q ? (
              <>
                Results for <q>{q}</q>
              </>
            ) : (
              "All datasets"
            )}
          </h1>
          {results && (
            <span className="muted" data-testid="total">
              {want.datasets ? `${results.approximate ? "about " : ""}${results.total} dataset${results.total === 1 ? "" : "s"}` : ""}
              {want.datasets && jobHits.length > 0 ? " · " : ""}
              {jobHits.length > 0 ? `${jobHits.length}${jobHits.length === JOB_PAGE ? "+" : ""} job${jobHits.length === 1 ? "" : "s"}` : ""}
            </span>
          )}
          <label className="results-sort small">
            Sort by{" "}
            <select
              value={sort}
              onChange={(e) => {
                const next = new URLSearchParams(params);
                if (e.target.value === "relevance") next.delete("sort");
                else next.set("sort", e.target.value);
                next.delete("after");
                go(next);
              }}
            >
              {Object.entries(sorts).map(([k, label]) => (
                <option key={k} value={k}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        </div>
        {results?.didYouMean && (
          <p className="did-you-mean" role="status">
            Did you mean{" "}
            <Link to={`/search?${new URLSearchParams({ ...(sort !== "relevance" ? { sort } : {}), q: results.didYouMean })}`}>
              {results.didYouMean}
            </Link>
            ?
          </p>
        )}
        {active.length > 0 && (
          <div className="active-filters" aria-label="Active filters">
            {active.map(([f, v]) => (
              <button key={`${f}=${v}`} type="button" className="chip chip-removable" onClick={() => toggle(f, v)}>
                {facetTitles[f]}: {bucketLabel(f, v, sources)} <span aria-label="remove">×</span>
              </button>
            ))}
            <button
              type="button"
              className="btn-link"
              onClick={() => {
                const next = new URLSearchParams();
                if (q) next.set("q", q);
                go(next);
              }}
            >
              Clear filters
            </button>
          </div>
        )}
        {error && <ErrorBox error={error} retry={refetch} />}
        {isPending && <Loading label="Searching…" />}
        {results && want.datasets && results.hits.length === 0 && !jobHits.length && (
          <Empty>
            No dataset matches {q ? <q>{q}</q> : "these filters"}. Try fewer words or remove a filter.
          </Empty>
        )}
        {results && want.datasets && results.hits.length > 0 && (
          <ol className="hits">
            {results.hits.map((hit) =>
              hit.dataset ? <Hit key={hit.dataset.id} hit={hit} onTag={(t) => toggle("tags", t)} /> : null,
            )}
          </ol>
        )}
        {jobHits.length > 0 && (
          <section className="job-hits" aria-label="Jobs">
            <h2>
              Jobs <span className="muted small">that match</span>
            </h2>
            <ol className="hits">
              {jobHits.map((h) => (
                <JobHit key={h.job.id} hit={h} />
              ))}
            </ol>
          </section>
        )}
        {results && want.datasets && (after || results.pageInfo.hasNextPage) && (
          <nav className="pager" aria-label="Pages">
            <button
              type="button"
              className="btn"
              disabled={!after}
              onClick={() => {
                const next = new URLSearchParams(params);
                const back = prev[prev.length - 1];
                if (back) next.set("after", back);
                else next.delete("after");
                go(next, { prev: prev.slice(0, -1) });
              }}
            >
              ← Previous
            </button>
            <span className="muted">
              {(after ? Number(after) || 0 : 0) + 1}–{(after ? Number(after) || 0 : 0) + results.hits.length} of {results.approximate ? "about " : ""}
              {results.total}
            </span>
            <button
              type="button"
              className="btn"
              disabled={!results.pageInfo.hasNextPage}
              onClick={() => {
                const next = new URLSearchParams(params);
                next.set("after", results.pageInfo.endCursor ?? "");
                go(next, { prev: after ? [...prev, after] : prev });
                window.scrollTo(0, 0);
              }}
            >
              Next →
            </button>
          </nav>
        )}
      </section>
    </div>
  );
}

type HitT = SearchQuery["search"]["hits"][number];

function Hit({ hit, onTag }: { hit: HitT; onTag: (tag: string) => void }) {
  const d = hit.dataset!;
  const description = hit.matches.find((m) => m.field === "description");
  const why = hit.matches.filter((m) => m.field !== "description" && m.text.includes("<mark>")).slice(0, 3);
  return (
    <li className="hit" data-testid="hit">
      <div className="hit-head">
        <Link to={`/datasets/${d.id}`} className="hit-name">
          {d.name}
        </Link>
        <KindBadge kind={d.kind} />
        {d.removedAt && <Badge tone="warn">removed</Badge>}
        <DeprecatedHit d={d} />
        <PopularityBadge popularity={hit.popularity} />
        {/* An exposure has no data of its own to be fresh or checked. */}
        {!isExposure(d.kind) && (
          <span className="hit-badges">
            <FreshnessBadge status={d.freshness.status} />
            <CheckBadge status={d.health.status} />
          </span>
        )}
      </div>
      <div className="hit-source muted small">
        {d.source ? `${d.source} · ` : ""}
        {d.namespace}
      </div>
      <p className="hit-desc">
        {description ? <Highlighted text={description.text} /> : d.description ? truncate(d.description, 220) : <span className="muted">No description</span>}
      </p>
      {why.length > 0 && (
        <ul className="hit-matches small">
          {why.map((m, i) => (
            <li key={i}>
              <span className="muted">matched {matchLabels[m.field] ?? m.field}:</span> <Highlighted text={m.text} />
            </li>
          ))}
        </ul>
      )}
      <div className="hit-meta">
        <Chips items={d.owners} label="Owners" />
        {d.tags.length > 0 && (
          <ul className="chips" aria-label="Tags">
            {d.tags.map((t) => (
              <li key={t}>
                <button type="button" className="chip chip-button" title={`Only datasets tagged ${t}`} onClick={() => onTag(t)}>
                  #{t}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </li>
  );
}

type JobHitT = SearchJobsQuery["searchJobs"][number];

function JobHit({ hit }: { hit: JobHitT }) {
  const j = hit.job;
  return (
    <li className="hit" data-testid="job-hit">
      <div className="hit-head">
        <Link to={`/jobs/${j.id}`} className="hit-name">
          {j.name}
        </Link>
        <span className="kind">job</span>
        {j.type && <span className="muted small">{j.type}</span>}
        {j.latestRun && (
          <span className="hit-badges">
            <Badge tone={j.latestRun.state === "FAIL" ? "error" : j.latestRun.state === "COMPLETE" ? "ok" : "info"}>
              last run {j.latestRun.state.toLowerCase()}
            </Badge>
          </span>
        )}
      </div>
      <div className="hit-source muted small">{j.namespace}</div>
      {j.description && <p className="hit-desc">{truncate(j.description, 220)}</p>}
      <div className="hit-meta">
        <Chips items={j.owners} label="Owners" />
      </div>
    </li>
  );
}

function truncate(s: string, n: number) {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}
