// Who is signed in, which tenant they are looking at, and what their role there
// lets them do. Everything below the provider reads it through useSession().
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type FormEvent,
  type ReactNode,
} from "react";
import { ApiError, apiFetch, getTenant, setTenant } from "./api/client";
import { roleAllows } from "./api/roles";
import type {
  Role,
  Session,
  SessionMembership,
  SessionTenant,
  SignInBody,
  User,
} from "./api/types";
import { ErrorState, Loading } from "./components/StateViews";

export interface SessionValue {
  user: User | null;
  memberships: SessionMembership[];
  /** The tenant being looked at; null when the user belongs to none. */
  tenant: SessionTenant | null;
  role: Role | null;
  can: (required: Role) => boolean;
  selectTenant: (slug: string) => void;
  /** Resolves on success; rejects with ApiError on bad credentials. */
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
  /** Fetches the session again (after joining a tenant). */
  reload: () => void;
}

const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (value === null) throw new Error("useSession() must be used inside <SessionProvider>.");
  return value;
}

/** The remembered tenant if the user still belongs to it, else their first one. */
function chooseMembership(memberships: SessionMembership[], preferredSlug: string | null) {
  return (
    memberships.find((membership) => membership.tenant.slug === preferredSlug) ??
    memberships[0] ??
    null
  );
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [tenantSlug, setTenantSlug] = useState<string | null>(getTenant());

  const adopt = useCallback((next: Session) => {
    const membership = chooseMembership(next.memberships, getTenant());
    setTenant(membership?.tenant.slug ?? null);
    setTenantSlug(membership?.tenant.slug ?? null);
    setSession(next);
  }, []);

  const fetchSession = useCallback(() => {
    apiFetch<Session>("/session")
      .then(adopt)
      .catch((cause: unknown) =>
        setLoadError(cause instanceof ApiError ? cause : new ApiError(0, "client", String(cause))),
      );
  }, [adopt]);
  useEffect(fetchSession, [fetchSession]);

  const load = useCallback(() => {
    setLoadError(null);
    fetchSession();
  }, [fetchSession]);

  const value = useMemo<SessionValue | null>(() => {
    if (session === null) return null;
    const membership = chooseMembership(session.memberships, tenantSlug);
    const role = membership?.role ?? null;
    return {
      user: session.user,
      memberships: session.memberships,
      tenant: membership?.tenant ?? null,
      role,
      can: (required) => roleAllows(role, required),
      selectTenant: (slug) => {
        setTenant(slug);
        setTenantSlug(slug);
      },
      signIn: async (username, password) => {
        const body: SignInBody = { username, password };
        adopt(await apiFetch<Session>("/session", { method: "POST", body }));
      },
      signOut: async () => {
        await apiFetch<void>("/session", { method: "DELETE" });
        setSession({ user: null, memberships: [] });
      },
      reload: load,
    };
  }, [session, tenantSlug, adopt, load]);

  if (loadError) return <ErrorState error={loadError} onRetry={load} />;
  if (value === null) return <Loading label="Loading session" />;
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/**
 * Shown in place of any page while signed out. The URL is left alone, so after
 * signing in the user is already on the page they asked for.
 */
export function SignInPage() {
  const { signIn } = useSession();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [isSubmitting, setIsSubmitting] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setIsSubmitting(true);
    setError(null);
    try {
      await signIn(username, password);
    } catch (cause) {
      setError(cause instanceof ApiError ? cause.message : String(cause));
      setIsSubmitting(false);
    }
  };

  return (
    <main className="sign-in">
      <form className="card sign-in-form" onSubmit={submit}>
        <h1>Sign in to Hatchet</h1>
        <label className="field">
          <span>Username</span>
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(event) => setUsername(event.target.value)}
            required
            autoFocus
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            required
          />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button primary" disabled={isSubmitting}>
          Sign in
        </button>
      </form>
    </main>
  );
}

/** Header controls: tenant switcher (only with several memberships), user, role, sign out. */
export function SessionControls() {
  const { user, memberships, tenant, role, selectTenant, signOut } = useSession();
  if (user === null) return null;
  return (
    <div className="session-controls">
      {memberships.length > 1 && (
        <select
          aria-label="Tenant"
          value={tenant?.slug ?? ""}
          onChange={(event) => selectTenant(event.target.value)}
        >
          {memberships.map((membership) => (
            <option key={membership.tenant.slug} value={membership.tenant.slug}>
              {membership.tenant.name}
            </option>
          ))}
        </select>
      )}
      <span className="session-user">
        {user.username}
        {role && <span className="role-tag">{role}</span>}
      </span>
      <button type="button" className="button" onClick={() => void signOut()}>
        Sign out
      </button>
    </div>
  );
}
