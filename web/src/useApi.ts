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
