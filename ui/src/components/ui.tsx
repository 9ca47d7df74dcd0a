// Small shared pieces: badges, states, highlighted text, markdown.
import { useMemo, type ReactNode } from "react";
import { marked } from "marked";
import DOMPurify from "dompurify";
import type { ApiError } from "../api/client";
import { absoluteTime, kindIcon, kindLabel, relativeTime } from "../format";

type Tone = "ok" | "warn" | "error" | "muted" | "info";

export function Badge({ tone = "muted", children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

const freshnessTone: Record<string, Tone> = { FRESH: "ok", WARN: "warn", ERROR: "error", UNKNOWN: "muted" };
const checkTone: Record<string, Tone> = { PASS: "ok", WARN: "warn", FAIL: "error", ERROR: "error" };

export function FreshnessBadge({ status }: { status: string }) {
  const label = status === "UNKNOWN" ? "freshness unknown" : status === "FRESH" ? "fresh" : status === "WARN" ? "late" : "very late";
  return (
    <Badge tone={freshnessTone[status] ?? "muted"} title={`Freshness: ${status}`}>
      <span className="dot" aria-hidden="true" />
      {label}
    </Badge>
  );
}

export function CheckBadge({ status, label }: { status: string | null | undefined; label?: string }) {
  if (!status) return <Badge title="No checks reported">no checks</Badge>;
  return (
    <Badge tone={checkTone[status] ?? "muted"} title={`Checks: ${status}`}>
      <span className="dot" aria-hidden="true" />
      {label ?? `checks ${status.toLowerCase()}`}
    </Badge>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const tone: Tone =
    status === "COMPLETE" || status === "SUCCEEDED" || status === "PASS" || status === "FRESH"
      ? "ok"
      : status === "FAIL" || status === "FAILED" || status === "ERROR" || status === "ABORT"
        ? "error"
        : status === "WARN"
          ? "warn"
          : status === "RUNNING" || status === "START"
            ? "info"
            : "muted";
  return <Badge tone={tone}>{status.toLowerCase()}</Badge>;
}

export function KindBadge({ kind }: { kind: string }) {
  return (
    <span className="kind" data-kind={kind}>
      <span className="kind-icon" aria-hidden="true">
        {kindIcon(kind)}
      </span>
      <span className="kind-label">{kindLabel(kind)}</span>
    </span>
  );
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">never</span>;
  return (
    <time dateTime={iso} title={absoluteTime(iso)}>
      {relativeTime(iso)}
    </time>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function ErrorBox({ error, retry }: { error: ApiError | Error; retry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <strong>Something went wrong.</strong> {error.message}
      {retry && (
        <button type="button" className="btn btn-small" onClick={() => retry()}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

// decode turns the server's HTML-escaped text into plain text.
function decode(s: string): string {
  const t = document.createElement("textarea");
  t.innerHTML = s;
  return t.value;
}

// Highlighted renders a search match: escaped text with <mark> around the
// matched words. Only the marks become elements; nothing else is HTML.
export function Highlighted({ text }: { text: string }) {
  const parts = text.split(/(<mark>|<\/mark>)/);
  const out: ReactNode[] = [];
  let marked = false;
  parts.forEach((p, i) => {
    if (p === "<mark>") marked = true;
    else if (p === "</mark>") marked = false;
    else if (p) out.push(marked ? <mark key={i}>{decode(p)}</mark> : decode(p));
  });
  return <>{out}</>;
}

marked.setOptions({ gfm: true, breaks: true });

export function Markdown({ source, className = "markdown" }: { source: string; className?: string }) {
  const html = useMemo(() => {
    const raw = marked.parse(source, { async: false }) as string;
    return DOMPurify.sanitize(raw, { USE_PROFILES: { html: true } });
  }, [source]);
  return <div className={className} dangerouslySetInnerHTML={{ __html: html }} />;
}

export function qualifiedName(d: { namespace: string; name: string }) {
  return d.name;
}

export function Chips({ items, label }: { items: string[]; label: string }) {
  if (!items.length) return null;
  return (
    <ul className="chips" aria-label={label}>
      {items.map((t) => (
        <li key={t} className="chip">
          {t}
        </li>
      ))}
    </ul>
  );
}
