// The lineage graph drawn by React Flow: the cards and edges layout.ts
// places, in a box as tall as the graph needs, zoomed out until the whole
// graph is in it. Each dataset card shows its state (status.ts, read per
// card), a click on a column lights its path, and the overview map of a
// graph too big to show whole sits under the box, never over a card.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useNavigate } from "react-router";
import { useQueries } from "@tanstack/react-query";
import { Background, Controls, MiniMap, ReactFlow, useReactFlow } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { queryOptions } from "../../../api/client";
import { NodeStatusDocument } from "../../../api/generated";
import { columnPath, type G } from "./graph";
import { layout, MAX_ZOOM, MIN_HEIGHT, viewportFor, type Viewport } from "./layout";
import { edgeTypes, HighlightContext, nodeTypes, StatusContext, type Highlight, type StatusOf } from "./nodes";
import { legend } from "./status";

// The cards whose state is read, nearest first: a graph of more shows the
// rest as not known rather than asking for hundreds of datasets.
const MAX_STATUSES = 150;

export function Flow(props: { graph: G; currentId: string; columnLevel: boolean }) {
  const { graph, currentId, columnLevel } = props;
  const navigate = useNavigate();
  const { setViewport, viewportInitialized } = useReactFlow();
  const wrap = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<Viewport | null>(null);
  const laid = useMemo(() => layout(graph, currentId, columnLevel), [graph, currentId, columnLevel]);

  const statuses = useStatuses(laid.nodes.filter((n) => n.type === "dataset").map((n) => n.id));

  // The selected column and its path; a column the graph no longer has
  // selects nothing.
  const [selected, setSelected] = useState<string | null>(null);
  const path = useMemo(() => (selected && graph.nodes.some((n) => n.id === selected) ? columnPath(graph, selected) : null), [graph, selected]);
  const highlight = useMemo<Highlight>(() => {
    const cards = new Set<string>();
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    for (const id of path?.nodes ?? []) cards.add(byId.get(id)?.datasetId ?? id.split("/")[0]);
    return { selected: path ? selected : null, columns: path?.nodes ?? new Set(), cards, select: setSelected };
  }, [graph, path, selected]);
  const edges = useMemo(
    () => (path ? laid.edges.map((e) => ({ ...e, className: `${e.className ?? ""} ${path.edges.has(e.id) ? "lit" : "dim"}` })) : laid.edges),
    [laid.edges, path],
  );

  // Show the whole graph, zoomed out as far as it takes (down to a floor
  // where a wide graph's names are still shapes one can find); the box is
  // as tall as the graph needs, up to most of the window: measured before
  // the browser paints, hence a layout effect.
  const nodes = laid.nodes;
  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el || !nodes.length) return;
    setView(viewportFor(nodes, currentId, el.clientWidth, Math.max(MIN_HEIGHT, Math.round(window.innerHeight * 0.75))));
  }, [nodes, currentId]);
  // The first view is ReactFlow's default viewport; later ones (a node
  // expanded) move it, once it can be moved.
  useEffect(() => {
    if (view && viewportInitialized) void setViewport({ x: view.x, y: view.y, zoom: view.zoom });
  }, [view, viewportInitialized, setViewport]);
  return (
    <StatusContext.Provider value={statuses}>
      <HighlightContext.Provider value={highlight}>
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
              onPaneClick={() => setSelected(null)}
              onNodeClick={(_, n) => {
                const href = (n.data as { href?: string }).href;
                if (href && n.id !== currentId) navigate(href);
              }}
            >
              <Background gap={16} size={1} />
              <Controls showInteractive={false} orientation="horizontal" fitViewOptions={{ padding: 0.05, maxZoom: MAX_ZOOM }} />
            </ReactFlow>
          )}
        </div>
        {/* Outside the box: an overview over the graph would hide cards. */}
        {view && !view.fits && (
          <div className="flow-overview">
            {/* Its colours are given here: React Flow's variables for them are
                defined inside the graph's box only. */}
            <MiniMap
              pannable
              zoomable
              ariaLabel="Overview of the lineage graph"
              position="top-left"
              style={{ width: 220, height: 120 }}
              bgColor="#fff"
              maskColor="rgba(221, 225, 231, 0.55)"
              maskStrokeColor="#2b6cb0"
              maskStrokeWidth={2}
              nodeColor="#9aa6b5"
            />
          </div>
        )}
        <Legend columnLevel={columnLevel} selected={highlight.selected} />
      </HighlightContext.Provider>
    </StatusContext.Provider>
  );
}

// useStatuses reads the state of the datasets on the cards, each on its own
// (cached with the dataset, so a card seen before shows it at once).
function useStatuses(ids: string[]): ReadonlyMap<string, StatusOf> {
  const shown = ids.slice(0, MAX_STATUSES);
  return useQueries({
    queries: shown.map((id) => ({ ...queryOptions(NodeStatusDocument, { id }), staleTime: 30_000 })),
    combine: (results) => {
      const m = new Map<string, StatusOf>();
      for (const r of results) if (r.data?.dataset) m.set(r.data.dataset.id, r.data.dataset);
      return m;
    },
  });
}

function Legend({ columnLevel, selected }: { columnLevel: boolean; selected: string | null }) {
  return (
    <div className="lineage-legend" role="note" aria-label="Legend">
      {legend.map((s) => (
        <span key={s.state} className="legend-item">
          <span className={`lnode-status state-${s.state}`} aria-hidden="true">
            {s.icon}
          </span>
          <span>{s.label}</span>
        </span>
      ))}
      {columnLevel && <span className="legend-item muted">{selected ? "Click the column again or the background to clear." : "Click a column to light its lineage."}</span>}
    </div>
  );
}
