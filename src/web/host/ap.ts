import type { PageName } from '../App';
import type { Host, Transport } from './host';

/**
 * The Connect host: Bitbucket's `all.js` (`window.AP`) around a page the server rendered with the page name and a
 * 15-minute session token in meta tags (views/page.html). Everything from AP is optional: the page also works when
 * opened directly (development) or when all.js failed to load.
 */
interface ApBridge {
  resize?: (width?: string, height?: string) => void;
  history?: {
    getState?: (type?: string, callback?: (state: unknown) => void) => unknown;
    replaceState?: (state: unknown) => void;
  };
}

function bridge(): ApBridge | undefined {
  return (window as unknown as { AP?: ApBridge }).AP;
}

const PAGE_NAMES: PageName[] = ['repository', 'workspace', 'configure', 'profile'];

/** `/api/v1` on Tally's own origin with `Authorization: JWT <session token>`. */
export function sessionTransport(
  token: string,
  fetchImpl: typeof fetch = (...args) => fetch(...args),
): Transport {
  return (path, request) =>
    fetchImpl(`/api/v1${path}`, {
      method: request.method,
      headers: { ...request.headers, authorization: `JWT ${token}` },
      body: request.body,
      signal: request.signal,
      credentials: 'omit',
    });
}

/** The Connect host of this page, or null when the server did not render a page with a session token. */
export function connectHost(): Host | null {
  const meta = (name: string) =>
    document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
  const page = meta('tally-page') as PageName;
  const token = meta('tally-token');
  if (!PAGE_NAMES.includes(page) || !token) return null;
  return {
    kind: 'connect',
    page,
    params: new URLSearchParams(window.location.search),
    transport: sessionTransport(token),
    resize: (height) => bridge()?.resize?.('100%', `${height}px`),
    // Where the host's all.js offers AP.history (Jira's does), the filters reach the host's address; Bitbucket
    // then signs a fresh iframe URL and the filters come back through AP.history.getState().
    saveState: (query) => bridge()?.history?.replaceState?.(query),
    savedState: () => {
      const state = bridge()?.history?.getState?.();
      return typeof state === 'string' ? state : '';
    },
  };
}
