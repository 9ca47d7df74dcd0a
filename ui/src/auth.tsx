// Who is signed in (GET /auth/me) and what their role lets the UI offer.
// The server decides what each role may do; the UI only hides what would
// be refused. A server without sign-in answers /auth/me 404 (open mode):
// everything is offered, as before access control existed.
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { loadMe, SIGN_IN_EVENT, type Me } from "./api/client";

export type { Me };
export type Role = NonNullable<Me["role"]>;

export type Auth = {
  // loading: /auth/me has not answered; open: the server has no sign-in;
  // signedIn: a person or token; signedOut: nobody, or anonymous.
  state: "loading" | "open" | "signedIn" | "signedOut";
  me?: Me;
};

const includes: Record<Role, Role[]> = {
  viewer: ["viewer"],
  editor: ["viewer", "editor"],
  ingest: ["viewer", "ingest"],
  admin: ["viewer", "editor", "ingest", "admin"],
};

// allows says whether the UI should offer what needs the required role.
// While /auth/me is unanswered nothing that changes anything is offered.
export function allows(auth: Auth, required: Role): boolean {
  if (auth.state === "open") return true;
  const role = auth.me?.role;
  return role != null && (includes[role]?.includes(required) ?? false);
}

// meToAuth reads /auth/me's answer: its status and, for 200, its body.
export function meToAuth(status: number, me?: Me): Auth {
  if (status === 200 && me) return { state: me.via === "anonymous" ? "signedOut" : "signedIn", me };
  if (status === 401) return { state: "signedOut" };
  return { state: "open" };
}

const AuthContext = createContext<Auth>({ state: "open" });

export function useAuth(): Auth {
  return useContext(AuthContext);
}

// useAllows is allows for the current principal.
export function useAllows(required: Role): boolean {
  return allows(useAuth(), required);
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [auth, setAuth] = useState<Auth>({ state: "loading" });
  useEffect(() => {
    let live = true;
    loadMe().then(({ status, me }) => live && setAuth(meToAuth(status, me)));
    // The API answered 401: the session ended, or the server wants one.
    // An anonymous role stays (what it may read still shows); a session
    // that ended is forgotten.
    const onSignIn = () => setAuth((a) => (a.me?.via === "anonymous" ? { ...a, state: "signedOut" } : { state: "signedOut" }));
    window.addEventListener(SIGN_IN_EVENT, onSignIn);
    return () => {
      live = false;
      window.removeEventListener(SIGN_IN_EVENT, onSignIn);
    };
  }, []);
  return <AuthContext.Provider value={auth}>{children}</AuthContext.Provider>;
}

// loginHref sends the browser to sign in and back to where it is.
export function loginHref(login = "/auth/login"): string {
  return `${login}?next=${encodeURIComponent(window.location.pathname + window.location.search)}`;
}

// mustSignIn: nothing here can be read without signing in (nobody is
// signed in and requests without credentials have no role).
export function mustSignIn(auth: Auth): boolean {
  return auth.state === "signedOut" && !auth.me?.role;
}

// SignInPrompt stands in for the pages while mustSignIn.
export function SignInPrompt() {
  const auth = useAuth();
  return (
    <div className="page signin-prompt">
      <h1>Sign in to Quarry</h1>
      <p>This catalog is for signed-in people.</p>
      <p>
        <a className="btn btn-primary" href={loginHref(auth.me?.login)}>
          Sign in with single sign-on
        </a>
      </p>
    </div>
  );
}

// UserMenu shows who is signed in, with Sign out, or a Sign in link.
export function UserMenu() {
  const auth = useAuth();
  const [error, setError] = useState("");
  if (auth.state === "open" || auth.state === "loading") return null;
  if (auth.state === "signedOut") {
    return (
      <div className="user-menu">
        {auth.me?.role && <span className="user-role">{auth.me.role}</span>}
        <a className="btn btn-small btn-signin" href={loginHref(auth.me?.login)}>
          Sign in
        </a>
      </div>
    );
  }
  const me = auth.me!;
  const signOut = async () => {
    const res = await fetch("/auth/logout", { method: "POST", headers: { "X-CSRF-Token": me.csrfToken ?? "" } }).catch(() => null);
    if (!res || !res.ok) {
      setError("Signing out failed; try again.");
      return;
    }
    window.location.assign("/");
  };
  return (
    <div className="user-menu" data-testid="user-menu">
      <span className="user-name" title={me.email || me.name}>
        {me.name}
      </span>
      {me.role && <span className="user-role">{me.role}</span>}
      {me.via === "session" && (
        <button type="button" className="btn btn-small" onClick={signOut}>
          Sign out
        </button>
      )}
      {error && (
        <span role="alert" className="small">
          {error}
        </span>
      )}
    </div>
  );
}
