// Lineage: an interactive graph (React Flow) around the dataset, laid out in
// layers by dagre, upstream on the left. Jobs sit between the datasets they
// read and write; at column level each dataset is a card of its columns and
// the job that maps them labels the edges between two cards.
// Loaded lazily with its tab: the graph libraries are most of the app.
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import {
  Background,
  BaseEdge,
  Controls,
  EdgeLabelRenderer,
  Handle,
  MiniMap,
  Position,
  ReactFlow,
  ReactFlowProvider,
  getBezierPath,
  useReactFlow,
  type Edge,
  type EdgeProps,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import dagre from "@dagrejs/dagre";
import { request, useQuery, ApiError } from "../../api/client";
import { LineageDocument, type LineageDirection, type LineageQuery } from "../../api/generated";
import { Empty, ErrorBox, Loading } from "../../components/ui";
import type { DatasetT } from "../DatasetPage";

type G = LineageQuery["lineage"];
type LNode = G["nodes"][number];
type LEdge = G["edges"][number];

type DatasetData = {
  label: string;
  namespace: string;
  current: boolean;
  removed: boolean;
  expandable: boolean;
  expanding: boolean;
  columns: string[];
  onExpand: (id: string) => void;
  href: string;
};
type JobData = { label: string; namespace: string; href: string };
// A column-level edge: what it maps, and on the middle one of the edges a job
// draws into a card, that job.
type ColumnEdgeData = { title: string; job?: { label: string; title: string; href: string }; row: number };

// Compact cards and gaps, so that a few hops fit the window at a zoom whose
// text can be read; column level leaves room between the cards for job labels.
const DATASET_W = 200;
const DATASET_H = 54;
const JOB_W = 124;
const JOB_H = 30;
const ROW_H = 22;
const RANK_GAP = 34;
const RANK_GAP_COLUMNS = 150;
const MIN_READABLE_ZOOM = 0.65;
const MAX_ZOOM = 1;
const PAD = 20;
// Room below the graph for the zoom buttons.
const PAD_BOTTOM = 44;
const MIN_HEIGHT = 300;

export default function LineageTab({ d }: { d: DatasetT }) {
  return (
    <ReactFlowProvider>
      <Lineage d={d} />
    </ReactFlowProvider>
  );
}

function Lineage({ d }: { d: DatasetT }) {
  const [params, setParams] = useSearchParams();
  const depth = Math.min(Math.max(Number(params.get("depth") ?? 2) || 2, 1), 6);
  const direction = (["BOTH", "UPSTREAM", "DOWNSTREAM"].includes(params.get("dir") ?? "") ? params.get("dir") : "BOTH") as LineageDirection;
  const columnLevel = params.get("columns") === "1";
  const set = (k: string, v: string | null) => {
    const next = new URLSearchParams(params);
    if (v == null) next.delete(k);
    else next.set(k, v);
    setParams(next, { replace: true });
  };

  const { data, error, isPending: loading, refetch } = useQuery(LineageDocument, { nodeId: d.id, direction, depth, columnLevel });
  // Nodes expanded by hand, merged into the graph.
  const [extra, setExtra] = useState<G[]>([]);
  const [expanding, setExpanding] = useState<string | null>(null);
  const [expandError, setExpandError] = useState<ApiError | null>(null);
  useEffect(() => setExtra([]), [d.id, direction, depth, columnLevel]);

  const expand = useCallback(
    (id: string) => {
      setExpanding(id);
      setExpandError(null);
      request(LineageDocument, { nodeId: id, direction: "BOTH", depth: 1, columnLevel }).then(
        (r) => {
          setExtra((x) => [...x, r.lineage]);
          setExpanding(null);
        },
        (e) => {
          setExpandError(e instanceof ApiError ? e : new ApiError(String(e)));
          setExpanding(null);
        },
      );
    },
    [columnLevel],
  );

  const graph = useMemo(() => (data ? merge([data.lineage, ...extra]) : null), [data, extra]);

  return (
    <div className="lineage">
      <div className="toolbar" role="group" aria-label="Lineage options">
        <label>
          Direction{" "}
          <select value={direction} onChange={(e) => set("dir", e.target.value === "BOTH" ? null : e.target.value)}>
            <option value="BOTH">upstream and downstream</option>
            <option value="UPSTREAM">upstream</option>
            <option value="DOWNSTREAM">downstream</option>
          </select>
        </label>
        <label>
          Depth{" "}
          <select value={depth} onChange={(e) => set("depth", e.target.value === "2" ? null : e.target.value)} aria-label="Depth">
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
        {graph && (
          <span className="muted small">
            {new Set(graph.nodes.map((n) => (n.kind === "COLUMN" ? n.datasetId : n.id))).size} datasets and jobs
            {graph.truncated && " (truncated: the node limit was reached)"}
          </span>
        )}
      </div>
      {error && <ErrorBox error={error} retry={refetch} />}
      {expandError && <ErrorBox error={expandError} />}
      {!graph && loading && <Loading label="Tracing lineage…" />}
      {graph && graph.edges.length === 0 && (
        <Empty>
          No lineage is known for this dataset {columnLevel ? "at column level " : ""}yet. Jobs report it through OpenLineage or reportRun; views get it from their definition.
        </Empty>
      )}
      {graph && graph.edges.length > 0 && (
        <>
          <Flow graph={graph} currentId={d.id} columnLevel={columnLevel} expand={expand} expanding={expanding} />
          <Neighbours graph={graph} currentId={d.id} />
        </>
      )}
    </div>
  );
}

function merge(graphs: G[]): G {
  const nodes = new Map<string, LNode>();
  const edges = new Map<string, LEdge>();
  let truncated = false;
  for (const g of graphs) {
    truncated ||= g.truncated;
    for (const n of g.nodes) if (!nodes.has(n.id)) nodes.set(n.id, n);
    for (const e of g.edges) edges.set(`${e.from}>${e.to}>${e.job?.id ?? ""}`, e);
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()], truncated };
}

// datasetOf maps a lineage node id to its dataset card and handle.
function endpoint(id: string, byId: Map<string, LNode>): { node: string; handle?: string } {
  const n = byId.get(id);
  if (n?.kind === "COLUMN" && n.datasetId) return { node: n.datasetId, handle: `c:${n.column}` };
  const slash = id.indexOf("/");
  if (!n && slash > 0) return { node: id.slice(0, slash), handle: `c:${id.slice(slash + 1)}` };
  return { node: id };
}

function layout(graph: G, currentId: string, columnLevel: boolean, expand: (id: string) => void, expanding: string | null) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  // Cards: datasets (with their columns at column level) and jobs.
  const cards = new Map<string, { kind: "DATASET" | "JOB"; name: string; namespace: string; removed: boolean; degree: number; columns: Set<string> }>();
  for (const n of graph.nodes) {
    const key = n.kind === "COLUMN" ? (n.datasetId ?? n.id) : n.id;
    const c = cards.get(key) ?? {
      kind: n.kind === "JOB" ? "JOB" : "DATASET",
      name: n.name,
      namespace: n.namespace,
      removed: n.removed,
      degree: 0,
      columns: new Set<string>(),
    };
    if (n.kind === "COLUMN" && n.column) c.columns.add(n.column);
    if (n.kind !== "COLUMN") c.degree = n.degree;
    cards.set(key, c);
  }
  // At column level jobs are not nodes: the edges name them.
  const seen = new Map<string, number>();
  const flowEdges: Edge[] = [];
  const bundles = new Map<string, Edge<ColumnEdgeData>[]>();
  for (const e of graph.edges) {
    const from = endpoint(e.from, byId);
    const to = endpoint(e.to, byId);
    for (const ep of [from, to]) {
      if (!cards.has(ep.node)) cards.set(ep.node, { kind: "DATASET", name: ep.node, namespace: "", removed: false, degree: 0, columns: new Set() });
      if (ep.handle) cards.get(ep.node)!.columns.add(ep.handle.slice(2));
    }
    const id = `${e.from}>${e.to}>${e.job?.id ?? ""}`;
    const indirect = e.transformation?.startsWith("INDIRECT");
    const edge: Edge = {
      id,
      source: from.node,
      target: to.node,
      sourceHandle: from.handle ? `${from.handle}:out` : "out",
      targetHandle: to.handle ? `${to.handle}:in` : "in",
      className: `edge-${e.origin.toLowerCase()}${indirect ? " edge-indirect" : ""}`,
    };
    if (columnLevel) {
      const what = `${columnOf(from, cards)} → ${columnOf(to, cards)}`;
      const how = e.transformation ? ` (${e.transformation.toLowerCase()})` : "";
      const by = e.job ? `by job ${e.job.name} (${e.job.namespace})` : e.origin === "CATALOG" ? "from the view's definition" : "declared by hand";
      const row = to.handle ? [...cards.get(to.node)!.columns].sort().indexOf(to.handle.slice(2)) : -1;
      const ce = { ...edge, type: "column", data: { title: `${what}${how}, ${by}`, row } } satisfies Edge<ColumnEdgeData>;
      if (e.job) {
        const key = `${to.node}>${e.job.id}`;
        bundles.set(key, [...(bundles.get(key) ?? []), ce]);
      }
      flowEdges.push(ce);
    } else {
      flowEdges.push(edge);
    }
    seen.set(from.node, (seen.get(from.node) ?? 0) + 1);
    seen.set(to.node, (seen.get(to.node) ?? 0) + 1);
  }

  // One label per job and card it writes, on its middle edge into the card.
  for (const [key, es] of bundles) {
    const job = graph.edges.find((e) => e.job && key.endsWith(`>${e.job.id}`))!.job!;
    es.sort((a, b) => a.data!.row - b.data!.row);
    const mid = es[Math.floor((es.length - 1) / 2)];
    mid.data = { ...mid.data!, job: { label: shortName(job.name), title: `Job ${job.name} (${job.namespace})`, href: `/jobs/${job.id}` } };
  }

  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: columnLevel ? RANK_GAP_COLUMNS : RANK_GAP, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  const sizes = new Map<string, [number, number]>();
  for (const [id, c] of cards) {
    const size: [number, number] =
      c.kind === "JOB" ? [JOB_W, JOB_H] : columnLevel ? [DATASET_W, DATASET_H + c.columns.size * ROW_H] : [DATASET_W, DATASET_H];
    sizes.set(id, size);
    g.setNode(id, { width: size[0], height: size[1] });
  }
  for (const e of flowEdges) g.setEdge(e.source, e.target);
  dagre.layout(g);

  const nodes: Node[] = [];
  for (const [id, c] of cards) {
    const p = g.node(id);
    const [w, h] = sizes.get(id)!;
    const position = { x: p.x - w / 2, y: p.y - h / 2 };
    if (c.kind === "JOB") {
      nodes.push({ id, type: "job", position, data: { label: c.name, namespace: c.namespace, href: `/jobs/${id}` } satisfies JobData, width: w, height: h });
    } else {
      nodes.push({
        id,
        type: "dataset",
        position,
        width: w,
        height: h,
        data: {
          label: c.name,
          namespace: c.namespace,
          current: id === currentId,
          removed: c.removed,
          expandable: !columnLevel && c.degree > (seen.get(id) ?? 0),
          expanding: expanding === id,
          columns: columnLevel ? [...c.columns].sort() : [],
          onExpand: expand,
          href: `/datasets/${id}/lineage`,
        } satisfies DatasetData,
      });
    }
  }
  return { nodes, edges: flowEdges };
}

const DatasetNode = memo(function DatasetNode({ id, data }: NodeProps<Node<DatasetData>>) {
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
              data.onExpand(id);
            }}
            disabled={data.expanding}
          >
            {data.expanding ? "…" : "+"}
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

const nodeTypes = { dataset: DatasetNode, job: JobNode };

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

const edgeTypes = { column: ColumnEdge };

function columnOf(ep: { node: string; handle?: string }, cards: Map<string, { name: string }>) {
  const name = shortName(cards.get(ep.node)?.name ?? ep.node);
  return ep.handle ? `${name}.${ep.handle.slice(2)}` : name;
}

// shortName is a table's name without its database and schema, or a file's
// name without its directory.
function shortName(name: string) {
  const slash = name.lastIndexOf("/");
  if (slash >= 0) return name.slice(slash + 1) || name;
  return name.slice(name.lastIndexOf(".") + 1) || name;
}

function Flow(props: { graph: G; currentId: string; columnLevel: boolean; expand: (id: string) => void; expanding: string | null }) {
  const navigate = useNavigate();
  const { setViewport, viewportInitialized } = useReactFlow();
  const wrap = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<ReturnType<typeof viewportFor> | null>(null);
  const { nodes, edges } = useMemo(
    () => layout(props.graph, props.currentId, props.columnLevel, props.expand, props.expanding),
    [props.graph, props.currentId, props.columnLevel, props.expand, props.expanding],
  );
  // Show the whole graph if it fits at a readable zoom; a bigger one is shown
  // at that zoom around the current dataset, and one pans to the rest. The
  // box is as tall as the graph needs, up to most of the window.
  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el || !nodes.length) return;
    setView(viewportFor(nodes, props.currentId, el.clientWidth, Math.max(MIN_HEIGHT, Math.round(window.innerHeight * 0.7))));
  }, [nodes, props.currentId]);
  // The first view is ReactFlow's default viewport; later ones (a node
  // expanded) move it, once it can be moved.
  useEffect(() => {
    if (view && viewportInitialized) void setViewport({ x: view.x, y: view.y, zoom: view.zoom });
  }, [view, viewportInitialized, setViewport]);
  return (
    <div className="flow" data-testid="lineage-graph" ref={wrap} style={view ? { height: view.height } : undefined}>
      {view && (
        <ReactFlow
          defaultViewport={{ x: view.x, y: view.y, zoom: view.zoom }}
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          minZoom={0.1}
          maxZoom={2}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable
          proOptions={{ hideAttribution: true }}
          onNodeClick={(_, n) => {
            const href = (n.data as { href?: string }).href;
            if (href && n.id !== props.currentId) navigate(href);
          }}
        >
          <Background gap={16} size={1} />
          <Controls showInteractive={false} orientation="horizontal" fitViewOptions={{ padding: 0.05, maxZoom: MAX_ZOOM }} />
          {!view.fits && <MiniMap pannable zoomable ariaLabel="Overview of the lineage graph" />}
        </ReactFlow>
      )}
    </div>
  );
}

// viewportFor places laid-out nodes in a box width wide and at most maxHeight
// tall: the zoom that fits them all, but never below MIN_READABLE_ZOOM, then
// centred on the current node and moved so that no side of the graph leaves
// empty space it could fill.
function viewportFor(nodes: Node[], currentId: string, width: number, maxHeight: number) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const n of nodes) {
    minX = Math.min(minX, n.position.x);
    minY = Math.min(minY, n.position.y);
    maxX = Math.max(maxX, n.position.x + (n.width ?? 0));
    maxY = Math.max(maxY, n.position.y + (n.height ?? 0));
  }
  const fit = Math.min(MAX_ZOOM, (width - 2 * PAD) / (maxX - minX), (maxHeight - PAD - PAD_BOTTOM) / (maxY - minY));
  const zoom = Math.max(fit, MIN_READABLE_ZOOM);
  const height = Math.min(maxHeight, Math.max(MIN_HEIGHT, Math.ceil((maxY - minY) * zoom + PAD + PAD_BOTTOM)));
  const cur = nodes.find((n) => n.id === currentId);
  const cx = cur ? cur.position.x + (cur.width ?? 0) / 2 : (minX + maxX) / 2;
  const cy = cur ? cur.position.y + (cur.height ?? 0) / 2 : (minY + maxY) / 2;
  // Between lo and hi every side is in view or beyond it; when lo > hi the
  // graph is smaller than the box and is centred.
  const place = (size: number, c: number, lo0: number, hi0: number, padEnd: number) => {
    const lo = size - padEnd - hi0 * zoom;
    const hi = PAD - lo0 * zoom;
    return lo >= hi ? (lo + hi) / 2 : Math.min(hi, Math.max(lo, size / 2 - c * zoom));
  };
  return { x: place(width, cx, minX, maxX, PAD), y: place(height, cy, minY, maxY, PAD_BOTTOM), zoom, height, fits: fit >= MIN_READABLE_ZOOM };
}

// Neighbours lists the direct upstream and downstream datasets as links: the
// graph's content for keyboards, screen readers and narrow windows.
function Neighbours({ graph, currentId }: { graph: G; currentId: string }) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const ds = (id: string) => endpoint(id, byId).node;
  const up = new Set<string>();
  const down = new Set<string>();
  // Follow one hop through a job.
  const into = (target: string) => graph.edges.filter((e) => ds(e.to) === target).map((e) => ds(e.from));
  const outOf = (source: string) => graph.edges.filter((e) => ds(e.from) === source).map((e) => ds(e.to));
  for (const s of into(currentId)) (byId.get(s)?.kind === "JOB" ? into(s) : [s]).forEach((x) => x !== currentId && up.add(x));
  for (const t of outOf(currentId)) (byId.get(t)?.kind === "JOB" ? outOf(t) : [t]).forEach((x) => x !== currentId && down.add(x));
  const name = (id: string) => byId.get(id)?.name ?? graph.nodes.find((n) => n.datasetId === id)?.name ?? id;
  const list = (ids: Set<string>) =>
    ids.size ? (
      <ul className="list">
        {[...ids].map((id) => (
          <li key={id}>
            <Link to={`/datasets/${id}/lineage`}>{name(id)}</Link>
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
