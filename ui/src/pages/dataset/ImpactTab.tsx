// Impact: everything downstream of the dataset, or of one of its columns,
// as a list one can sort, filter and send as CSV before changing it. The
// datasets come from the impact query; the jobs between from the downstream
// lineage graph. The column and the filter are in the URL, to be shared.
import { useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "../../api/client";
import { ImpactDocument, LineageDocument } from "../../api/generated";
import { Empty, ErrorBox, FreshnessBadge, CheckBadge, KindBadge, Loading, Time } from "../../components/ui";
import type { DatasetT } from "../DatasetPage";
import { filterRows, rowsOf, sortRows, toCSV, viaOf, type Sort, type SortKey } from "./impact";

const headers: [SortKey | null, string][] = [
  ["distance", "Distance"],
  ["name", "Dataset"],
  ["kind", "Kind"],
  [null, "Columns"],
  ["owners", "Owners"],
  ["freshness", "Freshness"],
  ["via", "Via job"],
];

export function ImpactTab({ d }: { d: DatasetT }) {
  const [params, setParams] = useSearchParams();
  const column = params.get("column") || null;
  const filter = params.get("q") ?? "";
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const [sort, setSort] = useState<Sort>({ key: "distance", desc: false });

  const impact = useQuery(ImpactDocument, { id: d.id, column });
  const down = useQuery(LineageDocument, { nodeId: column ? `${d.id}/${column}` : d.id, direction: "DOWNSTREAM", depth: 6, columnLevel: !!column });
  const via = useMemo(() => viaOf(down.data?.lineage), [down.data]);
  const all = useMemo(() => rowsOf(impact.data?.impact.datasets ?? [], via), [impact.data, via]);
  const rows = useMemo(() => sortRows(filterRows(all, filter), sort), [all, filter, sort]);

  const download = () => {
    const blob = new Blob([toCSV(rows)], { type: "text/csv;charset=utf-8" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `impact-${d.name}${column ? `.${column}` : ""}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  return (
    <div className="impact stack">
      <div className="toolbar" role="group" aria-label="Impact options">
        <label>
          Of{" "}
          <select aria-label="Impact of" value={column ?? ""} onChange={(e) => set("column", e.target.value)}>
            <option value="">the whole dataset</option>
            {d.columns.map((c) => (
              <option key={c.name} value={c.name}>
                column {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Filter <input type="search" aria-label="Filter impacted datasets" value={filter} onChange={(e) => set("q", e.target.value)} placeholder="name, owner, job…" />
        </label>
        <button type="button" onClick={download} disabled={!rows.length}>
          Export CSV
        </button>
        {impact.data && (
          <span className="muted small" role="status">
            {rows.length === all.length ? `${all.length} downstream` : `${rows.length} of ${all.length} downstream`}
            {impact.data.impact.truncated && " (truncated: the limit was reached)"}
          </span>
        )}
      </div>
      {impact.error && <ErrorBox error={impact.error} retry={impact.refetch} />}
      {impact.isPending && <Loading label="Finding what is downstream…" />}
      {impact.data && all.length === 0 && <Empty>Nothing is known to be downstream of {column ? `column ${column}` : "this dataset"}.</Empty>}
      {all.length > 0 && (
        <div className="table-wrap">
          <table className="table impact-table" aria-label={`Downstream of ${d.name}${column ? `.${column}` : ""}`}>
            <thead>
              <tr>
                {headers.map(([key, label]) => (
                  <th key={label} aria-sort={key && sort.key === key ? (sort.desc ? "descending" : "ascending") : undefined}>
                    {key ? (
                      <button type="button" className="th-sort" onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : false }))}>
                        {label}
                        <span aria-hidden="true">{sort.key === key ? (sort.desc ? " ▾" : " ▴") : ""}</span>
                      </button>
                    ) : (
                      label
                    )}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td className="num">{r.distance}</td>
                  <td>
                    <Link to={`/datasets/${r.id}`}>{r.name}</Link>
                    <div className="muted small">{r.namespace}</div>
                  </td>
                  <td>
                    <KindBadge kind={r.kind} />
                  </td>
                  <td className="mono small">{r.columns.join(", ") || (column ? "" : "—")}</td>
                  <td>{r.owners.join(", ") || <span className="muted">none</span>}</td>
                  <td>
                    <FreshnessBadge status={r.freshness} /> <CheckBadge status={r.checks || null} />
                    <div className="muted small">
                      updated <Time iso={r.lastUpdatedAt} />
                    </div>
                  </td>
                  <td className="small">{r.via.join(", ") || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
