/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The Go server serves dist/ (go:embed); in development, vite proxies the API.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: false, // scripts/clean-dist.mjs keeps dist/.gitkeep
    assetsDir: "assets",
    chunkSizeWarningLimit: 600,
    // Two pages: the app, and GraphiQL (GET /graphql in a browser), whose
    // editor is Monaco: its bundle loads only there.
    rollupOptions: {
      input: { index: "index.html", graphiql: "graphiql.html" },
    },
  },
  worker: { format: "es" },
  server: {
    proxy: Object.fromEntries(["/graphql", "/auth"].map((p) => [p, process.env.QUARRY_URL ?? "http://127.0.0.1:8080"])),
  },
  // Unit tests (npm test): the pure functions and components rendered to
  // HTML (react-dom/server, no DOM needed), beside their code. The
  // end-to-end tests in e2e/ run under node --test against a real server.
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
