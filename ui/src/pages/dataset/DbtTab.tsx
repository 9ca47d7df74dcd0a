// dbt: what a dbt project says of a model, seed, snapshot or source: its
// code as written and as compiled, its tests with their latest results, and
// the exposures (dashboards, applications, ML models) that read it.
import { useState } from "react";
import { Link } from "react-router";
import { useQuery } from "../../api/client";
import { DatasetDbtDocument, type DatasetDbtQuery } from "../../api/generated";
import { SqlCode } from "../../components/Code";
import { Chips, Empty, ErrorBox, KindBadge, Loading, StatusBadge, Time } from "../../components/ui";
import { count, duration } from "../../format";
import { exposuresOf, sortTests, testSummary } from "./dbt/dbt";

export function DbtTab({ id }: { id: string }) {
  const { data, error, isPending, refetch } = useQuery(DatasetDbtDocument, { id });
  if (error) return <ErrorBox error={error} retry={refetch} />;
  if (isPending) return <Loading label="Loading what dbt says…" />;
  const d = data?.dataset;
  if (!d) return <Empty>Dataset not found.</Empty>;
  if (!d.dbt) return <Empty>No dbt project names this dataset. `quarry import dbt` reads a project's artifacts.</Empty>;
  return <DbtDetails dbt={d.dbt} exposures={exposuresOf(d.downstream)} />;
}

export type DbtT = NonNullable<NonNullable<DatasetDbtQuery["dataset"]>["dbt"]>;
type TestT = DbtT["tests"][number];
type ExposureT = NonNullable<NonNullable<DatasetDbtQuery["dataset"]>["downstream"][number]["toDataset"]>;

// DbtDetails is the tab's content, apart from its query so that it renders
// in a unit test.
export function DbtDetails({ dbt, exposures }: { dbt: DbtT; exposures: ExposureT[] }) {
  const what = dbt.resourceType;
  return (
    <div className="stack dbt">
      <section aria-labelledby="dbt-code">
        <h2 id="dbt-code">Code</h2>
        {dbt.job && (
          <p className="small">
            Built by the job{" "}
            <Link to={`/jobs/${dbt.job.id}`} className="mono" title={`${dbt.job.namespace} ${dbt.job.name}`} data-testid="dbt-job">
              {dbt.job.name}
            </Link>
          </p>
        )}
        <Code dbt={dbt} />
      </section>
      <section aria-labelledby="dbt-tests">
        <h2 id="dbt-tests">
          Tests {dbt.tests.length > 0 && <span className="muted small">{testSummary(dbt.tests)}</span>}
        </h2>
        {dbt.tests.length === 0 ? <Empty>No dbt test covers this {what}.</Empty> : <Tests tests={dbt.tests} />}
      </section>
      <section aria-labelledby="dbt-exposures">
        <h2 id="dbt-exposures">Exposures</h2>
        {exposures.length === 0 ? (
          <Empty>No exposure (dashboard, application or ML model) declares that it uses this {what}.</Empty>
        ) : (
          <ul className="exposures" aria-labelledby="dbt-exposures">
            {exposures.map((e) => (
              <li key={e.id} data-testid="exposure">
                <KindBadge kind={e.kind} />
                <Link to={`/datasets/${e.id}`}>{e.name}</Link>
                <Chips items={e.owners} label={`Owners of ${e.name}`} />
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

// Code shows the code as written (Jinja and all) or as dbt compiled it,
// one at a time, written first.
function Code({ dbt }: { dbt: DbtT }) {
  const versions = [
    ["raw", "Raw", dbt.rawCode],
    ["compiled", "Compiled", dbt.compiledCode],
  ] as const;
  const present = versions.filter(([, , code]) => code);
  const [shown, setShown] = useState<"raw" | "compiled">(present[0]?.[0] ?? "raw");
  if (present.length === 0) {
    return <Empty>dbt keeps no code for this {dbt.resourceType}.</Empty>;
  }
  const language = dbt.language === "python" ? "Python" : "SQL";
  const [key, label, code] = versions.find(([k, , c]) => k === shown && c) ?? present[0];
  return (
    <div>
      <div className="segmented" role="group" aria-label="Which code">
        {versions.map(([k, l, c]) => (
          <button key={k} type="button" className="btn btn-small" aria-pressed={k === key} disabled={!c} onClick={() => setShown(k)} title={c ? undefined : `dbt gave no ${l.toLowerCase()} code`}>
            {l} {language}
          </button>
        ))}
      </div>
      <SqlCode key={key} code={code ?? ""} label={`${label.toLowerCase()} ${language}`} />
    </div>
  );
}

function Tests({ tests }: { tests: TestT[] }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="dbt-tests">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Test</th>
            <th scope="col">Type</th>
            <th scope="col">Column</th>
            <th scope="col">Severity</th>
            <th scope="col">Failures</th>
            <th scope="col">Message</th>
            <th scope="col">When</th>
            <th scope="col">Took</th>
          </tr>
        </thead>
        <tbody>
          {sortTests(tests).map((t) => {
            const r = t.latest;
            return (
              <tr key={t.uniqueId} data-testid="dbt-test" data-name={t.name}>
                <td>{r ? <StatusBadge status={r.status} /> : <span className="muted small">not run</span>}</td>
                <th scope="row" className="small test-name">
                  <span className="mono">{t.name}</span>
                  {t.description && <div className="muted small">{t.description}</div>}
                </th>
                <td className="small test-type">{t.type}</td>
                <td className="mono small">{t.column ?? <span className="muted">–</span>}</td>
                <td className="small">{t.severity?.toLowerCase() ?? <span className="muted">–</span>}</td>
                <td className="small num">{r?.failures != null ? count(r.failures) : <span className="muted">–</span>}</td>
                <td className="small test-message">{r?.message || <span className="muted">–</span>}</td>
                <td className="small nowrap">{r ? <Time iso={r.observedAt} /> : <span className="muted">–</span>}</td>
                <td className="small num nowrap">{r?.executionTime != null ? duration(r.executionTime) : <span className="muted">–</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
