import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { getJson, setCsrfToken, setSessionLostHandler, type SessionInfo } from './api';

interface SessionState {
  session: SessionInfo | null;
  refresh: () => Promise<SessionInfo>;
}

const Ctx = createContext<SessionState>({ session: null, refresh: () => Promise.resolve({ authenticated: false }) });

/** Holds the current session (from /api/v1/auth/session) and keeps the CSRF token for writes. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const refresh = useCallback(async () => {
    let s: SessionInfo;
    try {
      s = await getJson<SessionInfo>('/api/v1/auth/session');
    } catch {
      s = { authenticated: false };
    }
    setCsrfToken(s.csrfToken ?? null);
    setSession(s);
    return s;
  }, []);
  useEffect(() => {
    void refresh();
    setSessionLostHandler(() => void refresh());
    return () => setSessionLostHandler(null);
  }, [refresh]);
  return <Ctx.Provider value={{ session, refresh }}>{children}</Ctx.Provider>;
}

export function useSession(): SessionState {
  return useContext(Ctx);
}

export const ORG_ADMIN = ['org_admin'] as const;
export const isDiscom = (s: SessionInfo | null) => !!s?.user && s.user.org === null;
/** Discom staff of the holding company (BSPHCL), who act for both discoms. */
export const isHolding = (s: SessionInfo | null) => !!s?.user && s.user.org === null && s.user.holding;
export const hasRole = (s: SessionInfo | null, ...roles: string[]) => !!s?.user && s.stage === 'full' && roles.includes(s.user.role);
