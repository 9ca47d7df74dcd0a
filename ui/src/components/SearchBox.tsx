// The search box in the top bar: completes dataset and column names as one
// types (autocomplete), Enter searches, arrows pick a suggestion.
import { useEffect, useId, useState, type RefObject } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router";
import { useQuery } from "../api/client";
import { AutocompleteDocument } from "../api/generated";
import { kindIcon, kindLabel } from "../format";

export function SearchBox({ inputRef }: { inputRef: RefObject<HTMLInputElement | null> }) {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const onSearchPage = location.pathname === "/" || location.pathname === "/search";
  const urlQuery = onSearchPage ? (params.get("q") ?? "") : "";
  const [text, setText] = useState(urlQuery);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [prefix, setPrefix] = useState("");
  const listId = useId();

  // The box shows the URL's query again when the URL changes (a link, Back);
  // set during render, as React's docs do it, so no frame shows the old one.
  const [shownQuery, setShownQuery] = useState(urlQuery);
  if (shownQuery !== urlQuery) {
    setShownQuery(urlQuery);
    setText(urlQuery);
  }

  // Debounce what is asked for.
  useEffect(() => {
    const t = setTimeout(() => setPrefix(text.trim()), 120);
    return () => clearTimeout(t);
  }, [text]);

  const { data } = useQuery(AutocompleteDocument, { prefix, limit: 8 }, { skip: !open || prefix.length < 2, keepPrevious: true });
  const suggestions = open && prefix.length >= 2 ? (data?.autocomplete ?? []) : [];

  const search = (q: string) => {
    setOpen(false);
    const next = new URLSearchParams(onSearchPage ? params : undefined);
    if (q) next.set("q", q);
    else next.delete("q");
    next.delete("after");
    navigate(`/search?${next}`);
  };

  const pick = (i: number) => {
    const s = suggestions[i];
    if (!s) return;
    setOpen(false);
    if (s.kind === "DATASET" && s.dataset) {
      navigate(`/datasets/${s.dataset.id}`);
    } else {
      setText(s.text);
      search(s.text);
    }
  };

  return (
    <form
      className="searchbox"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        if (active >= 0 && suggestions[active]) pick(active);
        else search(text.trim());
      }}
    >
      <input
        ref={inputRef}
        type="search"
        name="q"
        placeholder="Search tables, columns, tags…  ( / )"
        aria-label="Search the catalog"
        autoComplete="off"
        role="combobox"
        aria-expanded={suggestions.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={active >= 0 ? `${listId}-${active}` : undefined}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" && suggestions.length) {
            e.preventDefault();
            setActive((a) => (a + 1) % suggestions.length);
          } else if (e.key === "ArrowUp" && suggestions.length) {
            e.preventDefault();
            setActive((a) => (a <= 0 ? suggestions.length - 1 : a - 1));
          } else if (e.key === "Escape") {
            setOpen(false);
            setActive(-1);
          }
        }}
      />
      {suggestions.length > 0 && (
        <ul className="suggestions" id={listId} role="listbox" aria-label="Suggestions">
          {suggestions.map((s, i) => (
            <li
              key={`${s.kind}:${s.text}:${s.dataset?.id ?? ""}`}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(i);
              }}
            >
              <span className="suggestion-text">{s.text}</span>
              <span className="muted small">
                {s.kind === "DATASET" && s.dataset
                  ? `${kindIcon(s.dataset.kind)} ${kindLabel(s.dataset.kind)}`
                  : `column${s.count != null ? ` in ${s.count} dataset${s.count === 1 ? "" : "s"}` : ""}`}
              </span>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}
