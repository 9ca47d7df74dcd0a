import { expect, test } from "vitest";
import { describe as say, legend, nodeStatus } from "./status";

const d = (over: Partial<Parameters<typeof nodeStatus>[0] & object> = {}) => ({
  id: "a",
  kind: "TABLE" as const,
  tags: [] as string[],
  removedAt: null as string | null,
  freshness: { status: "FRESH" as "FRESH" | "WARN" | "ERROR" | "UNKNOWN" },
  health: { status: "PASS" as "PASS" | "WARN" | "FAIL" | "ERROR" | null },
  ...over,
});

test("a card takes the worst state that holds", () => {
  expect(nodeStatus(d()).state).toBe("ok");
  expect(nodeStatus(d({ health: { status: "WARN" } })).state).toBe("warn");
  expect(nodeStatus(d({ freshness: { status: "WARN" }, health: { status: "WARN" } })).state).toBe("late");
  expect(nodeStatus(d({ health: { status: "FAIL" } })).state).toBe("failing");
  expect(nodeStatus(d({ health: { status: "ERROR" } })).state).toBe("failing");
  expect(nodeStatus(d({ freshness: { status: "ERROR" }, health: { status: null } })).state).toBe("failing");
  expect(nodeStatus(d({ tags: ["Deprecated"], health: { status: "FAIL" } })).state).toBe("deprecated");
  expect(nodeStatus(d({ deprecated: { at: "2026-01-01" } })).state).toBe("deprecated");
  expect(nodeStatus(d({ removedAt: "2026-01-01T00:00:00Z", tags: ["deprecated"] })).state).toBe("removed");
  expect(nodeStatus(d({ freshness: { status: "UNKNOWN" }, health: { status: null } })).state).toBe("unknown");
  expect(nodeStatus(null).state).toBe("unknown");
});

test("every state has one icon and a legend entry", () => {
  expect(new Set(legend.map((s) => s.icon)).size).toBe(legend.length);
  expect(legend.map((s) => s.state)).toContain(nodeStatus(d()).state);
});

test("describe says the state, freshness and checks in words", () => {
  expect(say(d({ freshness: { status: "WARN" }, health: { status: null } }))).toBe("data late; freshness warn; no checks");
  expect(say(undefined)).toBe("status not known");
});
