// The UI's only way to the server: POST /graphql with a generated, typed
// document. Errors come back as ApiError with the server's extensions.code.
// Server state lives in TanStack Query's cache, keyed by operation name and
// variables (queryKey), so pages read it again without a round trip when one
// navigates back, and a mutation marks what it changed stale (invalidates)
// instead of handing refetch callbacks down the tree.
import {
  QueryClient,
  keepPreviousData,
  useMutation as useTanstackMutation,
  useQuery as useTanstackQuery,
  useQueryClient,
  type QueryKey,
  type UseMutationResult,
  type UseQueryResult,
} from "@tanstack/react-query";
import type { TypedDocumentString } from "./generated";

export class ApiError extends Error {
  code: string;
  constructor(message: string, code = "internal") {
    super(message);
    this.code = code;
  }
}

// Every query's and mutation's error is an ApiError (request makes it one),
// which TanStack's types learn by registration.
declare module "@tanstack/react-query" {
  interface Register {
    defaultError: ApiError;
  }
}

type GraphQLResponse<T> = {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
};

// Me is GET /auth/me's answer: who makes the requests.
export type Me = {
  name: string;
  email?: string;
  role?: "viewer" | "editor" | "ingest" | "admin";
  via: string; // "session", "token", "anonymous", "local"
  csrfToken?: string; // sent as X-CSRF-Token on every POST of the session
  login?: string;
};

// loadMe asks /auth/me once per page load: status 404 is a server without
// sign-in (open mode), 401 nobody signed in, 0 no answer. request waits for
// it, since a signed-in POST without the session's CSRF token is refused.
let meOnce: Promise<{ status: number; me?: Me }> | undefined;
export function loadMe(): Promise<{ status: number; me?: Me }> {
  meOnce ??= fetch("/auth/me", { headers: { Accept: "application/json" } })
    .then(async (res) => ({ status: res.status, me: res.status === 200 ? ((await res.json()) as Me) : undefined }))
    .catch(() => ({ status: 0 }));
  return meOnce;
}

// SIGN_IN_EVENT is dispatched on window when the API answers 401: the
// user menu then offers to sign in.
export const SIGN_IN_EVENT = "quarry:sign-in";

export async function request<R, V>(
  doc: TypedDocumentString<R, V>,
  variables: V,
  signal?: AbortSignal,
): Promise<R> {
  const csrfToken = (await loadMe()).me?.csrfToken;
  let res: Response;
  try {
    res = await fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        ...(csrfToken ? { "X-CSRF-Token": csrfToken } : {}),
      },
      body: JSON.stringify({ query: doc.toString(), variables }),
      signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError("The server cannot be reached. Is quarry serve running?", "unavailable");
  }
  if (res.status === 401) window.dispatchEvent(new Event(SIGN_IN_EVENT));
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

// newQueryClient is the cache main.tsx provides to the app. Data is stale at
// once (every mount asks the server again, showing the cached answer
// meanwhile), as the pages did before the cache; errors show at once with
// their "Try again" instead of after hidden retries; a window regaining
// focus asks nothing, since the pages that change on their own poll.
export function newQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

// operationName is the name of a document's first operation: "Dataset" for
// `query Dataset($id: ID!) {…}`. It heads the document's query keys.
export function operationName(doc: TypedDocumentString<unknown, never> | string): string {
  const m = /\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(doc.toString());
  if (!m) throw new Error("a document without a named operation has no query key");
  return m[1];
}

// queryKey is the cache key of a query document with its variables. With
// only some of the variables (or none) it is a prefix that matches every
// cached answer that has them, which is what invalidation takes.
export function queryKey<R, V>(doc: TypedDocumentString<R, V>, variables?: Partial<V>): QueryKey {
  return variables === undefined ? [operationName(doc)] : [operationName(doc), variables];
}

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(String(e));
}

// queryOptions are what TanStack needs to ask for a document: its key and
// how to fetch it. useQuery takes them; useQueries takes a list of them.
export function queryOptions<R, V>(doc: TypedDocumentString<R, V>, variables: V) {
  return {
    queryKey: queryKey(doc, variables),
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      request(doc, variables, signal).catch((e) => Promise.reject(signal.aborted ? e : asApiError(e))),
  };
}

export type QueryOptions<R> = {
  // skip leaves the query unasked (its data undefined) until it turns false.
  skip?: boolean;
  // keepPrevious keeps the last variables' data while the next loads, so
  // paging does not flash.
  keepPrevious?: boolean;
  // poll asks again every so many milliseconds, or, as a function of the
  // current data, while it returns a number (false stops).
  poll?: number | false | ((data: R | undefined) => number | false);
};

// useQuery runs a query whenever its variables change, through the cache.
export function useQuery<R, V>(
  doc: TypedDocumentString<R, V>,
  variables: V,
  opts: QueryOptions<R> = {},
): UseQueryResult<R, ApiError> {
  const { poll } = opts;
  return useTanstackQuery({
    ...queryOptions(doc, variables),
    enabled: !opts.skip,
    placeholderData: opts.keepPrevious ? keepPreviousData : undefined,
    refetchInterval: typeof poll === "function" ? (q) => poll(q.state.data) : poll,
  });
}

// useMutation returns TanStack's mutation for a document. Once it has run,
// failed or not, the queries invalidates names (prefix keys from queryKey)
// are marked stale and the ones on screen asked again before the mutation
// counts as settled, so a form that closes on success shows the saved value.
export function useMutation<R, V>(
  doc: TypedDocumentString<R, V>,
  opts: { invalidates?: (variables: V) => QueryKey[] } = {},
): UseMutationResult<R, ApiError, V> {
  const client = useQueryClient();
  const { invalidates } = opts;
  return useTanstackMutation({
    mutationKey: [operationName(doc)],
    mutationFn: (variables) => request(doc, variables).catch((e) => Promise.reject(asApiError(e))),
    onSettled: async (_data, _error, variables) => {
      if (!invalidates) return;
      await Promise.all(invalidates(variables).map((key) => client.invalidateQueries({ queryKey: key })));
    },
  });
}
