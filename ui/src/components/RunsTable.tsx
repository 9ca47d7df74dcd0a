// A table of a job's runs: state, when, duration and error.
import { duration } from "../format";
import { StatusBadge, Time } from "./ui";

export type RunRow = {
  id: string;
  state: string;
  startedAt?: string | null;
  endedAt?: string | null;
  durationMs?: number | null;
  errorMessage?: string | null;
};

// RunsTable shows runs newest first, as given. With ended, it has a column
// for the end time; without, a run that never started shows its end.
export function RunsTable({ runs, ended = false }: { runs: readonly RunRow[]; ended?: boolean }) {
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Started</th>
            {ended && <th scope="col">Ended</th>}
            <th scope="col">Duration</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} data-testid="run-row">
              <td>
                <StatusBadge status={r.state} />
              </td>
              <td>
                <Time iso={ended ? r.startedAt : (r.startedAt ?? r.endedAt)} />
              </td>
              {ended && (
                <td>
                  <Time iso={r.endedAt} />
                </td>
              )}
              <td>{r.durationMs != null ? duration(r.durationMs / 1000) : "–"}</td>
              <td className="small error-text">{r.errorMessage}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
