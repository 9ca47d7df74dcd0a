// The catalog's front page above all datasets: the most used datasets (by
// popularity, from the usage the crawls read) and the recently changed
// ones, so that a newcomer sees where to start. And the popularity badge
// of a search hit.
import { Link } from "react-router";
import { useQuery } from "../../api/client";
import { HomeDocument, type HomeQuery } from "../../api/generated";
import { Badge, Time } from "../../components/ui";

// PopularityBadge shows a used dataset's popularity percentile (nothing for
// an unused one).
export function PopularityBadge({ popularity }: { popularity: number }) {
  if (!popularity) return null;
  const top = Math.max(1, Math.round(100 - popularity));
  return (
    <Badge tone="info" title={`Popularity: ${popularity} percentile of the used datasets (reads, users and reading jobs, last 30 days)`}>
      <span data-testid="popularity">{popularity >= 99.5 ? "most used" : `used · top ${top}%`}</span>
    </Badge>
  );
}

type HomeHit = HomeQuery["mostUsed"]["hits"][number];

export function HomeLists() {
  const { data } = useQuery(HomeDocument, {});
  if (!data) return null;
  const used = data.mostUsed.hits.filter((h) => h.popularity > 0);
  return (
    <div className="home-lists">
      <section className="card home-list" aria-label="Most used">
        <h2>Most used</h2>
        {used.length === 0 ? (
          <p className="muted small">No usage read yet: crawls read it from the databases' statistics (pg_stat_statements, performance_schema).</p>
        ) : (
          <ol>
            {used.map((h) => (
              <HomeItem key={h.dataset!.id} hit={h} extra={<PopularityBadge popularity={h.popularity} />} />
            ))}
          </ol>
        )}
      </section>
      <section className="card home-list" aria-label="Recently changed">
        <h2>Recently changed</h2>
        <ol>
          {data.recentlyChanged.hits.map((h) => (
            <HomeItem
              key={h.dataset!.id}
              hit={h}
              extra={
                <span className="muted small">
                  <Time iso={h.dataset!.lastUpdatedAt ?? h.dataset!.updatedAt} />
                </span>
              }
            />
          ))}
        </ol>
      </section>
    </div>
  );
}

function HomeItem({ hit, extra }: { hit: HomeHit; extra: React.ReactNode }) {
  const d = hit.dataset;
  if (!d) return null;
  return (
    <li>
      <Link to={`/datasets/${d.id}/usage`} className="hit-name">
        {d.name}
      </Link>{" "}
      {extra}
    </li>
  );
}
