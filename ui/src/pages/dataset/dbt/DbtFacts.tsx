// What the dataset page's header says of a dataset that a dbt project names:
// its badges (deprecated, contract), where it is defined and what dbt says
// of it (facts), and for an exposure its owner, link and maturity.
import type { DbtSummaryFragment } from "../../../api/generated";
import { Badge } from "../../../components/ui";
import { fact, safeHref, splitProperties, type Fact } from "./dbt";

export function DbtBadges({ dbt }: { dbt: DbtSummaryFragment }) {
  const deprecation = fact(dbt.properties, "dbt.deprecation_date");
  return (
    <>
      <Badge tone="info" title={`dbt ${dbt.resourceType} ${dbt.uniqueId}`}>
        dbt {dbt.resourceType}
      </Badge>
      {dbt.deprecated && (
        <Badge tone="warn" title={deprecation ? `Deprecated since ${deprecation}` : "Deprecated"}>
          deprecated
        </Badge>
      )}
      {fact(dbt.properties, "dbt.contract.enforced") === "true" && (
        <Badge tone="ok" title="Its dbt contract is enforced: dbt checks its columns and types at build">
          contract
        </Badge>
      )}
    </>
  );
}

// DbtFacts are the entries of the header's facts list (a <dl>) for a dbt
// model, seed, snapshot or source.
export function DbtFacts({ dbt }: { dbt: DbtSummaryFragment }) {
  const { facts, meta } = splitProperties(dbt.properties);
  const docs = safeHref(dbt.docsUrl);
  return (
    <>
      <dt>dbt</dt>
      <dd data-testid="dbt-facts">
        <div>
          {dbt.resourceType}
          {dbt.materialized ? (
            <>
              {" "}
              materialized as <strong data-testid="materialized">{dbt.materialized}</strong>
            </>
          ) : null}
        </div>
        <Where dbt={dbt} />
        {docs && (
          <div className="small">
            <a href={docs} target="_blank" rel="noopener noreferrer">
              Its dbt docs ↗
            </a>
          </div>
        )}
        <FactList facts={facts} />
      </dd>
      <Meta meta={meta} />
    </>
  );
}

// ExposureFacts are the facts list's entries for an exposure: what it is,
// who owns it, where it is, how mature.
export function ExposureFacts({ dbt }: { dbt: DbtSummaryFragment }) {
  const { facts, meta } = splitProperties(dbt.properties);
  const href = safeHref(dbt.url);
  const docs = safeHref(dbt.docsUrl);
  const ownerName = fact(dbt.properties, "dbt.owner_name");
  const shown = facts.filter((f) => f.key !== "dbt.owner_name" && f.key !== "dbt.maturity");
  const maturity = fact(dbt.properties, "dbt.maturity");
  return (
    <>
      <dt>Owner</dt>
      <dd data-testid="exposure-owner">
        {ownerName || dbt.owners.length ? (
          <>
            {ownerName && <div>{ownerName}</div>}
            {dbt.owners.map((o) => (
              <div key={o} className="small">
                {o.includes("@") ? <a href={`mailto:${o}`}>{o}</a> : o}
              </div>
            ))}
          </>
        ) : (
          <span className="muted">No owner declared</span>
        )}
      </dd>
      <dt>Link</dt>
      <dd data-testid="exposure-url">
        {href ? (
          <a href={href} target="_blank" rel="noopener noreferrer" className="break">
            {dbt.url} ↗
          </a>
        ) : dbt.url ? (
          <span className="mono small">{dbt.url}</span>
        ) : (
          <span className="muted">No link declared</span>
        )}
      </dd>
      <dt>Maturity</dt>
      <dd data-testid="exposure-maturity">{maturity ?? <span className="muted">not declared</span>}</dd>
      <dt>dbt</dt>
      <dd>
        <div>exposure in {dbt.project}</div>
        <Where dbt={dbt} />
        {docs && (
          <div className="small">
            <a href={docs} target="_blank" rel="noopener noreferrer">
              Its dbt docs ↗
            </a>
          </div>
        )}
        <FactList facts={shown} />
      </dd>
      <Meta meta={meta} />
    </>
  );
}

function Where({ dbt }: { dbt: DbtSummaryFragment }) {
  if (!dbt.package && !dbt.path) return null;
  return (
    <div className="small mono break" title="The dbt package and the file that defines it" data-testid="dbt-path">
      {dbt.package}
      {dbt.package && dbt.path ? ": " : ""}
      {dbt.path}
    </div>
  );
}

function FactList({ facts }: { facts: Fact[] }) {
  if (!facts.length) return null;
  return (
    <ul className="kv small" aria-label="What dbt says">
      {facts.map((f) => (
        <li key={f.key} data-key={f.key}>
          <span className="muted">{f.label}</span> {f.value}
        </li>
      ))}
    </ul>
  );
}

// Meta is the rest of the dbt meta: the project's own keys.
function Meta({ meta }: { meta: { key: string; value: string }[] }) {
  if (!meta.length) return null;
  return (
    <>
      <dt>Properties</dt>
      <dd>
        <ul className="kv small" aria-label="Properties" data-testid="dbt-properties">
          {meta.map((p) => (
            <li key={p.key} data-key={p.key}>
              <span className="muted mono">{p.key}</span> {p.value}
            </li>
          ))}
        </ul>
      </dd>
    </>
  );
}
