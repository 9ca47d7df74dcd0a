// SQL shown as code: coloured by the highlighter, in a scrolling block with
// a button that copies it.
import { useEffect, useMemo, useState } from "react";
import { tokenize } from "../pages/dataset/dbt/sql";

// SqlCode renders SQL (with dbt's Jinja) highlighted. Only the tokens'
// text becomes content; nothing of the code is ever HTML.
export function SqlCode({ code, label }: { code: string; label: string }) {
  const tokens = useMemo(() => tokenize(code), [code]);
  return (
    <div className="code-block">
      <div className="code-toolbar">
        <CopyButton text={code} label={`Copy the ${label}`} />
      </div>
      <pre className="code sql" aria-label={label} data-testid="sql" tabIndex={0}>
        <code>
          {tokens.map((t, i) =>
            t.kind === "plain" ? (
              t.text
            ) : (
              <span key={i} className={`tok-${t.kind}`}>
                {t.text}
              </span>
            ),
          )}
        </code>
      </pre>
    </div>
  );
}

// copyText puts text on the clipboard: the Clipboard API where the page may
// use it (a secure context: https or localhost), else a selected textarea.
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Refused (no permission, no focus): the old way may still work.
    }
  }
  const t = document.createElement("textarea");
  t.value = text;
  t.setAttribute("readonly", "");
  t.style.position = "fixed";
  t.style.opacity = "0";
  document.body.appendChild(t);
  t.select();
  const ok = document.execCommand("copy");
  t.remove();
  if (!ok) throw new Error("the browser refused to copy");
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  // The confirmation goes after a moment.
  useEffect(() => {
    if (state === "idle") return;
    const t = setTimeout(() => setState("idle"), 2000);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <>
      <button
        type="button"
        className="btn btn-small"
        aria-label={label}
        title={label}
        onClick={() =>
          copyText(text).then(
            () => setState("copied"),
            () => setState("failed"),
          )
        }
      >
        {state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : "Copy"}
      </button>
      <span className="sr-only" role="status">
        {state === "copied" ? "Copied to the clipboard" : state === "failed" ? "Could not copy" : ""}
      </span>
    </>
  );
}
