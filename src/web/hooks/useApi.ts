import { useEffect, useRef, useState } from 'react';
import { SessionExpiredError } from '../api/client';

export type Loadable<T> =
  | { status: 'loading'; data: T | undefined; error: undefined; reload: () => void }
  | { status: 'ok'; data: T; error: undefined; reload: () => void }
  | { status: 'error'; data: T | undefined; error: Error; reload: () => void };

/**
 * Loads `load()` whenever `key` changes, cancelling the request in flight. While a new key loads, the previous
 * data stays (charts dim instead of flashing back to skeletons).
 */
export function useApi<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Loadable<T> {
  const [state, setState] = useState<{ status: 'loading' | 'ok' | 'error'; data?: T; error?: Error }>({
    status: 'loading',
  });
  const [attempt, setAttempt] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ status: 'loading', data: s.data }));
    loadRef.current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ status: 'ok', data });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        // The app-wide expiry notice takes over; no per-card error for it.
        if (error instanceof SessionExpiredError) return;
        setState((s) => ({
          status: 'error',
          data: s.data,
          error: error instanceof Error ? error : new Error(String(error)),
        }));
      },
    );
    return () => controller.abort();
  }, [key, attempt]);

  const reload = () => setAttempt((n) => n + 1);
  return { ...state, reload } as Loadable<T>;
}
