// Alerts: open freshness and check alerts, worst first (the server's order).
import { useEffect } from "react";
import { Link } from "react-router";
import { useQuery } from "../api/client";
import { AlertsDocument } from "../api/generated";
import { Badge, Empty, ErrorBox, KindBadge, Loading, Time } from "../components/ui";
import { duration } from "../format";
import { alertAge } from "./alert";

export function AlertsPage() {
  useEffect(() => {
    document.title = "Alerts · Quarry";
  }, []);
  // Alerts open and close on the server: look again every minute.
  const { data, error, isPending, isFetching, refetch, dataUpdatedAt } = useQuery(AlertsDocument, {}, { poll: 60_000 });
  const now = dataUpdatedAt || 0;
  return (
    <div className="page">
      <div className="results-head">
        <h1>Open alerts</h1>
        {data && <span className="muted">{data.alerts.length} open</span>}
        <button type="button" className="btn btn-small" onClick={() => refetch()} disabled={isFetching}>
          Refresh
        </button>
      </div>
      {error && <ErrorBox error={error} retry={refetch} />}
      {isPending && <Loading label="Loading alerts…" />}
      {data && data.alerts.length === 0 && <Empty>No open alert: every dataset with a policy is fresh and every check passes.</Empty>}
      {data && data.alerts.length > 0 && (
        <ol className="alerts">
          {data.alerts.map((a) => (
            <li key={a.id} className={`alert alert-${a.level.toLowerCase()}`} data-testid="alert">
              <div className="alert-level">
                <Badge tone={a.level === "ERROR" ? "error" : "warn"}>{a.level.toLowerCase()}</Badge>
                <span className="small muted">{a.kind === "FRESHNESS" ? "late data" : "failing check"}</span>
              </div>
              <div className="alert-body">
                <div className="row">
                  <Link to={`/datasets/${a.dataset.id}/${a.kind === "CHECK" ? "quality" : ""}`} className="strong">
                    {a.dataset.name}
                  </Link>
                  <KindBadge kind={a.dataset.kind} />
                  <span className="muted small">{a.dataset.namespace}</span>
                </div>
                {a.kind === "CHECK" ? (
                  <p>{a.message}</p>
                ) : (
                  <p>
                    Last updated <Time iso={a.lastUpdatedAt} />, was due <Time iso={a.expectedBy} />
                    {a.inferred ? <span className="muted small"> (policy learned from its update history)</span> : null}
                  </p>
                )}
              </div>
              <div className="alert-age small" title={`Since ${alertAge(a, now).since}; opened ${a.openedAt}`}>
                {alertAge(a, now).label} <strong>{duration(alertAge(a, now).seconds)}</strong>
              </div>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
