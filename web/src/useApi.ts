import { useCallback, useEffect, useState } from 'react';
import { getJson } from './api';

/** `path` of a ready value: the request it answers (the hook's path may have moved on). */
export type Loadable<T> = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; data: T; path: string };

/** GETs a path (none when null); `reload` fetches again. A newer request cancels an older one. */
export function useApi<T>(path: string | null): [Loadable<T>, () => void] {
  const [result, setResult] = useState<Loadable<T>>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (path === null) return;
    const ctl = new AbortController();
    setResult({ state: 'loading' });
    getJson<T>(path, ctl.signal).then(
      (data) => setResult({ state: 'ready', data, path }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setResult({ state: 'error', error });
      },
    );
    return () => ctl.abort();
  }, [path, attempt]);
  const reload = useCallback(() => setAttempt((a) => a + 1), []);
  return [result, reload];
}

/**
 * Like useApi, but for pages that update themselves: a new `version` fetches again while the
 * last answer stays on screen (no flash of "Loading…"); only a new path starts from loading.
 * `failed` is the error of the latest background fetch (null once one succeeds); `settled`
 * counts finished fetches, so a poller can arm its next timer after each one.
 */
export function useLiveApi<T>(path: string | null, version: string | number): { value: Loadable<T>; reload: () => void; failed: unknown; settled: number } {
  const [result, setResult] = useState<Loadable<T>>({ state: 'loading' });
  const [failed, setFailed] = useState<unknown>(null);
  const [settled, setSettled] = useState(0);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (path === null) return;
    const ctl = new AbortController();
    setResult((r) => (r.state === 'ready' && r.path === path ? r : { state: 'loading' }));
    getJson<T>(path, ctl.signal).then(
      (data) => {
        setResult({ state: 'ready', data, path });
        setFailed(null);
        setSettled((n) => n + 1);
      },
      (error: unknown) => {
        if (ctl.signal.aborted) return;
        setResult((r) => (r.state === 'ready' && r.path === path ? r : { state: 'error', error }));
        setFailed(error);
        setSettled((n) => n + 1);
      },
    );
    return () => ctl.abort();
  }, [path, version, attempt]);
  const reload = useCallback(() => setAttempt((a) => a + 1), []);
  return { value: result, reload, failed, settled };
}
