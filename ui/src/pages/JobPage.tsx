// A job: what it reads and writes, and its runs with state, duration and
// errors.
import { useEffect } from "react";
import { Link, useParams } from "react-router";
import { useQuery } from "../api/client";
import { JobDocument, type JobQuery } from "../api/generated";
import { RunsTable } from "../components/RunsTable";
import { Chips, Empty, ErrorBox, KindBadge, Loading, Markdown, StatusBadge, Time } from "../components/ui";
import { SqlCode } from "../components/Code";

export function JobPage() {
  const { id = "" } = useParams();
  const { data, error, isPending, refetch } = useQuery(JobDocument, { id });
  const j = data?.job;
  useEffect(() => {
    if (j) document.title = `${j.name} · Quarry`;
  }, [j]);
  if (error) return <ErrorBox error={error} retry={refetch} />;
  if (isPending) return <Loading label="Loading the job…" />;
  if (!j)
    return (
      <Empty>
        No job has the id <code>{id}</code>.
      </Empty>
    );
  const runs = j.runs.nodes;
  return (
    <article className="job">
      <header className="dataset-header">
        <div className="crumbs small muted">
          <span>job</span>
          <span className="namespace">{j.namespace}</span>
        </div>
        <h1 className="dataset-name">{j.name}</h1>
        <div className="dataset-badges">
          {j.type && <span className="kind">{j.type}</span>}
          {j.latestRun && <StatusBadge status={j.latestRun.state} />}
          {j.latestRun && (
            <span className="small muted">
              last run <Time iso={j.latestRun.endedAt ?? j.latestRun.startedAt} />
            </span>
          )}
        </div>
        {j.description ? <Markdown source={j.description} /> : <p className="muted">No description.</p>}
        {j.owners.length > 0 && <Chips items={j.owners} label="Owners" />}
        {j.sourceUrl && (
          <p className="small">
            Code: <a href={j.sourceUrl}>{j.sourceUrl}</a>
          </p>
        )}
      </header>
      {j.facts && <JobFacts job={j} />}
      <section className="io">
        <div>
          <h2>Reads</h2>
          <DatasetList items={j.inputs} />
        </div>
        <div className="io-arrow" aria-hidden="true">
          →
        </div>
        <div>
          <h2>Writes</h2>
          <DatasetList items={j.outputs} />
        </div>
      </section>
      <section>
        <h2>Runs</h2>
        {runs.length === 0 ? (
          <Empty>No runs reported yet.</Empty>
        ) : (
          <RunsTable runs={runs} ended />
        )}
      </section>
      {j.sql && (
        <section>
          <h2>SQL</h2>
          <SqlCode code={j.sql} label="job's SQL" />
        </section>
      )}
    </article>
  );
}

function DatasetList({ items }: { items: { id: string; name: string; namespace: string; kind: string }[] }) {
  if (!items.length) return <p className="muted">none reported</p>;
  return (
    <ul className="list">
      {items.map((d) => (
        <li key={d.id}>
          <Link to={`/datasets/${d.id}`}>{d.name}</Link> <KindBadge kind={d.kind} />
          <div className="muted small">{d.namespace}</div>
        </li>
      ))}
    </ul>
  );
}

type JobT = NonNullable<JobQuery["job"]>;

// JobFacts are what the tool that runs the job says of it: an Airflow
// task's DAG, owner, schedule and operator, a dbt node's file, quarry
// run's command line, and the other jobs of the same DAG.
function JobFacts({ job }: { job: JobT }) {
  const f = job.facts!;
  const dagWord =
    f.integration === "airflow"
      ? "DAG"
      : f.integration === "dbt"
        ? "dbt run"
        : f.integration === "spark"
          ? "Application"
          : "DAG";
  const rows: [string, string | undefined][] = [
    ["Reported by", f.integration],
    [dagWord, f.dag],
    ["Task", f.task],
    ["Operator", f.operator],
    ["Owner", f.owner],
    ["Schedule", f.schedule],
    ["File", f.fileLocation],
    ["Engine", f.engine],
    ["Host", f.host],
  ];
  return (
    <section className="job-facts" aria-label="Job facts">
      <h2>{f.integration === "quarry run" ? "Command" : "Orchestration"}</h2>
      <div className="io">
        <dl className="facts">
          {rows
            .filter(([, v]) => v)
            .map(([k, v]) => (
              <div key={k} style={{ display: "contents" }}>
                <dt>{k}</dt>
                <dd>{k === "File" || k === "Task" ? <code>{v}</code> : v}</dd>
              </div>
            ))}
          {f.tags.length > 0 && (
            <>
              <dt>Tags</dt>
              <dd>
                <Chips items={f.tags} label="Tags" />
              </dd>
            </>
          )}
          {f.command && (
            <>
              <dt>Command</dt>
              <dd>
                <code className="command">{f.command}</code>
              </dd>
            </>
          )}
        </dl>
        {f.dag && (
          <div className="dag-jobs">
            <h3>
              Other tasks of {dagWord === "DAG" ? "the DAG" : `the ${dagWord}`}{" "}
              <code>{f.dag}</code>
            </h3>
            {job.dagJobs.length === 0 ? (
              <p className="muted">none reported</p>
            ) : (
              <ul className="list">
                {job.dagJobs.map((t) => (
                  <li key={t.id}>
                    <Link to={`/jobs/${t.id}`}>{t.name}</Link>{" "}
                    {t.type && <span className="kind small">{t.type}</span>}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
