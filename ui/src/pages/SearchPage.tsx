// Search: results with why they matched, facets that filter, paging. The
// URL holds the query, the filters and the page, so a search can be shared.
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { useEffect } from "react";
import { useQuery } from "../api/client";
import { SearchDocument, type SearchQuery } from "../api/generated";
import { kindIcon } from "../format";
import { isExposure } from "./dataset/dbt/dbt";
import { Badge, CheckBadge, Chips, Empty, ErrorBox, FreshnessBadge, Highlighted, KindBadge, Loading } from "../components/ui";
import { bucketLabel, facetFields, facetTitles, filterFrom, orderFacets, statusLabels, toggle as toggled, type FacetField } from "./search/facets";
import { DeprecatedHit } from "./dataset/Trust";

const PAGE = 20;
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
  const prev: string[] = (location.state as { prev?: string[] } | null)?.prev ?? [];

  useEffect(() => {
    document.title = q ? `${q} · Quarry search` : "Quarry";
  }, [q]);

  const { data, error, isPending, isFetching, refetch } = useQuery(
    SearchDocument,
    { query: q, filter, first: PAGE, after },
    { keepPrevious: true },
  );

  const go = (next: URLSearchParams, state?: unknown) => navigate(`/search?${next}`, { state });

  const toggle = (field: FacetField, value: string) => go(toggled(params, field, value));

  const active = facetFields.flatMap((f) => params.getAll(f).map((v) => [f, v] as const));
  const results = data?.search;

  return (
    <div className="search-page">
      <aside className="facets" aria-label="Filters">
        {results &&
          orderFacets(results.facets).map((facet) => {
            const buckets = facet.buckets;
            const selected = params.getAll(facet.field);
            return (
              <section key={facet.field} className="facet" aria-label={facetTitles[facet.field]}>
                <h3>{facetTitles[facet.field]}</h3>
                <ul>
                  {buckets.slice(0, 12).map((b) => {
                    const on = selected.includes(b.value);
                    return (
                      <li key={b.value}>
                        <button
                          type="button"
                          className={`facet-bucket${on ? " on" : ""}`}
                          aria-pressed={on}
                          data-facet={facet.field}
                          data-value={b.value}
                          onClick={() => toggle(facet.field, b.value)}
                        >
                          <span className="facet-value">
                            {statusLabels[facet.field] && <span className={`facet-dot status-${b.value.toLowerCase()}`} aria-hidden="true" />}
                            {facet.field === "kind" && (
                              <span className="kind-icon" aria-hidden="true">
                                {kindIcon(b.value)}
                              </span>
                            )}
                            {bucketLabel(facet.field, b.value)}
                          </span>
                          <span className="facet-count">{b.count}</span>
                        </button>
                      </li>
                    );
                  })}
                </ul>
              </section>
            );
          })}
      </aside>
      <section className="results" aria-label="Results" aria-busy={isFetching}>
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
              {results.total} dataset{results.total === 1 ? "" : "s"}
            </span>
          )}
        </div>
        {active.length > 0 && (
          <div className="active-filters" aria-label="Active filters">
            {active.map(([f, v]) => (
              <button key={`${f}=${v}`} type="button" className="chip chip-removable" onClick={() => toggle(f, v)}>
                {facetTitles[f]}: {bucketLabel(f, v)} <span aria-label="remove">×</span>
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
        {results && results.hits.length === 0 && (
          <Empty>
            No dataset matches {q ? <q>{q}</q> : "these filters"}. Try fewer words or remove a filter.
          </Empty>
        )}
        {results && results.hits.length > 0 && (
          <ol className="hits">
            {results.hits.map((hit) => (hit.dataset ? <Hit key={hit.dataset.id} hit={hit} /> : null))}
          </ol>
        )}
        {results && (after || results.pageInfo.hasNextPage) && (
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
              {(after ? Number(after) || 0 : 0) + 1}–{(after ? Number(after) || 0 : 0) + results.hits.length} of {results.total}
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

function Hit({ hit }: { hit: HitT }) {
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
        <Chips items={d.tags.map((t) => `#${t}`)} label="Tags" />
      </div>
    </li>
  );
}

function truncate(s: string, n: number) {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}
