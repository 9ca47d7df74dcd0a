import { describe, expect, test } from "vitest";
import { kindIcon, kindLabel } from "../../../format";
import { exposuresOf, fact, isExposure, safeHref, sortTests, splitProperties, testSummary } from "./dbt";

const ds = (id: string, name: string, kind: string) => ({ id, name, kind, namespace: "dbt://p" });

describe("exposuresOf", () => {
  test("keeps the dashboards, applications and ML models downstream, once each, by name", () => {
    const dash = ds("1", "revenue", "DASHBOARD");
    const ml = ds("2", "churn", "ML_MODEL");
    const app = ds("3", "Pulse queries", "APPLICATION");
    const out = exposuresOf([
      { toDataset: dash },
      { toDataset: ds("4", "db.marts.orders", "TABLE") },
      { toDataset: null },
      { toDataset: ml },
      { toDataset: dash }, // a column edge repeats it
      { toDataset: app },
    ]);
    expect(out.map((d) => d.name)).toEqual(["churn", "Pulse queries", "revenue"]);
  });

  test("isExposure knows the new kinds only", () => {
    expect(["DASHBOARD", "APPLICATION", "ML_MODEL", "TABLE", "VIEW"].map(isExposure)).toEqual([true, true, true, false, false]);
  });
});

describe("splitProperties", () => {
  test("dbt's facts in their order with their words, the project's meta apart by key", () => {
    const { facts, meta } = splitProperties([
      { key: "maturity", value: "gold" },
      { key: "dbt.version", value: "2" },
      { key: "dbt.contract.enforced", value: "true" },
      { key: "dbt.access", value: "public" },
      { key: "dbt.latest_version", value: "2" },
      { key: "cost_center", value: "42" },
      { key: "dbt.group", value: "" },
    ]);
    expect(facts.map((f) => `${f.label}=${f.value}`)).toEqual(["Access=public", "Version=2", "Latest version=2", "Contract=enforced"]);
    expect(meta.map((p) => p.key)).toEqual(["cost_center", "maturity"]);
  });

  test("an exposure's owner name and maturity are facts", () => {
    const props = [
      { key: "dbt.exposure_type", value: "dashboard" },
      { key: "dbt.owner_name", value: "Anna Anderson" },
      { key: "dbt.maturity", value: "high" },
    ];
    expect(splitProperties(props).facts.map((f) => f.label)).toEqual(["Type", "Owner", "Maturity"]);
    expect(fact(props, "dbt.maturity")).toBe("high");
    expect(fact(props, "dbt.label")).toBeUndefined();
  });
});

describe("tests", () => {
  const t = (name: string, status: string | null) => ({ name, latest: status ? { status } : null });

  test("sortTests puts what needs attention first, the never run last", () => {
    const sorted = sortTests([t("b_pass", "PASS"), t("never", null), t("a_pass", "PASS"), t("fails", "FAIL"), t("errs", "ERROR"), t("warns", "WARN")]);
    expect(sorted.map((x) => x.name)).toEqual(["errs", "fails", "warns", "a_pass", "b_pass", "never"]);
  });

  test("testSummary counts them by status, worst first", () => {
    expect(testSummary([t("a", "PASS"), t("b", "PASS"), t("c", "ERROR"), t("d", null)])).toBe("1 error, 2 pass, 1 not run");
    expect(testSummary([])).toBe("");
  });
});

describe("safeHref", () => {
  test("links http, https and mailto addresses, nothing else", () => {
    expect(safeHref("https://bi.example.com/dash/1?x=1")).toBe("https://bi.example.com/dash/1?x=1");
    expect(safeHref("mailto:anna@example.com")).toBe("mailto:anna@example.com");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("JavaScript:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,<script>")).toBeNull();
    expect(safeHref("not a url")).toBeNull();
    expect(safeHref("")).toBeNull();
    expect(safeHref(null)).toBeNull();
  });
});

describe("kinds", () => {
  test("the new kinds have words and glyphs of their own", () => {
    expect(["DASHBOARD", "APPLICATION", "ML_MODEL", "MATERIALIZED_VIEW"].map(kindLabel)).toEqual(["dashboard", "application", "ML model", "materialized view"]);
    const icons = ["TABLE", "VIEW", "MATERIALIZED_VIEW", "EXTERNAL", "STREAM", "FILE", "DASHBOARD", "APPLICATION", "ML_MODEL"].map(kindIcon);
    expect(new Set(icons).size).toBe(icons.length);
    expect(kindIcon("SOMETHING_NEW")).toBe("◇");
  });
});
