// A dataset: what it is, whether to trust it (freshness, checks), and tabs
// for its columns, what dbt says of it, lineage, quality, history and runs.
// An exposure (a dashboard, application or ML model from dbt) has no columns
// or data of its own: its page is its owner, link and upstream lineage.
import { lazy, Suspense, useEffect, useRef, useState, type KeyboardEvent } from "react";
import { Link, NavLink, useParams } from "react-router";
import { useQuery } from "../api/client";
import { DatasetDocument, type DatasetQuery } from "../api/generated";
import {
  Badge,
  CheckBadge,
  Empty,
  ErrorBox,
  FreshnessBadge,
  KindBadge,
  Loading,
  Markdown,
  Time,
} from "../components/ui";
import { absoluteTime, bytes, count } from "../format";
import { ColumnsTab } from "./dataset/ColumnsTab";
import { DbtTab } from "./dataset/DbtTab";
import { PartitionsTab, SqlTab } from "./dataset/DefinitionTab";
import { DbtBadges, DbtFacts, ExposureFacts } from "./dataset/dbt/DbtFacts";
import { isExposure } from "./dataset/dbt/dbt";
import { QualityTab } from "./dataset/QualityTab";
import { HistoryTab } from "./dataset/HistoryTab";
import { ImpactTab } from "./dataset/ImpactTab";
import { RunsTab } from "./dataset/RunsTab";
import { UsageTab } from "./dataset/UsageTab";
import { useUpdateDataset } from "./dataset/useUpdateDataset";
import { useAllows } from "../auth";
import { Breadcrumbs, CopyButton, Deprecation, TrustActions, TrustBadges, UpstreamProblem } from "./dataset/Trust";

// The graph library is the biggest part of the app: load it with its tab.
const LineageTab = lazy(() => import("./dataset/LineageTab"));

export type DatasetT = NonNullable<DatasetQuery["dataset"]>;

const allTabs = [
  ["columns", "Columns"],
  ["sql", "SQL"],
  ["partitions", "Partitions"],
  ["dbt", "dbt"],
  ["lineage", "Lineage"],
  ["impact", "Impact"],
  ["quality", "Quality"],
  ["usage", "Usage"],
  ["history", "History"],
  ["runs", "Runs"],
] as const;

// tabsOf are the tabs a dataset has: dbt's only when a dbt project names it,
// and an exposure's only lineage and history (it has no columns, checks or
// runs); the first is the default.
function tabsOf(d: DatasetT) {
  if (isExposure(d.kind)) return allTabs.filter(([k]) => k === "lineage" || k === "history");
  return allTabs.filter(
    ([k]) =>
      (k !== "dbt" || (d.dbt && d.dbt.resourceType !== "exposure")) &&
      (k !== "sql" || !!d.definition) &&
      (k !== "partitions" || d.partitions.length > 0),
  );
}

// An exposure's lineage opens on everything upstream of it: what the
// dashboard is built from.
const exposureLineage = { direction: "UPSTREAM", depth: 6 } as const;

export function DatasetPage() {
  const { id = "", tab: tabParam } = useParams();
  const { data, error, isPending, isFetching, refetch } = useQuery(DatasetDocument, { id });
  const d = data?.dataset;

  useEffect(() => {
    if (d) document.title = `${d.name} · Quarry`;
  }, [d]);

  if (error) return <ErrorBox error={error} retry={refetch} />;
  if (isPending) return <Loading label="Loading the dataset…" />;
  if (!d)
    return (
      <Empty>
        No dataset has the id <code>{id}</code>. <Link to="/">Search the catalog</Link>.
      </Empty>
    );

  const tabs = tabsOf(d);
  const tab = tabParam ?? tabs[0][0];
  const exposure = isExposure(d.kind);
  return (
    <article className="dataset" aria-busy={isFetching}>
      <Header d={d} />
      <div className="tabs" role="tablist" aria-label="Dataset sections">
        {tabs.map(([key, label]) => (
          <NavLink
            key={key}
            to={`/datasets/${d.id}/${key}`}
            role="tab"
            aria-selected={tab === key}
            className={tab === key ? "tab active" : "tab"}
            replace
          >
            {label}
            {key === "columns" && <span className="tab-count">{d.columns.length}</span>}
          </NavLink>
        ))}
      </div>
      <section className="tab-panel" role="tabpanel" aria-label={tabs.find(([k]) => k === tab)?.[1]}>
        {tab === "columns" && <ColumnsTab d={d} />}
        {tab === "sql" && <SqlTab d={d} />}
        {tab === "partitions" && <PartitionsTab d={d} />}
        {tab === "dbt" && <DbtTab id={d.id} />}
        {tab === "lineage" && (
          <Suspense fallback={<Loading label="Loading the lineage graph…" />}>
            <LineageTab d={d} defaults={exposure ? exposureLineage : undefined} />
          </Suspense>
        )}
        {tab === "impact" && <ImpactTab d={d} />}
        {tab === "quality" && <QualityTab id={d.id} />}
        {tab === "history" && <HistoryTab id={d.id} />}
        {tab === "runs" && <RunsTab id={d.id} />}
        {tab === "usage" && <UsageTab id={d.id} />}
        {!allTabs.some(([k]) => k === tab) && <Empty>No such tab.</Empty>}
      </section>
    </article>
  );
}

function Header({ d }: { d: DatasetT }) {
  const f = d.freshness;
  const h = d.health;
  const parts = d.name.split(".");
  const exposure = isExposure(d.kind);
  return (
    <header className="dataset-header">
      <Breadcrumbs d={d} />
      <div className="title-row">
        <h1 className="dataset-name">
          {parts.length > 1 && <span className="muted">{parts.slice(0, -1).join(".")}.</span>}
          {parts[parts.length - 1]}
        </h1>
        <CopyButton text={d.name} label="Copy name" />
        <CopyButton text={`${d.namespace}/${d.name}`} label="Copy with namespace" />
      </div>
      <div className="dataset-badges">
        <KindBadge kind={d.kind} />
        {!exposure && <FreshnessBadge status={f.status} />}
        {!exposure && <CheckBadge status={h.status} />}
        <TrustBadges d={d} />
        {d.dbt && <DbtBadges dbt={d.dbt} />}
        {d.removedAt && (
          <Badge tone="warn" title={absoluteTime(d.removedAt)}>
            removed
          </Badge>
        )}
        {d.alerts.map((a) => (
          <Badge key={a.id} tone={a.level === "ERROR" ? "error" : "warn"} title={a.message}>
            alert: {a.kind === "FRESHNESS" ? "late data" : "failing check"}
          </Badge>
        ))}
        <UpstreamProblem d={d} />
      </div>
      <Deprecation d={d} />
      <div className="dataset-grid">
        <div className="dataset-main">
          <Description d={d} />
          <div className="people">
            <div>
              <h2 className="label">Owners</h2>
              {d.owners.length ? (
                <ul className="chips" aria-label="Owners">
                  {d.owners.map((o) => (
                    <li key={o}>
                      <Link className="chip" to={`/search?owners=${encodeURIComponent(o)}`} title={`Everything ${o} owns`}>
                        {o}
                      </Link>
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="muted">No owners</span>
              )}
            </div>
            <div>
              <h2 className="label">Tags</h2>
              {d.tags.length ? (
                <ul className="chips" aria-label="Tags">
                  {d.tags.map((t) => (
                    <li key={t}>
                      <Link className="chip" to={`/search?tags=${encodeURIComponent(t)}`}>
                        #{t}
                      </Link>
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="muted">No tags</span>
              )}
            </div>
            <TrustActions d={d} />
          </div>
        </div>
        <dl className="facts">
          {exposure && d.dbt && <ExposureFacts dbt={d.dbt} />}
          {!exposure && <TrustFacts d={d} />}
          {d.rowCount != null && (
            <>
              <dt>Rows</dt>
              <dd>{count(d.rowCount)}</dd>
            </>
          )}
          {(d.sizeBytes != null || d.kind === "VIEW") && (
            <>
              <dt>Size</dt>
              {/* A view stores nothing: its size is no number, not 0 B. */}
              <dd>{d.kind === "VIEW" || d.sizeBytes == null ? "—" : bytes(d.sizeBytes)}</dd>
            </>
          )}
          {!exposure && d.dbt && <DbtFacts dbt={d.dbt} />}
          <dt>Metadata changed</dt>
          <dd>
            <Time iso={d.updatedAt} />
          </dd>
        </dl>
      </div>
    </header>
  );
}

// TrustFacts are whether its data can be trusted: freshness and checks.
function TrustFacts({ d }: { d: DatasetT }) {
  const f = d.freshness;
  const h = d.health;
  return (
    <>
      <dt>Freshness</dt>
      <dd data-testid="freshness">
        <FreshnessBadge status={f.status} />
        <div className="small">
          Last updated: {f.lastUpdatedAt ? <Time iso={f.lastUpdatedAt} /> : <span className="muted">unknown</span>}
        </div>
        {f.expectedBy && (
          <div className="small">
            {f.status === "FRESH" ? "Expected by" : "Was due"} <Time iso={f.expectedBy} />
          </div>
        )}
        <div className="small muted">
          {f.policy
            ? `${f.inferred || f.origin === "INFERRED" ? "Inferred policy" : f.origin === "DEFAULT" ? "Default policy" : f.origin === "DBT" ? "dbt's policy" : "Policy"}: warn after ${f.policy.warnAfter ?? "–"}, error after ${f.policy.errorAfter ?? "–"}`
            : "No freshness policy"}
        </div>
      </dd>
      <dt>Checks</dt>
      <dd>
        {h.checks ? (
          <>
            <CheckBadge status={h.status} />
            <div className="small">
              {h.passing} passing
              {h.warning ? `, ${h.warning} warning` : ""}
              {h.failing ? `, ${h.failing} failing` : ""}
              {h.errored ? `, ${h.errored} errored` : ""}
            </div>
          </>
        ) : (
          <span className="muted">No checks</span>
        )}
      </dd>
    </>
  );
}

function Description({ d }: { d: DatasetT }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(d.description);
  const save = useUpdateDataset();
  const mayEdit = useAllows("editor");
  const area = useRef<HTMLTextAreaElement>(null);
  const editBtn = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (editing) area.current?.focus();
  }, [editing]);

  // Editing starts from the description as it is now.
  const edit = () => {
    setText(d.description);
    save.reset();
    setEditing(true);
  };
  const submit = () => {
    save.mutate(
      { id: d.id, input: { description: text } },
      {
        onSuccess: () => {
          setEditing(false);
          setTimeout(() => editBtn.current?.focus());
        },
      },
    );
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      setEditing(false);
      setTimeout(() => editBtn.current?.focus());
    } else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
    }
  };

  if (editing) {
    return (
      <form
        className="description-edit"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label htmlFor="description" className="label">
          Description (Markdown)
        </label>
        <textarea id="description" ref={area} value={text} rows={6} onChange={(e) => setText(e.target.value)} onKeyDown={onKey} />
        {save.error && <ErrorBox error={save.error} />}
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save"}
          </button>
          <button type="button" className="btn" onClick={() => setEditing(false)}>
            Cancel
          </button>
          <span className="muted small">Ctrl+Enter saves, Esc cancels. Saving it empty shows the provided description again.</span>
        </div>
      </form>
    );
  }
  return (
    <div className="description">
      {d.description ? (
        <Markdown source={d.description} />
      ) : (
        <p className="muted">No description yet.</p>
      )}
      {mayEdit && (
        <button ref={editBtn} type="button" className="btn btn-small" onClick={edit} aria-label="Edit description">
          Edit description
        </button>
      )}
      {d.description !== d.providedDescription && d.providedDescription && (
        <span className="muted small"> Edited; the source says: “{d.providedDescription.slice(0, 80)}”</span>
      )}
    </div>
  );
}
