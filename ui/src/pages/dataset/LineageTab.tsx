// Lineage: an interactive graph (React Flow) around the dataset, laid out in
// layers by dagre, upstream on the left. Jobs sit between the datasets they
// read and write; at column level each dataset is a card of its columns and
// the job that maps them labels the edges between two cards.
// Loaded lazily with its tab: the graph libraries are most of the app.
// The pieces are in lineage/: the data (useLineage), what is read from the
// graph (graph.ts), where things go (layout.ts), how they look (nodes.tsx)
// and the drawing (Flow.tsx), each card's state (status.ts). The options,
// the nodes expanded by hand among them, are in the URL.
import { useCallback, useMemo } from "react";
import { Link, useSearchParams } from "react-router";
import { ReactFlowProvider } from "@xyflow/react";
import type { LineageDirection } from "../../api/generated";
import { Empty, ErrorBox, Loading } from "../../components/ui";
import type { DatasetT } from "../DatasetPage";
import { Flow } from "./lineage/Flow";
import { countCards, neighbours, type G, type Neighbour } from "./lineage/graph";
import { ExpansionContext } from "./lineage/nodes";
import { useLineage } from "./lineage/useLineage";

// Defaults are the options the tab opens with when the URL names none: both
// directions at depth 2, unless the page asks otherwise (an exposure's
// upstream, all of it).
export type Defaults = { direction: LineageDirection; depth: number };
const standard: Defaults = { direction: "BOTH", depth: 2 };

export default function LineageTab({ d, defaults = standard }: { d: DatasetT; defaults?: Defaults }) {
  return (
    <ReactFlowProvider>
      <Lineage d={d} defaults={defaults} />
    </ReactFlowProvider>
  );
}

const directions: readonly LineageDirection[] = ["BOTH", "UPSTREAM", "DOWNSTREAM"];

function Lineage({ d, defaults }: { d: DatasetT; defaults: Defaults }) {
  // The URL holds the options, so a view of the graph can be shared; the
  // defaults are left out of it.
  const [params, setParams] = useSearchParams();
  const depth = Math.min(Math.max(Number(params.get("depth") ?? defaults.depth) || defaults.depth, 1), 6);
  const dir = params.get("dir") as LineageDirection | null;
  const direction = dir && directions.includes(dir) ? dir : defaults.direction;
  const columnLevel = params.get("columns") === "1";
  // The nodes expanded by hand belong to one traced graph: another
  // direction, depth or level starts without them.
  const set = (k: string, v: string | null) => {
    const next = new URLSearchParams(params);
    if (v == null) next.delete(k);
    else next.set(k, v);
    if (k !== "expand") next.delete("expand");
    setParams(next, { replace: true });
  };
  const expandParam = params.get("expand");
  const expanded = useMemo(() => (expandParam ? expandParam.split(",").filter(Boolean) : []), [expandParam]);
  const onExpand = useCallback(
    (ids: string[]) => {
      const next = new URLSearchParams(params);
      if (ids.length) next.set("expand", ids.join(","));
      else next.delete("expand");
      setParams(next, { replace: true });
    },
    [params, setParams],
  );

  const { graph, loading, error, retry, expand, expanding, expandError } = useLineage(d.id, { direction, depth, columnLevel }, expanded, onExpand);
  const expansion = useMemo(() => ({ expand, expanding }), [expand, expanding]);

  return (
    <div className="lineage">
      <div className="toolbar" role="group" aria-label="Lineage options">
        <label>
          Direction{" "}
          <select value={direction} onChange={(e) => set("dir", e.target.value === defaults.direction ? null : e.target.value)}>
            <option value="BOTH">upstream and downstream</option>
            <option value="UPSTREAM">upstream</option>
            <option value="DOWNSTREAM">downstream</option>
          </select>
        </label>
        <label>
          Depth{" "}
          <select value={depth} onChange={(e) => set("depth", e.target.value === String(defaults.depth) ? null : e.target.value)} aria-label="Depth">
            {[1, 2, 3, 4, 5, 6].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={columnLevel} onChange={(e) => set("columns", e.target.checked ? "1" : null)} /> Column level
        </label>
        {expanded.length > 0 && (
          <button type="button" className="lineage-collapse small" onClick={() => onExpand([])}>
            Collapse {expanded.length} expanded
          </button>
        )}
        {graph && (
          <span className="muted small">
            {countCards(graph)} datasets and jobs
            {graph.truncated && " (truncated: the node limit was reached)"}
          </span>
        )}
      </div>
      {error && <ErrorBox error={error} retry={retry} />}
      {expandError && <ErrorBox error={expandError} />}
      {loading && <Loading label="Tracing lineage…" />}
      {graph && graph.edges.length === 0 && (
        <Empty>
          No lineage is known for this dataset {columnLevel ? "at column level " : ""}yet. Jobs report it through OpenLineage or reportRun; views get it from their definition.
        </Empty>
      )}
      {graph && graph.edges.length > 0 && (
        <>
          <ExpansionContext.Provider value={expansion}>
            <Flow graph={graph} currentId={d.id} columnLevel={columnLevel} />
          </ExpansionContext.Provider>
          <Neighbours graph={graph} currentId={d.id} />
        </>
      )}
    </div>
  );
}

// Neighbours lists the direct upstream and downstream datasets as links: the
// graph's content for keyboards, screen readers and narrow windows.
function Neighbours({ graph, currentId }: { graph: G; currentId: string }) {
  const { up, down } = neighbours(graph, currentId);
  const list = (ns: Neighbour[]) =>
    ns.length ? (
      <ul className="list">
        {ns.map((n) => (
          <li key={n.id}>
            <Link to={`/datasets/${n.id}/lineage`}>{n.name}</Link>
          </li>
        ))}
      </ul>
    ) : (
      <p className="muted">none known</p>
    );
  return (
    <div className="neighbours">
      <section>
        <h3>Direct upstream</h3>
        {list(up)}
      </section>
      <section>
        <h3>Direct downstream</h3>
        {list(down)}
      </section>
    </div>
  );
}
