// The UI's only way to the server: POST /graphql with a generated, typed
// document. Errors come back as ApiError with the server's extensions.code.
import { useCallback, useEffect, useRef, useState } from "react";
import type { TypedDocumentString } from "./generated";

export class ApiError extends Error {
  code: string;
  constructor(message: string, code = "internal") {
    super(message);
    this.code = code;
  }
}

type GraphQLResponse<T> = {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
};

export async function request<R, V>(
  doc: TypedDocumentString<R, V>,
  variables: V,
  signal?: AbortSignal,
): Promise<R> {
  let res: Response;
  try {
    res = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query: doc.toString(), variables }),
      signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError("The server cannot be reached. Is quarry serve running?", "unavailable");
  }
  let body: GraphQLResponse<R>;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The server answered ${res.status} ${res.statusText}`.trim(), "internal");
  }
  if (body.errors?.length) {
    const e = body.errors[0];
    throw new ApiError(e.message, e.extensions?.code ?? "internal");
  }
  if (!res.ok || body.data == null) {
    throw new ApiError(`The server answered ${res.status}`, "internal");
  }
  return body.data;
}

export type QueryState<R> = {
  data: R | undefined;
  error: ApiError | undefined;
  loading: boolean;
  refetch: () => void;
};

// useQuery runs a query whenever its variables change. With keepPrevious it
// keeps the last data while the next one loads, so paging does not flash.
export function useQuery<R, V>(
  doc: TypedDocumentString<R, V>,
  variables: V,
  opts: { skip?: boolean; pollMs?: number; keepPrevious?: boolean } = {},
): QueryState<R> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ key?: string; data?: R; error?: ApiError; loading: boolean }>({
    loading: !opts.skip,
  });
  const [tick, setTick] = useState(0);
  const varsRef = useRef(variables);
  varsRef.current = variables;

  useEffect(() => {
    if (opts.skip) {
      setState((s) => ({ ...s, loading: false }));
      return;
    }
    const ctl = new AbortController();
    setState((s) => ({ ...s, error: undefined, loading: true }));
    request(doc, varsRef.current, ctl.signal).then(
      (data) => setState({ key, data, loading: false }),
      (error) => {
        if (ctl.signal.aborted) return;
        setState((s) => ({ ...s, key: undefined, error: error instanceof ApiError ? error : new ApiError(String(error)), loading: false }));
      },
    );
    return () => ctl.abort();
  }, [doc, key, tick, opts.skip]);

  useEffect(() => {
    if (!opts.pollMs) return;
    const t = setInterval(() => setTick((n) => n + 1), opts.pollMs);
    return () => clearInterval(t);
  }, [opts.pollMs]);

  const refetch = useCallback(() => setTick((n) => n + 1), []);
  const current = state.key === key || opts.keepPrevious;
  return {
    data: current ? state.data : undefined,
    error: state.error,
    loading: state.loading || (!opts.skip && state.key !== key && !state.error),
    refetch,
  };
}

// useMutation returns a function that runs the mutation and its state.
export function useMutation<R, V>(doc: TypedDocumentString<R, V>) {
  const [state, setState] = useState<{ loading: boolean; error?: ApiError }>({ loading: false });
  const run = useCallback(
    async (variables: V): Promise<R | undefined> => {
      setState({ loading: true });
      try {
        const data = await request(doc, variables);
        setState({ loading: false });
        return data;
      } catch (e) {
        const error = e instanceof ApiError ? e : new ApiError(String(e));
        setState({ loading: false, error });
        return undefined;
      }
    },
    [doc],
  );
  return [run, state] as const;
}
