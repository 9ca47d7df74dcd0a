// Formatting of times, durations and sizes for display.

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["week", 7 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];
const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const secs = Math.round((new Date(iso).getTime() - now) / 1000);
  for (const [unit, size] of units) {
    if (Math.abs(secs) >= size || unit === "second") return rtf.format(Math.trunc(secs / size), unit);
  }
  return iso;
}

export function absoluteTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

// duration formats seconds as "2d 3h", "5m 10s", "850 ms".
export function duration(seconds: number | null | undefined): string {
  if (seconds == null) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (d) return h ? `${d}d ${h}h` : `${d}d`;
  if (h) return m ? `${h}h ${m}m` : `${h}h`;
  if (m) return r ? `${m}m ${r}s` : `${m}m`;
  return `${r}s`;
}

export function bytes(n: number | null | undefined): string {
  if (n == null) return "–";
  const u = ["B", "KB", "MB", "GB", "TB", "PB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 && i ? v.toFixed(1) : Math.round(v)} ${u[i]}`;
}

export function count(n: number | null | undefined): string {
  return n == null ? "–" : n.toLocaleString("en-US");
}

// kindLabels are the words for the kinds whose lower-cased name reads badly.
const kindLabels: Record<string, string> = { ML_MODEL: "ML model" };

export function kindLabel(kind: string): string {
  return kindLabels[kind] ?? kind.toLowerCase().replace(/_/g, " ");
}

// kindIcons are a glyph per dataset kind, from Unicode's geometric shapes
// (which the system fonts have: no icon font, nothing fetched).
const kindIcons: Record<string, string> = {
  TABLE: "▦",
  VIEW: "◫",
  MATERIALIZED_VIEW: "◩",
  EXTERNAL: "⇲",
  STREAM: "≋",
  FILE: "▤",
  DASHBOARD: "◔",
  APPLICATION: "▣",
  ML_MODEL: "◎",
};

export function kindIcon(kind: string): string {
  return kindIcons[kind] ?? "◇";
}
