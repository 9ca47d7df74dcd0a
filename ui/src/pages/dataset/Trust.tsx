// Whether to trust a dataset at a glance: the header's breadcrumbs and copy
// buttons, its deprecation and endorsement, the nearest problem upstream,
// and the editors' controls that set deprecation and endorsement. Search
// results show the deprecation and its replacement too (DeprecatedHit).
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useMutation } from "../../api/client";
import {
  DeprecateDatasetDocument,
  EndorseDatasetDocument,
  UndeprecateDatasetDocument,
  UnendorseDatasetDocument,
  type DatasetTrustFragment,
  type DatasetSummaryFragment,
} from "../../api/generated";
import { absoluteTime } from "../../format";
import { ErrorBox, Time } from "../../components/ui";
import { useAllows } from "../../auth";
import { editShows } from "./useUpdateDataset";

type Named = { id: string; namespace: string; name: string; source?: string | null };

// place is where a dataset lives: its database and schema as its crawler
// says, else as a three-part name (db.schema.table) says.
export function place(d: Named & Pick<DatasetTrustFragment, "database" | "schema">) {
  const parts = d.name.split(".");
  if (d.database) return { database: d.database, schema: d.schema ?? undefined };
  if (parts.length >= 3) return { database: parts[0], schema: parts[1] };
  return {};
}

// Breadcrumbs link to the search for everything in the same source,
// database and schema.
export function Breadcrumbs({ d }: { d: Named & Pick<DatasetTrustFragment, "database" | "schema"> }) {
  const { database, schema } = place(d);
  const q = new URLSearchParams({ namespace: d.namespace });
  const crumbs: { label: string; title: string; to: string }[] = [
    { label: d.source || d.namespace, title: d.namespace, to: `/search?${q}` },
  ];
  if (database) {
    q.append("database", database);
    crumbs.push({ label: database, title: `database ${database}`, to: `/search?${q}` });
    if (schema) {
      q.append("schema", schema);
      crumbs.push({ label: schema, title: `schema ${schema}`, to: `/search?${q}` });
    }
  }
  return (
    <nav className="crumbs small" aria-label="Breadcrumbs">
      <ol>
        {crumbs.map((c) => (
          <li key={c.to}>
            <Link to={c.to} title={c.title}>
              {c.label}
            </Link>
          </li>
        ))}
      </ol>
      {d.source && <span className="namespace muted">{d.namespace}</span>}
    </nav>
  );
}

// CopyButton copies a text to the clipboard and says so for a moment.
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard (an insecure origin): select-and-copy by hand.
      const t = document.createElement("textarea");
      t.value = text;
      document.body.appendChild(t);
      t.select();
      document.execCommand("copy");
      t.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return (
    <button type="button" className="btn btn-small copy-btn" onClick={copy} title={text}>
      {done ? "Copied" : label}
    </button>
  );
}

type Problem = DatasetTrustFragment["upstreamProblems"][number];

function short(name: string) {
  return name.slice(name.lastIndexOf(".") + 1);
}

// problemText says what a problem is, naming what it is about.
export function problemText(p: Problem) {
  const on = short(p.dataset.name);
  switch (p.kind) {
    case "CHECK_FAILING":
      return `check ${p.check}${p.column ? ` (${p.column})` : ""} ${p.level === "WARN" ? "warns" : "fails"} on ${on}`;
    case "LATE":
      return `${on} is late`;
    case "RUN_FAILED":
      return `last run of ${p.job ? short(p.job.name) : "its job"} failed`;
    case "REMOVED":
      return `${on} was removed`;
    case "DEPRECATED":
      return `${on} is deprecated`;
  }
  return p.message;
}

function problemLink(p: Problem) {
  if (p.kind === "RUN_FAILED" && p.job) return `/jobs/${p.job.id}`;
  if (p.kind === "CHECK_FAILING") return `/datasets/${p.dataset.id}/quality`;
  return `/datasets/${p.dataset.id}`;
}

// UpstreamProblem names the nearest (then worst) problem upstream, linked
// to where it can be seen; the others are counted, the lineage tab shows
// where they are.
export function UpstreamProblem({ d }: { d: { id: string } & Pick<DatasetTrustFragment, "upstreamProblems"> }) {
  const ps = d.upstreamProblems;
  if (ps.length === 0) return null;
  const p = ps[0];
  const path = p.path.map((s) => short(s.name)).join(" → ");
  const hops = p.distance === 1 ? "a direct input" : `${p.distance} hops up`;
  return (
    <span className="upstream-problem" data-testid="upstream-problem">
      <Link
        className={`badge badge-${p.level === "WARN" || !p.level ? "warn" : "error"}`}
        to={problemLink(p)}
        title={`${p.message}\n${path}`}
      >
        upstream problem: {problemText(p)}
      </Link>
      <span className="muted small">
        {" "}
        ({hops}
        {ps.length > 1 && (
          <>
            ; <Link to={`/datasets/${d.id}/lineage`}>{ps.length - 1} more</Link>
          </>
        )}
        )
      </span>
    </span>
  );
}

// TrustBadges are the deprecated and endorsed badges.
export function TrustBadges({ d }: { d: Pick<DatasetTrustFragment, "deprecated" | "endorsed"> }) {
  return (
    <>
      {d.deprecated && (
        <span className="badge badge-error" title={`Deprecated ${absoluteTime(d.deprecated.at)}${d.deprecated.note ? `: ${d.deprecated.note}` : ""}`}>
          deprecated
        </span>
      )}
      {d.endorsed && (
        <span className="badge badge-ok" title={`Endorsed by ${d.endorsed.by} ${absoluteTime(d.endorsed.at)}${d.endorsed.note ? `: ${d.endorsed.note}` : ""}`}>
          ✓ endorsed by {d.endorsed.by}
        </span>
      )}
    </>
  );
}

// Deprecation is the one line that says what to use instead.
export function Deprecation({ d }: { d: Pick<DatasetTrustFragment, "deprecated"> }) {
  const dep = d.deprecated;
  if (!dep) return null;
  return (
    <p className="deprecation" role="note">
      <strong>Deprecated</strong> {dep.at && <Time iso={dep.at} />}
      {dep.fromDbt ? " in dbt" : dep.by ? ` by ${dep.by}` : ""}
      {dep.note ? `: ${dep.note}` : "."}{" "}
      {dep.replacement && (
        <>
          Use{" "}
          <Link to={`/datasets/${dep.replacement.id}`} aria-label={`Replacement: ${dep.replacement.name}`}>
            {dep.replacement.name}
          </Link>{" "}
          instead.
        </>
      )}
    </p>
  );
}

// DeprecatedHit is a search result's deprecation, with its replacement.
export function DeprecatedHit({ d }: { d: DatasetSummaryFragment }) {
  const dep = d.deprecated;
  if (!dep) return null;
  return (
    <span className="hit-deprecated small">
      <span className="badge badge-error" title={dep.note || undefined}>
        deprecated
      </span>
      {dep.replacement && (
        <>
          {" "}
          use{" "}
          <Link to={`/datasets/${dep.replacement.id}`} aria-label={`Replacement: ${dep.replacement.name}`}>
            {dep.replacement.name}
          </Link>
        </>
      )}
    </span>
  );
}

// replacementID reads a dataset ID, or the ID in a dataset page's URL.
function replacementID(s: string) {
  const m = s.match(/datasets\/([0-9a-f-]{36})/i);
  return (m ? m[1] : s).trim();
}

// TrustActions are the editors' controls: endorse or withdraw, deprecate
// (with a note and a replacement) or make it live again.
export function TrustActions({ d }: { d: { id: string } & Pick<DatasetTrustFragment, "deprecated" | "endorsed"> }) {
  const mayEdit = useAllows("editor");
  const invalidates = () => editShows(d.id);
  const endorse = useMutation(EndorseDatasetDocument, { invalidates });
  const unendorse = useMutation(UnendorseDatasetDocument, { invalidates });
  const deprecate = useMutation(DeprecateDatasetDocument, { invalidates });
  const undeprecate = useMutation(UndeprecateDatasetDocument, { invalidates });
  const [form, setForm] = useState<"" | "endorse" | "deprecate">("");
  const [note, setNote] = useState("");
  const [replacement, setReplacement] = useState("");
  if (!mayEdit) return null;
  const error = endorse.error ?? unendorse.error ?? deprecate.error ?? undeprecate.error;
  const open = (f: "endorse" | "deprecate") => {
    setNote("");
    setReplacement("");
    setForm(f);
  };
  const done = { onSuccess: () => setForm("") };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form === "endorse") endorse.mutate({ id: d.id, note: note || null }, done);
    else deprecate.mutate({ id: d.id, input: { note: note || null, replacementId: replacement ? replacementID(replacement) : null } }, done);
  };
  return (
    <div className="trust-actions">
      {d.endorsed ? (
        <button type="button" className="btn btn-small" onClick={() => unendorse.mutate({ id: d.id })}>
          Withdraw endorsement
        </button>
      ) : (
        <button type="button" className="btn btn-small" onClick={() => open("endorse")} aria-expanded={form === "endorse"}>
          Endorse
        </button>
      )}
      {d.deprecated ? (
        <button type="button" className="btn btn-small" onClick={() => undeprecate.mutate({ id: d.id })}>
          Undeprecate
        </button>
      ) : (
        <button type="button" className="btn btn-small" onClick={() => open("deprecate")} aria-expanded={form === "deprecate"}>
          Deprecate
        </button>
      )}
      {form && (
        <form className="trust-form" onSubmit={submit} aria-label={form === "endorse" ? "Endorse" : "Deprecate"}>
          <label>
            {form === "endorse" ? "Why (optional)" : "Note"}
            <input type="text" value={note} onChange={(e) => setNote(e.target.value)} autoFocus />
          </label>
          {form === "deprecate" && (
            <label>
              Replacement (dataset ID or page URL)
              <input type="text" value={replacement} onChange={(e) => setReplacement(e.target.value)} />
            </label>
          )}
          <button type="submit" className="btn btn-small btn-primary">
            {form === "endorse" ? "Save endorsement" : "Save deprecation"}
          </button>
          <button type="button" className="btn btn-small" onClick={() => setForm("")}>
            Cancel
          </button>
        </form>
      )}
      {error && <ErrorBox error={error} />}
    </div>
  );
}
