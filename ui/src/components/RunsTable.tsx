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
// The Error column shows only when a run has one; on a narrow screen the
// error moves under the run's state (styles.css) so the table fits.
export function RunsTable({ runs, ended = false }: { runs: readonly RunRow[]; ended?: boolean }) {
  const errors = runs.some((r) => r.errorMessage);
  return (
    <div className="table-wrap">
      <table className="table runs-table">
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Started</th>
            {ended && <th scope="col">Ended</th>}
            <th scope="col">Duration</th>
            {errors && (
              <th scope="col" className="hide-narrow">
                Error
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} data-testid="run-row">
              <td>
                <StatusBadge status={r.state} />
                {r.errorMessage && <div className="small error-text show-narrow run-error">{r.errorMessage}</div>}
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
              {errors && <td className="small error-text hide-narrow run-error">{r.errorMessage}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
