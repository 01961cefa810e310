import type { Transport } from '../host/host';

/**
 * The page's only way to the server: `/api/v1/*` through the host's transport (Connect: the session token from the
 * page's meta tag, `Authorization: JWT …`; Forge: invokeRemote, with Forge's invocation token). A 401 means the
 * session is over; the app then asks for a reload.
 */
export class SessionExpiredError extends Error {
  constructor() {
    super('Your Tally session has expired. Reload the page to continue.');
  }
}

/** An error answer: `code` is the server's stable error code (docs/openapi.json `ErrorCode`); branch on it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type QueryValue = string | number | boolean | string[] | null | undefined;

/** `?a=1&b=x&b=y` from a plain object (lists repeat the key); null, undefined and empty strings are left out. */
export function buildQuery(params: Record<string, QueryValue>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === '') continue;
    if (Array.isArray(value)) {
      for (const item of value) q.append(key, item);
    } else {
      q.set(key, String(value));
    }
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

type ExpiryListener = () => void;

export interface ApiClient {
  get<T>(path: string, params?: Record<string, QueryValue>, signal?: AbortSignal): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** Raw text (CSV exports). */
  text(path: string, params?: Record<string, QueryValue>): Promise<string>;
  /** Listens for the session's end; called at once when it has already ended. */
  onSessionExpired(listener: ExpiryListener): () => void;
  /**
   * Runs `start` and keeps the GET requests it makes, so that the page's first identical GETs take their answers
   * instead of asking again: the data then loads while the page's code does, not after it.
   */
  prefetch(start: () => unknown): void;
}

export function createApiClient(transport: Transport): ApiClient {
  const listeners = new Set<ExpiryListener>();
  let expired = false;
  let prefetching = false;
  const prefetched = new Map<string, Promise<unknown>>();

  async function request(
    method: string,
    path: string,
    init: { body?: unknown; signal?: AbortSignal; accept: string },
  ) {
    const headers: Record<string, string> = { accept: init.accept };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await transport(path, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    if (res.status === 401) {
      expired = true;
      for (const listener of listeners) listener();
      throw new SessionExpiredError();
    }
    if (!res.ok) {
      let reason = `${res.status} ${res.statusText}`.trim();
      let code = res.status >= 500 ? 'internal_error' : 'invalid_request';
      try {
        const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
        if (typeof body.error?.message === 'string') reason = body.error.message;
        if (typeof body.error?.code === 'string') code = body.error.code;
      } catch {
        // Not JSON: keep the status line.
      }
      throw new ApiError(res.status, code, reason);
    }
    return res;
  }

  return {
    get<T>(path: string, params: Record<string, QueryValue> = {}, signal?: AbortSignal): Promise<T> {
      const url = `${path}${buildQuery(params)}`;
      const early = prefetched.get(url);
      if (early) {
        prefetched.delete(url);
        return early as Promise<T>;
      }
      const answer = request('GET', url, {
        signal: prefetching ? undefined : signal,
        accept: 'application/json',
      }).then((res) => res.json() as Promise<T>);
      if (prefetching) {
        prefetched.set(url, answer);
        // Nobody may ask for it after all: its failure must not be an unhandled rejection.
        answer.catch(() => {});
      }
      return answer;
    },
    async send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown) {
      const res = await request(method, path, { body, accept: 'application/json' });
      if (res.status === 204) return undefined as T;
      const text = await res.text();
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async text(path: string, params: Record<string, QueryValue> = {}) {
      const res = await request('GET', `${path}${buildQuery(params)}`, { accept: 'text/csv' });
      return res.text();
    },
    onSessionExpired(listener: ExpiryListener) {
      listeners.add(listener);
      if (expired) listener();
      return () => listeners.delete(listener);
    },
    prefetch(start: () => unknown) {
      prefetching = true;
      try {
        const started = start();
        if (started instanceof Promise) started.catch(() => {});
      } finally {
        prefetching = false;
      }
    },
  };
}
