// GraphiQL's fetcher: POST /graphql as the app does, with the session's
// CSRF token when signed in (a signed-in POST without it is refused).
import { loadMe } from "../api/client";

type Params = { query: string; operationName?: string | null; variables?: unknown };

export async function fetcher(params: Params): Promise<unknown> {
  const csrfToken = (await loadMe()).me?.csrfToken;
  const res = await fetch("/graphql", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      ...(csrfToken ? { "X-CSRF-Token": csrfToken } : {}),
    },
    body: JSON.stringify(params),
  });
  return res.json();
}
