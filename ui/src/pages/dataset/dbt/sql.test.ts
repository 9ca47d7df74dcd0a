import { describe, expect, test } from "vitest";
import { tokenize, type Token } from "./sql";

// kinds lists the tokens that are not plain text, as "kind:text".
const kinds = (ts: Token[]) => ts.filter((t) => t.kind !== "plain").map((t) => `${t.kind}:${t.text}`);

describe("tokenize", () => {
  test("the tokens join back into the input, whatever it is", () => {
    for (const sql of [
      "select 1",
      "select * from \"dbt\".\"main\".\"t\" -- trailing\n/* block */ where a = 'it''s' and b > 2.5e3",
      "{{ config(materialized='table') }}\nselect {% if x %}1{% endif %} {# note #}",
      "unterminated 'string",
      "unterminated /* comment",
      "{{ unterminated jinja",
      "",
      "é ü 😀 `back` ticks",
    ]) {
      expect(tokenize(sql).map((t) => t.text).join("")).toBe(sql);
    }
  });

  test("keywords, functions, strings, quoted names, numbers and comments", () => {
    const ts = tokenize(`SELECT count(order_id) AS n, 'a -- b' FROM "dbt"."orders" WHERE x > 10.5 -- why\n/* c */`);
    expect(kinds(ts)).toEqual([
      "keyword:SELECT",
      "function:count",
      "keyword:AS",
      "string:'a -- b'",
      "keyword:FROM",
      'ident:"dbt"',
      'ident:"orders"',
      "keyword:WHERE",
      "number:10.5",
      "comment:-- why",
      "comment:/* c */",
    ]);
  });

  test("a name is not a keyword because it contains one, and its digits are not a number", () => {
    const ts = tokenize("select customers_v2, selection, from_date from t1");
    expect(kinds(ts)).toEqual(["keyword:select", "keyword:from"]);
  });

  test("dbt's Jinja is one token, quotes inside it included", () => {
    const ts = tokenize(`select * from {{ ref("stg_orders") }} where {% if is_incremental() %}1{% endif %}`);
    expect(kinds(ts)).toEqual([
      "keyword:select",
      "keyword:from",
      '{{ ref("stg_orders") }}',
      "keyword:where",
      "{% if is_incremental() %}",
      "number:1",
      "{% endif %}",
    ].map((k) => (k.startsWith("{") ? `jinja:${k}` : k)));
  });

  test("an escaped quote stays inside its string", () => {
    expect(kinds(tokenize("select 'it''s', \"a\"\"b\""))).toEqual(["keyword:select", "string:'it''s'", 'ident:"a""b"']);
  });

  test("a comment marker inside a string is not a comment, and a quote inside a comment is not a string", () => {
    expect(kinds(tokenize("select '--x' -- it's\n1"))).toEqual(["keyword:select", "string:'--x'", "comment:-- it's", "number:1"]);
  });

  test("plain text is merged, so a long query makes few elements", () => {
    const ts = tokenize("a.b, c.d");
    expect(ts).toEqual([{ kind: "plain", text: "a.b, c.d" }]);
  });
});
