// How the lineage graph's cards and edges look: React Flow's custom node and
// edge types for what layout.ts places.
import { createContext, memo, useContext } from "react";
import { Link } from "react-router";
import { BaseEdge, EdgeLabelRenderer, Handle, Position, getBezierPath, type Edge, type EdgeProps, type Node, type NodeProps } from "@xyflow/react";
import { shortName } from "./graph";
import { RANK_GAP_COLUMNS, type ColumnEdgeData, type DatasetData, type JobData } from "./layout";
import { describe, nodeStatus, stateOf, type NodeStatus } from "./status";
import type { NodeStatusQuery } from "../../../api/generated";

// Expansion is what a dataset card's "+" does: add the card's neighbours
// (expand) and show which cards are being expanded. It reaches the cards
// through context, so the laid-out nodes do not change with it.
export type Expansion = { expand: (id: string) => void; expanding: ReadonlySet<string> };
export const ExpansionContext = createContext<Expansion>({ expand: () => {}, expanding: new Set() });

// Statuses are the datasets' states as they arrive (by dataset id), apart
// from the layout so that a late answer repaints a card without moving it.
export type StatusOf = NonNullable<NodeStatusQuery["dataset"]>;
export const StatusContext = createContext<ReadonlyMap<string, StatusOf>>(new Map());

// Highlight is the column clicked (its lineage id, <dataset id>/<column>) and
// what its path lights: columns, and the cards they are on. Everything else
// is dimmed while one is selected.
export type Highlight = { selected: string | null; columns: ReadonlySet<string>; cards: ReadonlySet<string>; select: (id: string | null) => void };
export const HighlightContext = createContext<Highlight>({ selected: null, columns: new Set(), cards: new Set(), select: () => {} });

function StatusIcon({ status, title }: { status: NodeStatus; title: string }) {
  return (
    <span className={`lnode-status state-${status.state}`} role="img" aria-label={title} title={title}>
      {status.icon}
    </span>
  );
}

const DatasetNode = memo(function DatasetNode({ id, data }: NodeProps<Node<DatasetData>>) {
  const { expand, expanding } = useContext(ExpansionContext);
  const statuses = useContext(StatusContext);
  const hl = useContext(HighlightContext);
  const busy = expanding.has(id);
  const short = shortName(data.label);
  const known = statuses.get(id);
  // The graph knows a removed dataset before its status arrives.
  const status = !known && data.removed ? stateOf("removed") : nodeStatus(known);
  const dim = hl.selected != null && !hl.cards.has(id);
  return (
    <div
      className={`lnode lnode-dataset state-${status.state}${data.current ? " current" : ""}${data.removed ? " removed" : ""}${dim ? " dim" : ""}`}
      data-testid="lineage-dataset"
      data-name={data.label}
      data-state={status.state}
    >
      <Handle type="target" position={Position.Left} id="in" />
      <div className="lnode-head">
        <StatusIcon status={status} title={`${shortName(data.label)}: ${describe(known)}`} />
        <Link to={data.href} className="lnode-title nodrag" title={data.label}>
          {short}
        </Link>
        {data.expandable && (
          <button
            type="button"
            className="lnode-expand nodrag"
            title="Show this node's neighbours"
            aria-label={`Expand ${data.label}`}
            onClick={(e) => {
              e.stopPropagation();
              expand(id);
            }}
            disabled={busy}
          >
            {busy ? "…" : "+"}
          </button>
        )}
      </div>
      <div className="lnode-sub" title={`${data.namespace} ${data.label}`}>
        {data.label}
      </div>
      {data.columns.length > 0 && (
        <ul className="lnode-columns">
          {data.columns.map((c) => (
            <li key={c} className={hl.selected == null ? undefined : hl.columns.has(`${id}/${c}`) ? "lit" : "dim"}>
              <Handle type="target" position={Position.Left} id={`c:${c}:in`} />
              <button
                type="button"
                className="lnode-col nodrag"
                title={`${c}: click to highlight its lineage`}
                aria-pressed={hl.selected === `${id}/${c}`}
                aria-label={`Column ${short}.${c}`}
                onClick={(e) => {
                  e.stopPropagation();
                  hl.select(hl.selected === `${id}/${c}` ? null : `${id}/${c}`);
                }}
              >
                {c}
              </button>
              <Handle type="source" position={Position.Right} id={`c:${c}:out`} />
            </li>
          ))}
        </ul>
      )}
      <Handle type="source" position={Position.Right} id="out" />
    </div>
  );
});

const JobNode = memo(function JobNode({ data }: NodeProps<Node<JobData>>) {
  return (
    <div className="lnode lnode-job" data-testid="lineage-job" data-name={data.label}>
      <Handle type="target" position={Position.Left} id="in" />
      <span aria-hidden="true">⚙ </span>
      <Link to={data.href} className="nodrag" title={`Job ${data.label}${data.namespace ? ` (${data.namespace})` : ""}`} aria-label={`Job ${data.label}`}>
        {shortName(data.label)}
      </Link>
      <Handle type="source" position={Position.Right} id="out" />
    </div>
  );
});

// The node types layout.ts's nodes name.
export const nodeTypes = { dataset: DatasetNode, job: JobNode };

// ColumnEdge is a column-level edge with what it maps as its tooltip and, on
// one edge into a card, the job as a label (halfway across the gap before the
// card) that links to it.
const ColumnEdge = memo(function ColumnEdge(p: EdgeProps<Edge<ColumnEdgeData>>) {
  const [path] = getBezierPath(p);
  const job = p.data?.job;
  const x = p.targetX - RANK_GAP_COLUMNS / 2;
  const y = p.targetY;
  return (
    <>
      <title>{p.data?.title}</title>
      <BaseEdge id={p.id} path={path} markerEnd={p.markerEnd} style={p.style} interactionWidth={12} />
      {job && (
        <EdgeLabelRenderer>
          <div className="edge-job nodrag nopan" style={{ transform: `translate(-50%, -50%) translate(${x}px, ${y}px)` }} data-testid="lineage-edge-job">
            <Link to={job.href} title={job.title}>
              <span aria-hidden="true">⚙ </span>
              {job.label}
            </Link>
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
});

// The edge types layout.ts's edges name.
export const edgeTypes = { column: ColumnEdge };
