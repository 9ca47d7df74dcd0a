// Starts `quarry serve --demo` on a free port and Debian's Chromium
// (playwright-core; never a downloaded browser) for the end-to-end tests.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const uiDir = new URL("..", import.meta.url).pathname;
export const screenshots = join(uiDir, "e2e/screenshots");

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url, ms, proc) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    if (proc.exitCode != null) throw new Error(`quarry exited with ${proc.exitCode} before serving`);
    try {
      const res = await fetch(url);
      // Ready once the search index has caught up (a new index answers
      // searches "unavailable" until then).
      const body = res.ok ? await res.json() : null;
      if (body && body.search !== "rebuilding") return;
      last = body ? `search ${body.search}` : `${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} did not answer within ${ms} ms (${last})`);
}

// quarryBinary is $QUARRY_BIN (make passes bin/quarry) or a fresh build. It
// must embed the built UI: run `make ui` (or make e2e) first.
function quarryBinary(tmp) {
  if (process.env.QUARRY_BIN) return process.env.QUARRY_BIN;
  const bin = join(tmp, "quarry");
  execFileSync("go", ["build", "-o", bin, "./cmd/quarry"], { cwd: join(uiDir, ".."), stdio: "inherit" });
  return bin;
}

// start runs the server (with the demo catalog) and the browser. config,
// when given, is the YAML of a config file for quarry serve --config.
export async function start({ config } = {}) {
  const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    throw new Error(
      `The UI tests drive Debian's Chromium at ${executablePath}, which is missing. ` +
        "Install it with `apt-get install chromium` (as .ci/run does), or point CHROMIUM at a Chromium binary.",
    );
  }
  const tmp = mkdtempSync(join(tmpdir(), "quarry-e2e-"));
  const bin = quarryBinary(tmp);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = [];
  const args = ["serve", "--demo", "--data", join(tmp, "data"), "--addr", `127.0.0.1:${port}`];
  if (config) {
    writeFileSync(join(tmp, "quarry.yaml"), config);
    args.push("--config", join(tmp, "quarry.yaml"));
  }
  const proc = spawn(bin, args, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout.on("data", (b) => log.push(b.toString()));
  proc.stderr.on("data", (b) => log.push(b.toString()));
  try {
    await waitFor(`${base}/healthz`, 30_000, proc);
    const home = await (await fetch(base)).text();
    if (!home.includes("/assets/")) {
      throw new Error(`${bin} serves no built UI: run \`make ui\` and rebuild it (make e2e does both)`);
    }
  } catch (e) {
    proc.kill();
    throw new Error(`${e.message}\n${log.join("")}`);
  }
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  mkdirSync(screenshots, { recursive: true });
  return {
    base,
    bin,
    browser,
    log,
    async stop() {
      await browser.close().catch(() => {});
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode != null ? r() : proc.once("exit", r)));
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

// graphql asks the server directly, to find ids the tests navigate to.
// openPage starts the server and one browser page on it (viewport 1360x900
// unless width/height say otherwise; the rest are Playwright context
// options), and collects the page's uncaught errors in pageErrors, which a
// test file asserts empty at its end. close stops both.
export async function openPage({ width = 1360, height = 900, timeout = 15_000, ...contextOptions } = {}) {
  const env = await start();
  const ctx = await env.browser.newContext({ viewport: { width, height }, ...contextOptions });
  ctx.setDefaultTimeout(timeout);
  const page = await ctx.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  const close = async () => {
    await ctx.close();
    await env.stop();
  };
  return { env, ctx, page, pageErrors, close };
}

// screenshot saves the whole page into ui/e2e/screenshots/NAME.png.
export const screenshot = (page, name) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

export async function graphql(base, query, variables = {}) {
  const res = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

// startProvider runs internal/oidcdev, an OpenID Connect provider on
// loopback (mockoidc; never in the quarry binary), and returns its issuer,
// client id and secret; signInAs(user) chooses who the next sign-in is.
export async function startProvider() {
  const tmp = mkdtempSync(join(tmpdir(), "quarry-oidc-"));
  const bin = join(tmp, "oidcdev");
  execFileSync("go", ["build", "-o", bin, "./internal/oidcdev"], { cwd: join(uiDir, ".."), stdio: "inherit" });
  const proc = spawn(bin, [], { stdio: ["ignore", "pipe", "inherit"] });
  const info = await new Promise((resolve, reject) => {
    let out = "";
    proc.once("exit", (code) => reject(new Error(`oidcdev exited with ${code}: ${out}`)));
    proc.stdout.on("data", (b) => {
      out += b.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
    });
  });
  return {
    ...info,
    async signInAs(user) {
      const res = await fetch(info.users, { method: "POST", body: JSON.stringify(user) });
      if (!res.ok) throw new Error(`oidcdev refused the user: ${res.status} ${await res.text()}`);
    },
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode != null ? r() : proc.once("exit", r)));
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

// darkContext is a browser context whose pages see prefers-color-scheme:
// dark, as on a system set to dark mode; shotDark saves a full-page
// screenshot as screenshots/<name>-dark.png.
export function darkContext(browser, options = {}) {
  return browser.newContext({ viewport: { width: 1360, height: 900 }, ...options, colorScheme: "dark" });
}

export function shotDark(page, name) {
  return page.screenshot({ path: join(screenshots, `${name}-dark.png`), fullPage: true });
}
