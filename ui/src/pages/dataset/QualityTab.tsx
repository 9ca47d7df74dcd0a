// Quality: the latest result of each check, the dataset's alerts with their
// transitions, and the observations that its data changed.
import { useQuery } from "../../api/client";
import { DatasetQualityDocument } from "../../api/generated";
import { Empty, ErrorBox, Loading, StatusBadge, Time } from "../../components/ui";

export function QualityTab({ id }: { id: string }) {
  const { data, error, loading, refetch } = useQuery(DatasetQualityDocument, { id });
  if (error) return <ErrorBox error={error} retry={refetch} />;
  if (loading && !data) return <Loading />;
  const d = data?.dataset;
  if (!d) return <Empty>Dataset not found.</Empty>;
  const order: Record<string, number> = { ERROR: 0, FAIL: 1, WARN: 2, PASS: 3 };
  const checks = [...d.checks].sort((a, b) => order[a.status] - order[b.status] || a.name.localeCompare(b.name));
  return (
    <div className="stack">
      <section>
        <h2>Checks</h2>
        {checks.length === 0 ? (
          <Empty>No check has reported on this dataset. dbt tests, Great Expectations or scripts report through reportCheck.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">Check</th>
                  <th scope="col">Column</th>
                  <th scope="col">Observed</th>
                  <th scope="col">Expected</th>
                  <th scope="col">Message</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {checks.map((c) => (
                  <tr key={`${c.column ?? ""}/${c.name}`}>
                    <td>
                      <StatusBadge status={c.status} />
                    </td>
                    <th scope="row" className="mono small">
                      {c.name}
                    </th>
                    <td className="mono small">{c.column ?? <span className="muted">dataset</span>}</td>
                    <td>{c.observed ?? "–"}</td>
                    <td>{c.expected ?? "–"}</td>
                    <td className="small">{c.message}</td>
                    <td className="small">
                      <Time iso={c.observedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section>
        <h2>Open alerts and their history</h2>
        {d.alerts.length === 0 ? (
          <Empty>No open alert.</Empty>
        ) : (
          d.alerts.map((a) => (
            <div key={a.id} className="card">
              <div className="row">
                <StatusBadge status={a.level} /> <strong>{a.kind.toLowerCase()}</strong> <span>{a.message}</span>
              </div>
              <ol className="timeline">
                {a.history.map((e, i) => (
                  <li key={i}>
                    <Time iso={e.at} /> <strong>{e.transition.toLowerCase()}</strong> at {e.level.toLowerCase()}: {e.message}
                  </li>
                ))}
              </ol>
            </div>
          ))
        )}
      </section>
      <section>
        <h2>Data changes</h2>
        {d.dataChanges.length === 0 ? (
          <Empty>No observation of its data changing.</Empty>
        ) : (
          <ol className="timeline">
            {d.dataChanges.map((c, i) => (
              <li key={i}>
                <Time iso={c.at} /> <span className="muted">by {c.signal}</span> {c.detail}
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}
