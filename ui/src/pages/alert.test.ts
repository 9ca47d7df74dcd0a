import { describe, expect, test } from "vitest";
import { alertAge, alertAgeText, alertLine } from "./alert";

const now = Date.parse("2026-11-22T12:00:00Z");

describe("alertAge", () => {
  test("a freshness alert counts from when the data became late, not from when it opened", () => {
    const a = { kind: "FRESHNESS", message: "late", openedAt: "2026-11-22T11:00:00Z", expectedBy: "2026-11-20T12:00:00Z", ageSeconds: 3600 };
    expect(alertAge(a, now)).toMatchObject({ seconds: 2 * 86400, label: "late for", since: "2026-11-20T12:00:00Z" });
    expect(alertAgeText(a, now)).toBe("late for 2d");
  });
  test("a check alert, or one whose due time is unknown or ahead, counts from its opening", () => {
    expect(alertAgeText({ kind: "CHECK", message: "x", openedAt: "2026-11-22T09:30:00Z" }, now)).toBe("open for 2h 30m");
    expect(alertAgeText({ kind: "FRESHNESS", message: "x", openedAt: "2026-11-22T11:00:00Z", expectedBy: null }, now)).toBe("open for 1h");
    expect(alertAgeText({ kind: "FRESHNESS", message: "x", openedAt: "2026-11-22T11:00:00Z", expectedBy: "2026-11-23T00:00:00Z" }, now)).toBe("open for 1h");
  });
  test("a resolved alert's age stops at its resolution", () => {
    const a = { kind: "CHECK", message: "x", openedAt: "2026-11-22T09:00:00Z", resolvedAt: "2026-11-22T10:00:00Z" };
    expect(alertAge(a, now).seconds).toBe(3600);
  });
});

describe("alertLine", () => {
  test("says the kind once", () => {
    expect(alertLine("CHECK", "check not_null_order_id failed")).toEqual({ kind: "", message: "check not_null_order_id failed" });
    expect(alertLine("FRESHNESS", "no update since Monday")).toEqual({ kind: "freshness", message: "no update since Monday" });
  });
});
