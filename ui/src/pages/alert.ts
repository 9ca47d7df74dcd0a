// How an alert reads: its age and its one line. Pure, so unit-tested
// (alert.test.ts).
import { duration } from "../format";

type AlertLike = {
  kind: string;
  message: string;
  openedAt: string;
  expectedBy?: string | null;
  ageSeconds?: number | null;
  resolvedAt?: string | null;
};

// alertAge is how long the alert's condition has held, in seconds, and
// what that counts from. A freshness alert counts from when the data was
// due (when it became late), not from when the evaluator first saw it
// late: after a restart or on a new server that may be days later. A
// check alert counts from when it opened (its first failing result).
export function alertAge(a: AlertLike, now: number): { seconds: number; since: string; label: string } {
  const end = a.resolvedAt ? Date.parse(a.resolvedAt) : now;
  if (a.kind === "FRESHNESS" && a.expectedBy) {
    const due = Date.parse(a.expectedBy);
    if (!Number.isNaN(due) && due <= end) {
      return { seconds: Math.max(0, (end - due) / 1000), since: a.expectedBy, label: "late for" };
    }
  }
  const opened = Date.parse(a.openedAt);
  const seconds = Number.isNaN(opened) ? (a.ageSeconds ?? 0) : Math.max(0, (end - opened) / 1000);
  return { seconds, since: a.openedAt, label: "open for" };
}

export function alertAgeText(a: AlertLike, now: number): string {
  const age = alertAge(a, now);
  return `${age.label} ${duration(age.seconds)}`;
}

// alertLine is an alert's kind and message without saying the kind twice:
// a check alert's message already starts "check …", which the page's
// "check" before it made "check check …".
export function alertLine(kind: string, message: string): { kind: string; message: string } {
  const k = kind.toLowerCase();
  const m = message.trim();
  if (m.toLowerCase().startsWith(k + " ") || m.toLowerCase() === k) return { kind: "", message: m };
  return { kind: k, message: m };
}
