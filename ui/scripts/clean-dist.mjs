// Empties dist/ before a build but keeps the marker file that go:embed needs
// on a fresh clone (vite's emptyOutDir would delete it).
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const dist = new URL("../dist/", import.meta.url).pathname;
for (const name of readdirSync(dist)) {
  if (name !== ".gitkeep") rmSync(join(dist, name), { recursive: true, force: true });
}
