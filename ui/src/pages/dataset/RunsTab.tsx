// Runs: the jobs that write the dataset with their latest runs, and the jobs
// that read it.
import { Link } from "react-router";
import { useQuery } from "../../api/client";
import { DatasetRunsDocument } from "../../api/generated";
import { RunsTable } from "../../components/RunsTable";
import { Empty, ErrorBox, Loading, StatusBadge, Time } from "../../components/ui";

export function RunsTab({ id }: { id: string }) {
  const { data, error, isPending, refetch } = useQuery(DatasetRunsDocument, { id });
  if (error) return <ErrorBox error={error} retry={refetch} />;
  if (isPending) return <Loading />;
  const d = data?.dataset;
  if (!d) return <Empty>Dataset not found.</Empty>;
  return (
    <div className="stack">
      <section>
        <h2>Written by</h2>
        {d.writtenBy.length === 0 && <Empty>No job has reported writing it.</Empty>}
        {d.writtenBy.map((j) => (
          <div key={j.id} className="card">
            <div className="row">
              <Link to={`/jobs/${j.id}`} className="strong">
                {j.name}
              </Link>
              <span className="muted small">{j.namespace}</span>
              {j.type && <span className="kind">{j.type}</span>}
            </div>
            {j.runs.nodes.length === 0 ? (
              <p className="muted">No runs yet.</p>
            ) : (
              <RunsTable runs={j.runs.nodes} />
            )}
          </div>
        ))}
      </section>
      <section>
        <h2>Read by</h2>
        {d.readBy.length === 0 ? (
          <Empty>No job has reported reading it.</Empty>
        ) : (
          <ul className="list">
            {d.readBy.map((j) => (
              <li key={j.id}>
                <Link to={`/jobs/${j.id}`}>{j.name}</Link> {j.latestRun && <StatusBadge status={j.latestRun.state} />}{" "}
                {j.latestRun && <Time iso={j.latestRun.endedAt ?? j.latestRun.startedAt} />}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
