// The dbt tab's and header's pieces rendered to HTML (react-dom/server: no
// DOM, no server): what a person reads on a model's and a dashboard's page.
import type { ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { MemoryRouter } from "react-router";
import { describe, expect, test } from "vitest";
import type { DbtSummaryFragment } from "../../api/generated";
import { SqlCode } from "../../components/Code";
import { DbtDetails, type DbtT } from "./DbtTab";
import { DbtBadges, DbtFacts, ExposureFacts } from "./dbt/DbtFacts";

const html = (node: ReactNode) => renderToStaticMarkup(<MemoryRouter>{node}</MemoryRouter>);
// text is what the markup says, tags and entities aside.
const text = (s: string) => s.replace(/<[^>]+>/g, " ").replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/\s+/g, " ");

const raw = `{{ config(materialized="table") }}\nselect customer_id, count(*) as n from {{ ref("stg_orders") }} -- all\ngroup by 1`;
const compiled = `select customer_id, count(*) as n from "dbt"."main"."stg_orders" -- all\ngroup by 1`;

const model: DbtT = {
  resourceType: "model",
  job: { id: "j1", namespace: "dbt", name: "db.marts.shop.customers.build.run" },
  language: "sql",
  rawCode: raw,
  compiledCode: compiled,
  tests: [
    { uniqueId: "t1", name: "unique_customers_id", type: "unique", column: "id", severity: "ERROR", description: "", latest: { status: "PASS", message: "", failures: 0, executionTime: 0.32, observedAt: "2026-02-20T22:29:47Z" } },
    { uniqueId: "t2", name: "in_set_customers_id", type: "dbt_expectations.in_set", column: "id", severity: "WARN", description: "ids are small", latest: { status: "ERROR", message: "Database Error in test\n  No matching signature", failures: null, executionTime: 1.5, observedAt: "2026-02-20T22:29:48Z" } },
    { uniqueId: "t3", name: "test_clv_logic", type: "unit", column: null, severity: null, description: "Validate CLV logic", latest: null },
  ],
};

describe("DbtDetails", () => {
  test("shows the raw code first, highlighted, with a copy button, and a switch to the compiled code", () => {
    const out = html(<DbtDetails dbt={model} exposures={[]} />);
    expect(out).toContain('aria-label="raw SQL"');
    expect(text(out)).toContain('{{ ref("stg_orders") }}');
    expect(out).toContain('<span class="tok-jinja">{{ config(materialized=&quot;table&quot;) }}</span>');
    expect(out).toContain('<span class="tok-keyword">select</span>');
    expect(out).toContain('<span class="tok-function">count</span>');
    expect(out).toContain('<span class="tok-comment">-- all</span>');
    expect(out).toMatch(/<button[^>]*aria-label="Copy the raw SQL"[^>]*>Copy<\/button>/);
    expect(out).toMatch(/<button[^>]*aria-pressed="true"[^>]*>Raw SQL<\/button>/);
    expect(out).toMatch(/<button[^>]*aria-pressed="false"[^>]*>Compiled SQL<\/button>/);
    expect(text(out)).toContain("Built by the job db.marts.shop.customers.build.run");
    expect(out).toContain('href="/jobs/j1"');
  });

  test("with only compiled code, shows it and disables the raw switch", () => {
    const out = html(<DbtDetails dbt={{ ...model, rawCode: null }} exposures={[]} />);
    expect(out).toContain('aria-label="compiled SQL"');
    expect(out).toContain('<span class="tok-ident">&quot;stg_orders&quot;</span>');
    expect(out).toMatch(/<button[^>]*disabled=""[^>]*>Raw SQL<\/button>/);
  });

  test("a source without code says so instead of an empty block", () => {
    const out = html(<DbtDetails dbt={{ ...model, resourceType: "source", job: null, rawCode: null, compiledCode: null, tests: [] }} exposures={[]} />);
    expect(out).not.toContain('data-testid="sql"');
    expect(text(out)).toContain("dbt keeps no code for this source.");
    expect(text(out)).toContain("No dbt test covers this source.");
  });

  test("lists the tests worst first with status, failures, message and time; the never run last", () => {
    const out = html(<DbtDetails dbt={model} exposures={[]} />);
    const rows = [...out.matchAll(/data-testid="dbt-test" data-name="([^"]+)"/g)].map((m) => m[1]);
    expect(rows).toEqual(["in_set_customers_id", "unique_customers_id", "test_clv_logic"]);
    expect(text(out)).toContain("1 error, 1 pass, 1 not run");
    const errRow = out.slice(out.indexOf('data-name="in_set_customers_id"'), out.indexOf('data-name="unique_customers_id"'));
    expect(text(errRow)).toMatch(/error .*in_set_customers_id ids are small .*id warn – Database Error in test\n? No matching signature/);
    expect(errRow).toContain('dateTime="2026-02-20T22:29:48Z"');
    const passRow = out.slice(out.indexOf('data-name="unique_customers_id"'), out.indexOf('data-name="test_clv_logic"'));
    expect(text(passRow)).toMatch(/pass .*unique_customers_id unique id error 0 – .* 320 ms/);
    expect(text(out.slice(out.indexOf('data-name="test_clv_logic"')))).toMatch(/not run test_clv_logic Validate CLV logic unit/);
  });

  test("links each exposure with its kind and owners", () => {
    const out = html(
      <DbtDetails
        dbt={model}
        exposures={[{ id: "e1", name: "customers", namespace: "dbt://p", kind: "DASHBOARD", owners: ["anna@example.com"] }]}
      />,
    );
    expect(out).toContain('<a href="/datasets/e1" data-discover="true">customers</a>');
    const item = out.slice(out.indexOf('data-testid="exposure"'));
    expect(text(item)).toMatch(/◔ dashboard customers anna@example.com/);
  });

  test("without exposures, says none declares it uses the model", () => {
    expect(text(html(<DbtDetails dbt={model} exposures={[]} />))).toContain("No exposure (dashboard, application or ML model) declares that it uses this model.");
  });
});

const summary = (over: Partial<DbtSummaryFragment>): DbtSummaryFragment => ({
  project: "shop",
  uniqueId: "model.shop.customers.v2",
  resourceType: "model",
  materialized: "incremental",
  package: "shop",
  path: "models/marts/customers_v2.sql",
  docsUrl: "https://docs.example.com/#!/model/model.shop.customers.v2",
  url: null,
  owners: [],
  deprecated: false,
  properties: [],
  ...over,
});

describe("the header", () => {
  test("a model's facts: materialization, package and path, docs link, dbt's facts, the rest of meta", () => {
    const out = html(
      <dl>
        <DbtFacts
          dbt={summary({
            properties: [
              { key: "dbt.access", value: "public" },
              { key: "dbt.group", value: "finance" },
              { key: "dbt.version", value: "2" },
              { key: "dbt.contract.enforced", value: "true" },
              { key: "maturity", value: "gold" },
            ],
          })}
        />
      </dl>,
    );
    expect(text(out)).toContain("model materialized as incremental");
    expect(text(out)).toContain("shop: models/marts/customers_v2.sql");
    expect(out).toContain('href="https://docs.example.com/#!/model/model.shop.customers.v2"');
    expect(text(out)).toMatch(/Access public Group finance Version 2 Contract enforced/);
    expect(text(out)).toMatch(/Properties maturity gold/);
  });

  test("badges: dbt's resource type, deprecated with its date, an enforced contract", () => {
    const out = html(<DbtBadges dbt={summary({ deprecated: true, properties: [{ key: "dbt.deprecation_date", value: "2025-01-01" }, { key: "dbt.contract.enforced", value: "true" }] })} />);
    expect(out).toMatch(/<span class="badge badge-warn" title="Deprecated since 2025-01-01">deprecated<\/span>/);
    expect(text(out)).toMatch(/dbt model .*deprecated .*contract/);
    expect(html(<DbtBadges dbt={summary({})} />)).not.toContain("deprecated");
  });

  test("a dashboard's owner, link and maturity; a javascript: url is no link", () => {
    const dash = summary({
      resourceType: "exposure",
      materialized: "",
      path: "models/_exposures.yml",
      url: "https://bi.example.com/d/7",
      owners: ["anna.anderson@example.com"],
      properties: [
        { key: "dbt.exposure_type", value: "dashboard" },
        { key: "dbt.owner_name", value: "Anna Anderson" },
        { key: "dbt.maturity", value: "high" },
      ],
    });
    const out = html(<dl><ExposureFacts dbt={dash} /></dl>);
    expect(text(out)).toMatch(/Owner Anna Anderson anna.anderson@example.com/);
    expect(out).toContain('href="mailto:anna.anderson@example.com"');
    expect(out).toMatch(/<a href="https:\/\/bi.example.com\/d\/7" target="_blank" rel="noopener noreferrer"/);
    expect(text(out)).toMatch(/Maturity high/);
    expect(text(out)).toMatch(/Type dashboard/);
    const evil = html(<dl><ExposureFacts dbt={{ ...dash, url: "javascript:alert(1)" }} /></dl>);
    expect(evil).not.toContain('href="javascript');
    expect(text(evil)).toContain("javascript:alert(1)");
    expect(text(html(<dl><ExposureFacts dbt={{ ...dash, url: null, properties: [] }} /></dl>))).toMatch(/No link declared .*not declared/);
  });
});

describe("SqlCode", () => {
  test("never turns the code into HTML", () => {
    const out = html(<SqlCode code={"select '<img src=x onerror=alert(1)>'"} label="raw SQL" />);
    expect(out).not.toContain("<img");
    expect(out).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });
});
