// The lineage tab's data: the graph traced around a dataset, plus the
// neighbours of the nodes one expands by hand, merged into one graph.
import { useCallback, useMemo } from "react";
import { useQueries, useQueryClient, type UseQueryResult } from "@tanstack/react-query";
import { queryOptions, useQuery, type ApiError } from "../../../api/client";
import { LineageDocument, type LineageDirection, type LineageQuery } from "../../../api/generated";
import { merge, withTableNeighbours, type G } from "./graph";

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

// useLineage traces the graph and adds the neighbours of the nodes in
// expanded (the tab keeps them in the URL, so a shared link shows the same
// graph); expand asks for one more, through onExpand.
export function useLineage(
  nodeId: string,
  { direction, depth, columnLevel }: LineageOptions,
  ids: readonly string[] = [],
  onExpand: (ids: string[]) => void = () => {},
): Lineage {
  const client = useQueryClient();
  const traced = useQuery(LineageDocument, { nodeId, direction, depth, columnLevel });
  // At column level the table-level graph too: its datasets that have no
  // column edges are neighbours all the same (withTableNeighbours).
  const tables = useQuery(LineageDocument, { nodeId, direction, depth, columnLevel: false }, { skip: !columnLevel });
  const extra = useQueries({ queries: ids.map((id) => expansionOf(id, columnLevel)), combine });

  const expand = useCallback(
    (id: string) => {
      if (ids.includes(id)) void client.refetchQueries({ queryKey: expansionOf(id, columnLevel).queryKey, exact: true });
      else onExpand([...ids, id]);
    },
    [client, ids, columnLevel, onExpand],
  );

  const base = traced.data?.lineage;
  const table = columnLevel ? tables.data?.lineage : undefined;
  const graph = useMemo(() => {
    if (!base) return undefined;
    const g = merge([base, ...extra.graphs]);
    return columnLevel ? withTableNeighbours(g, table) : g;
  }, [base, extra.graphs, columnLevel, table]);
  const expanding = useMemo(() => new Set(extra.pending.map((i) => ids[i])), [extra.pending, ids]);

  return {
    graph,
    loading: traced.isPending || (columnLevel && tables.isPending),
    error: traced.error ?? (columnLevel ? tables.error : null),
    retry: () => {
      void traced.refetch();
      if (columnLevel) void tables.refetch();
    },
    expand,
    expanding,
    expandError: extra.error,
  };
}
