// The lineage graph drawn by React Flow: the cards and edges layout.ts
// places, in a box as tall as the graph needs, at a zoom one can read.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useNavigate } from "react-router";
import { Background, Controls, MiniMap, ReactFlow, useReactFlow } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import type { G } from "./graph";
import { layout, MAX_ZOOM, MIN_HEIGHT, viewportFor, type Viewport } from "./layout";
import { edgeTypes, nodeTypes } from "./nodes";

export function Flow(props: { graph: G; currentId: string; columnLevel: boolean }) {
  const { graph, currentId, columnLevel } = props;
  const navigate = useNavigate();
  const { setViewport, viewportInitialized } = useReactFlow();
  const wrap = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<Viewport | null>(null);
  const { nodes, edges } = useMemo(() => layout(graph, currentId, columnLevel), [graph, currentId, columnLevel]);
  // Show the whole graph if it fits at a readable zoom; a bigger one is shown
  // at that zoom around the current dataset, and one pans to the rest. The
  // box is as tall as the graph needs, up to most of the window: measured
  // before the browser paints, hence a layout effect.
  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el || !nodes.length) return;
    setView(viewportFor(nodes, currentId, el.clientWidth, Math.max(MIN_HEIGHT, Math.round(window.innerHeight * 0.7))));
  }, [nodes, currentId]);
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
            if (href && n.id !== currentId) navigate(href);
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
