// Quality: the latest result of each check with its recent results, the
// dataset's alerts with their transitions, and the observations that its data
// changed.
import { useState } from "react";
import { useQuery } from "../../api/client";
import { DatasetQualityDocument, type DatasetQualityQuery } from "../../api/generated";
import { Empty, ErrorBox, Loading, StatusBadge, Time } from "../../components/ui";
import { alertAge, alertAgeText, alertLine } from "../alert";

export function QualityTab({ id }: { id: string }) {
  const { data, error, isPending, refetch, dataUpdatedAt } = useQuery(DatasetQualityDocument, { id });
  const now = dataUpdatedAt || 0; // ages as of the answer: rendering stays pure
  if (error) return <ErrorBox error={error} retry={refetch} />;
  if (isPending) return <Loading />;
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
                  <th scope="col">Recent results</th>
                </tr>
              </thead>
              <tbody>
                {checks.map((c) => (
                  <CheckRow key={`${c.column ?? ""}/${c.name}`} c={c} />
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
                <StatusBadge status={a.level} /> {alertLine(a.kind, a.message).kind && <strong>{alertLine(a.kind, a.message).kind}</strong>}{" "}
                <span>{alertLine(a.kind, a.message).message}</span>
                <span className="alert-age small" title={`Since ${alertAge(a, now).since}`}>
                  {alertAgeText(a, now)}
                </span>
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

type CheckT = NonNullable<DatasetQualityQuery["dataset"]>["checks"][number];
type ResultT = CheckT["history"][number];

// orDash shows a missing value (the API gives null or "") as a dash.
function orDash(v: string | null | undefined) {
  return v ? v : <span className="muted">–</span>;
}

// CheckRow is a check's latest result, a strip of its recent results (oldest
// on the left) and, on demand, those results in full.
function CheckRow({ c }: { c: CheckT }) {
  const [open, setOpen] = useState(false);
  const results = c.history;
  const detailId = `check-history-${c.column ?? ""}-${c.name}`;
  return (
    <>
      <tr data-testid="check-row" data-name={c.name}>
        <td>
          <StatusBadge status={c.status} />
        </td>
        <th scope="row" className="mono small">
          {c.name}
        </th>
        <td className="mono small">{c.column ?? <span className="muted">dataset</span>}</td>
        <td>{orDash(c.observed)}</td>
        <td>{orDash(c.expected)}</td>
        <td className="small">{c.message}</td>
        <td className="small">
          <Time iso={c.observedAt} />
        </td>
        <td className="small">
          <div className="check-recent">
            <ol className="check-strip" aria-label={`Recent results of ${c.name}, oldest first`}>
              {[...results].reverse().map((r, i) => (
                <li key={i} className={`strip-${r.status.toLowerCase()}`} title={`${r.status.toLowerCase()} · ${new Date(r.observedAt).toLocaleString()}${r.message ? ` · ${r.message}` : ""}`}>
                  <span className="sr-only">{r.status.toLowerCase()}</span>
                </li>
              ))}
            </ol>
            <button type="button" className="btn-link" aria-expanded={open} aria-controls={detailId} onClick={() => setOpen(!open)}>
              {open ? "Hide" : `History (${results.length}${results.length >= 20 ? "+" : ""})`}
            </button>
          </div>
        </td>
      </tr>
      {open && (
        <tr className="check-history" id={detailId}>
          <td colSpan={8}>
            <History results={results} />
          </td>
        </tr>
      )}
    </>
  );
}

function History({ results }: { results: ResultT[] }) {
  return (
    <table className="table table-inner" data-testid="check-history">
      <caption className="sr-only">Results, newest first</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Status</th>
          <th scope="col">Observed</th>
          <th scope="col">Expected</th>
          <th scope="col">Message</th>
          <th scope="col">Severity</th>
        </tr>
      </thead>
      <tbody>
        {results.map((r, i) => (
          <tr key={i} data-testid="check-result">
            <td className="small">
              <Time iso={r.observedAt} />
            </td>
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td>{orDash(r.observed)}</td>
            <td>{orDash(r.expected)}</td>
            <td className="small">{r.message || <span className="muted">–</span>}</td>
            <td className="small">{orDash(r.severity)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
