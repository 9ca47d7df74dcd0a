// The lineage tab's data: the graph traced around a dataset, plus the
// neighbours of the nodes one expands by hand, merged into one graph.
import { useCallback, useMemo, useState } from "react";
import { useQueries, useQueryClient, type UseQueryResult } from "@tanstack/react-query";
import { queryOptions, useQuery, type ApiError } from "../../../api/client";
import { LineageDocument, type LineageDirection, type LineageQuery } from "../../../api/generated";
import { merge, type G } from "./graph";

export type LineageOptions = { direction: LineageDirection; depth: number; columnLevel: boolean };

export type Lineage = {
  // graph is undefined until the first answer.
  graph: G | undefined;
  loading: boolean;
  error: ApiError | null;
  retry: () => void;
  // expand adds a node's direct neighbours (asks again if that failed).
  expand: (id: string) => void;
  expanding: ReadonlySet<string>;
  expandError: ApiError | null;
};

// expansionOf is the query for one node's neighbours.
function expansionOf(id: string, columnLevel: boolean) {
  return queryOptions(LineageDocument, { nodeId: id, direction: "BOTH", depth: 1, columnLevel });
}

// combine folds the expansions' answers into what the tab needs. It is a
// module function, so TanStack reruns it only when an answer changes and the
// graphs keep their identity in between.
function combine(results: UseQueryResult<LineageQuery, ApiError>[]) {
  return {
    graphs: results.flatMap((r) => (r.data ? [r.data.lineage] : [])),
    pending: results.flatMap((r, i) => (r.isFetching ? [i] : [])),
    error: results.reduce<ApiError | null>((last, r) => r.error ?? last, null),
  };
}

export function useLineage(nodeId: string, { direction, depth, columnLevel }: LineageOptions): Lineage {
  const client = useQueryClient();
  const traced = useQuery(LineageDocument, { nodeId, direction, depth, columnLevel });

  // The nodes expanded by hand belong to one traced graph: another dataset,
  // direction, depth or level starts without them.
  const scope = JSON.stringify([nodeId, direction, depth, columnLevel]);
  const [expanded, setExpanded] = useState<{ scope: string; ids: string[] }>({ scope, ids: [] });
  const ids = useMemo(() => (expanded.scope === scope ? expanded.ids : []), [expanded, scope]);
  const extra = useQueries({ queries: ids.map((id) => expansionOf(id, columnLevel)), combine });

  const expand = useCallback(
    (id: string) => {
      if (ids.includes(id)) void client.refetchQueries({ queryKey: expansionOf(id, columnLevel).queryKey, exact: true });
      else setExpanded({ scope, ids: [...ids, id] });
    },
    [client, ids, scope, columnLevel],
  );

  const base = traced.data?.lineage;
  const graph = useMemo(() => (base ? merge([base, ...extra.graphs]) : undefined), [base, extra.graphs]);
  const expanding = useMemo(() => new Set(extra.pending.map((i) => ids[i])), [extra.pending, ids]);

  return {
    graph,
    loading: traced.isPending,
    error: traced.error,
    retry: () => void traced.refetch(),
    expand,
    expanding,
    expandError: extra.error,
  };
}
