import { useEffect, useRef } from "react";
import { NavLink, Route, Routes, Link } from "react-router";
import { SearchBox } from "./components/SearchBox";
import { SearchPage } from "./pages/SearchPage";
import { DatasetPage } from "./pages/DatasetPage";
import { JobPage } from "./pages/JobPage";
import { AlertsPage } from "./pages/AlertsPage";
import { SourcesPage } from "./pages/SourcesPage";
import { Empty } from "./components/ui";
import { mustSignIn, SignInPrompt, useAuth, UserMenu } from "./auth";

export function App() {
  const searchRef = useRef<HTMLInputElement>(null);
  const auth = useAuth();

  // "/" focuses the search box from anywhere but a text field.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement;
      if (t.closest("input, textarea, select, [contenteditable=true]")) return;
      e.preventDefault();
      searchRef.current?.focus();
      searchRef.current?.select();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="logo" aria-label="Quarry home">
          <svg width="22" height="22" viewBox="0 0 16 16" aria-hidden="true">
            <rect width="16" height="16" rx="3" fill="currentColor" />
            <path d="M4 11l4-6 4 6z" fill="white" />
          </svg>
          <span>Quarry</span>
        </Link>
        <SearchBox inputRef={searchRef} />
        <nav className="nav" aria-label="Main">
          <NavLink to="/search" end>
            Search
          </NavLink>
          <NavLink to="/alerts">Alerts</NavLink>
          <NavLink to="/sources">Sources</NavLink>
        </nav>
        <UserMenu />
      </header>
      <main id="main" tabIndex={-1}>
        {mustSignIn(auth) ? (
          <SignInPrompt />
        ) : (
          <Routes>
            <Route path="/" element={<SearchPage />} />
            <Route path="/search" element={<SearchPage />} />
            <Route path="/datasets/:id" element={<DatasetPage />} />
            <Route path="/datasets/:id/:tab" element={<DatasetPage />} />
            <Route path="/jobs/:id" element={<JobPage />} />
            <Route path="/alerts" element={<AlertsPage />} />
            <Route path="/sources" element={<SourcesPage />} />
            <Route
              path="*"
              element={
                <Empty>
                  Nothing here. <Link to="/">Search the catalog</Link>.
                </Empty>
              }
            />
          </Routes>
        )}
      </main>
    </div>
  );
}
