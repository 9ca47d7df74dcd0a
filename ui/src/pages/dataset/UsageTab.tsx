// Usage: how the dataset is used, as the crawls read it from its database's
// own statistics: reads per day (a small chart), its top users, its most
// run queries (normalized SQL, copyable: how people query it), and the jobs
// that read it by lineage.
import { Link } from "react-router";
import { useQuery } from "../../api/client";
import { DatasetUsageDocument, type DatasetUsageQuery } from "../../api/generated";
import { SqlCode } from "../../components/Code";
import { Empty, ErrorBox, Loading } from "../../components/ui";
import { count } from "../../format";
import { PopularityBadge } from "../search/Home";

const DAYS = 30;

type UsageT = NonNullable<DatasetUsageQuery["dataset"]>["usage"];

export function UsageTab({ id }: { id: string }) {
  const { data, error, isPending, refetch } = useQuery(DatasetUsageDocument, { id, days: DAYS });
  if (error) return <ErrorBox error={error} retry={refetch} />;
  if (isPending) return <Loading />;
  const d = data?.dataset;
  if (!d) return <Empty>Dataset not found.</Empty>;
  const u = d.usage;
  return (
    <div className="usage">
      {!u.available && (
        <p className="notice" role="status" data-testid="usage-unavailable">
          Usage is not available: {u.reason}
        </p>
      )}
      {u.available && u.reason && (
        <p className="notice small" role="status">
          {u.reason}
        </p>
      )}
      <section className="card" aria-label="Reads per day">
        <div className="toolbar">
          <h2>Last {DAYS} days</h2>
          <PopularityBadge popularity={u.popularity} />
        </div>
        <p className="usage-totals">
          <span data-testid="usage-reads">{count(Number(u.reads))}</span> reads · {count(Number(u.writes))} writes · {count(Number(u.calls))} statement calls
        </p>
        <ReadsChart daily={u.daily} />
      </section>
      <section className="card" aria-label="Top users">
        <h2>Top users</h2>
        {u.users.length === 0 ? (
          <p className="muted small">No user recorded (MySQL's statement statistics name none).</p>
        ) : (
          <table className="table small">
            <thead>
              <tr>
                <th>User</th>
                <th className="num">Calls</th>
              </tr>
            </thead>
            <tbody>
              {u.users.map((x) => (
                <tr key={x.name} data-testid="usage-user">
                  <td>{x.name}</td>
                  <td className="num">{count(Number(x.calls))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card" aria-label="Top queries">
        <h2>Top queries</h2>
        <p className="muted small">Normalized by the database: literals are placeholders ($1, ?).</p>
        {u.queries.length === 0 && <p className="muted small">No query recorded.</p>}
        <ol className="usage-queries">
          {u.queries.map((q, i) => (
            <li key={i} data-testid="usage-query">
              <div className="small muted">
                {count(Number(q.calls))} calls · {q.meanMs.toFixed(2)} ms mean{q.user ? ` · ${q.user}` : ""}
              </div>
              {q.text ? <SqlCode code={q.text} label="query" /> : <span className="muted small">(query text not kept)</span>}
            </li>
          ))}
        </ol>
      </section>
      <section className="card" aria-label="Readers from lineage">
        <h2>Read by jobs</h2>
        {d.readBy.length === 0 ? (
          <p className="muted small">No job has reported reading it.</p>
        ) : (
          <ul>
            {d.readBy.map((j) => (
              <li key={j.id}>
                <Link to={`/jobs/${j.id}`}>{j.name}</Link> <span className="muted small">{j.namespace}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

// ReadsChart draws reads per day over the last DAYS days as bars (an SVG,
// no chart library): days without use are gaps.
function ReadsChart({ daily }: { daily: UsageT["daily"] }) {
  const today = new Date();
  const days: { day: string; reads: number }[] = [];
  const byDay = new Map(daily.map((x) => [x.day, Number(x.reads)]));
  for (let i = DAYS - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    const key = d.toISOString().slice(0, 10);
    days.push({ day: key, reads: byDay.get(key) ?? 0 });
  }
  const most = Math.max(1, ...days.map((d) => d.reads));
  const w = 8, gap = 2, h = 60;
  return (
    <svg
      className="usage-chart"
      role="img"
      aria-label={`Reads per day, the last ${DAYS} days`}
      viewBox={`0 0 ${DAYS * (w + gap)} ${h}`}
      width="100%"
      height={h}
      preserveAspectRatio="none"
    >
      {days.map((d, i) => {
        const bh = d.reads ? Math.max(2, (d.reads / most) * (h - 2)) : 0;
        return (
          <rect key={d.day} x={i * (w + gap)} y={h - bh} width={w} height={bh} className="usage-bar" data-reads={d.reads}>
            <title>{`${d.day}: ${d.reads} reads`}</title>
          </rect>
        );
      })}
    </svg>
  );
}
