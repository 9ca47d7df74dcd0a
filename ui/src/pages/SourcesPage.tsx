// Sources: the databases Quarry crawls, their last crawl and a button to
// crawl now.
import { useEffect } from "react";
import { queryKey, useMutation, useQuery } from "../api/client";
import { CrawlSourceDocument, SourcesDocument } from "../api/generated";
import { Empty, ErrorBox, Loading, StatusBadge, Time } from "../components/ui";
import { duration } from "../format";
import { useAllows } from "../auth";

export function SourcesPage() {
  useEffect(() => {
    document.title = "Sources · Quarry";
  }, []);
  // While a crawl runs, look again every two seconds.
  const { data, error, isPending, refetch } = useQuery(
    SourcesDocument,
    {},
    { poll: (data) => (data?.sources.some((s) => s.lastRun?.status === "RUNNING") ? 2000 : false) },
  );
  // A crawl, started or refused, shows in the list of sources.
  const crawl = useMutation(CrawlSourceDocument, { invalidates: () => [queryKey(SourcesDocument)] });
  // Crawling (like registering) a source is an admin's.
  const mayCrawl = useAllows("admin");

  return (
    <div className="page">
      <div className="results-head">
        <h1>Sources</h1>
        {data && <span className="muted">{data.sources.length} registered</span>}
      </div>
      {error && <ErrorBox error={error} retry={refetch} />}
      {crawl.error && <ErrorBox error={crawl.error} />}
      {isPending && <Loading label="Loading sources…" />}
      {data && data.sources.length === 0 && (
        <Empty>
          No source is registered. Register one with the <code>registerSource</code> mutation or under <code>sources:</code> in
          the config file; datasets that jobs report need none.
        </Empty>
      )}
      {data && data.sources.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Schedule</th>
                <th scope="col">Last crawl</th>
                <th scope="col">Datasets</th>
                <th scope="col">Changes</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.sources.map((s) => {
                const r = s.lastRun;
                return (
                  <tr key={s.name} data-testid="source-row">
                    <th scope="row">
                      <div className="strong">{s.name}</div>
                      <div className="muted small">
                        {s.kind.toLowerCase()} · {s.namespace}
                      </div>
                      {s.dsnEnv && <div className="muted small">DSN from ${s.dsnEnv}</div>}
                    </th>
                    <td className="small">{s.schedule || <span className="muted">on demand</span>}</td>
                    <td>
                      {r ? (
                        <>
                          <StatusBadge status={r.status} /> <Time iso={r.finishedAt ?? r.startedAt} />
                          {r.duration != null && <div className="small muted">took {duration(r.duration)}</div>}
                          {r.error && <div className="small error-text">{r.error}</div>}
                        </>
                      ) : (
                        <span className="muted">never crawled</span>
                      )}
                    </td>
                    <td>{r ? r.counts.datasets : "–"}</td>
                    <td className="small">
                      {r
                        ? `${r.counts.new} new, ${r.counts.changed} changed, ${r.counts.removed} removed${r.counts.skipped ? `, ${r.counts.skipped} skipped` : ""}`
                        : "–"}
                    </td>
                    <td>
                      {mayCrawl && (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={r?.status === "RUNNING" || crawl.isPending}
                          onClick={() => crawl.mutate({ name: s.name })}
                        >
                          {r?.status === "RUNNING" ? "Crawling…" : "Crawl now"}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
