// GraphiQL, the API's explorer, served by the binary at GET /graphql (to a
// browser) from the same build as the app: everything it loads (its
// editor, Monaco's workers, its CSS) is in dist/, so it works without the
// internet, where gqlgen's page fetched GraphiQL from a CDN and showed
// "Loading…" forever.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { fetcher } from "./fetcher";

const example = `# Quarry's GraphQL API. Ctrl-Enter runs the query; the Docs panel lists every type.
query Revenue {
  search(query: "revenue", first: 5) {
    total
    hits {
      dataset { name kind freshness { status } health { status } }
    }
  }
}
`;

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={example} />
  </StrictMode>,
);
