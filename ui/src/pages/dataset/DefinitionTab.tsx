// A view's or materialized view's SQL, as the crawl read it from the
// catalog, and a partitioned table's partitions: what the API returned but
// no page showed.
import { useState } from "react";
import { SqlCode } from "../../components/Code";
import { Empty } from "../../components/ui";
import { kindLabel } from "../../format";
import type { DatasetT } from "../DatasetPage";

export function SqlTab({ d }: { d: DatasetT }) {
  if (!d.definition) return <Empty>The crawl read no SQL for this {kindLabel(d.kind)}.</Empty>;
  return (
    <section className="card sql-view" aria-label="Definition">
      <h2>Definition</h2>
      <p className="muted small">The {kindLabel(d.kind)}'s query as the database's catalog holds it.</p>
      <SqlCode code={d.definition} label={`${kindLabel(d.kind)} SQL`} />
    </section>
  );
}

// FIRST is how many partitions show before "Show all" (a table may have
// thousands: one a day for years).
const FIRST = 200;

export function PartitionsTab({ d }: { d: DatasetT }) {
  const [all, setAll] = useState(false);
  const [filter, setFilter] = useState("");
  if (!d.partitions.length) return <Empty>This table has no partitions.</Empty>;
  const f = filter.trim().toLowerCase();
  const matching = d.partitions.filter((p) => !f || p.toLowerCase().includes(f));
  const shown = all ? matching : matching.slice(0, FIRST);
  return (
    <section className="card" aria-label="Partitions">
      <div className="toolbar">
        <h2>Partitions</h2>
        <input
          type="search"
          className="filter"
          placeholder="Filter partitions"
          aria-label="Filter partitions"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <span className="muted small">
          {matching.length} of {d.partitions.length} partitions
        </span>
      </div>
      <p className="muted small">Each is a table of its own in the database, catalogued as part of this one.</p>
      <ul className="partitions">
        {shown.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
      {shown.length < matching.length && (
        <button type="button" className="btn btn-small" onClick={() => setAll(true)}>
          Show all {matching.length}
        </button>
      )}
    </section>
  );
}
