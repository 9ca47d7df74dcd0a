// A small SQL highlighter for dbt's code: it splits the text into tokens
// (keywords, strings, quoted names, comments, numbers, Jinja) that the page
// colours. It never parses: whatever it does not recognise stays plain text,
// and the tokens always join back into the input, so what is copied and
// what is shown are the same characters.

export type TokenKind = "keyword" | "function" | "string" | "ident" | "comment" | "number" | "jinja" | "plain";
export type Token = { kind: TokenKind; text: string };

// Keywords common to the warehouses dbt runs on; a name that is not one of
// them stays plain, so a column called "status" is not coloured.
const keywords = new Set(
  `all alter and any array as asc between both by case cast check column constraint create cross current_date
  current_timestamp date day default delete desc distinct drop else end except exists extract false filter first
  following for from full group having if ilike in inner insert intersect interval into is join last lateral
  leading left like limit merge month natural not null nulls offset on or order outer over partition preceding
  primary qualify range recursive references replace right rows select set table then time timestamp to
  trailing true truncate union unique unnest update using values view when where window with within year
  boolean int integer bigint smallint numeric decimal float double real varchar char text string`
    .split(/\s+/)
    .filter(Boolean),
);

// Ordered: the first rule that matches at a position wins.
const rules: [TokenKind, RegExp][] = [
  ["jinja", /\{\{[\s\S]*?(?:\}\}|$)|\{%[\s\S]*?(?:%\}|$)|\{#[\s\S]*?(?:#\}|$)/y],
  ["comment", /--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/y],
  ["string", /'(?:[^']|'')*(?:'|$)/y],
  ["ident", /"(?:[^"]|"")*(?:"|$)|`[^`]*(?:`|$)/y],
  ["number", /\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?/iy],
  ["plain", /[A-Za-z_][A-Za-z0-9_$]*/y],
];

// tokenize splits SQL (with dbt's Jinja) into tokens; adjacent plain text is
// merged into one token.
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  const push = (kind: TokenKind, text: string) => {
    const last = out[out.length - 1];
    if (kind === "plain" && last?.kind === "plain") last.text += text;
    else out.push({ kind, text });
  };
  let i = 0;
  outer: while (i < sql.length) {
    for (const [kind, re] of rules) {
      re.lastIndex = i;
      const m = re.exec(sql);
      if (!m || m[0] === "") continue;
      const text = m[0];
      i += text.length;
      if (kind === "plain") {
        // A word: a keyword, a function (a name before "("), or a name.
        const lower = text.toLowerCase();
        if (keywords.has(lower)) push("keyword", text);
        else if (/^[ \t]*\(/.test(sql.slice(i, i + 40))) push("function", text);
        else push("plain", text);
      } else {
        push(kind, text);
      }
      continue outer;
    }
    push("plain", sql[i]);
    i++;
  }
  return out;
}
