// How the lineage graph's cards and edges look: React Flow's custom node and
// edge types for what layout.ts places.
import { createContext, memo, useContext } from "react";
import { Link } from "react-router";
import { BaseEdge, EdgeLabelRenderer, Handle, Position, getBezierPath, type Edge, type EdgeProps, type Node, type NodeProps } from "@xyflow/react";
import { shortName } from "./graph";
import { RANK_GAP_COLUMNS, type ColumnEdgeData, type DatasetData, type JobData } from "./layout";

// Expansion is what a dataset card's "+" does: add the card's neighbours
// (expand) and show which cards are being expanded. It reaches the cards
// through context, so the laid-out nodes do not change with it.
export type Expansion = { expand: (id: string) => void; expanding: ReadonlySet<string> };
export const ExpansionContext = createContext<Expansion>({ expand: () => {}, expanding: new Set() });

const DatasetNode = memo(function DatasetNode({ id, data }: NodeProps<Node<DatasetData>>) {
  const { expand, expanding } = useContext(ExpansionContext);
  const busy = expanding.has(id);
  const short = shortName(data.label);
  return (
    <div className={`lnode lnode-dataset${data.current ? " current" : ""}${data.removed ? " removed" : ""}`} data-testid="lineage-dataset" data-name={data.label}>
      <Handle type="target" position={Position.Left} id="in" />
      <div className="lnode-head">
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
            <li key={c}>
              <Handle type="target" position={Position.Left} id={`c:${c}:in`} />
              <span className="lnode-col" title={c}>
                {c}
              </span>
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
