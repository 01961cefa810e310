import type { PageName } from '../App';

/**
 * What a page needs from the product that frames it. Two hosts implement it: Connect (Bitbucket's `all.js`,
 * src/web/host/ap.ts) and Forge Custom UI (`@forge/bridge`, src/web/host/forge.ts). The entry script picks one at
 * start-up; the pages never know which.
 */
export interface Host {
  readonly kind: 'connect' | 'forge';
  /** The page this frame shows, or null when the host did not say (the frame was not opened from Bitbucket). */
  readonly page: PageName | null;
  /** The page's parameters (repoUuid, repoPath, workspace, user) and filters, whatever the host's way of giving them. */
  readonly params: URLSearchParams;
  /** Sends one request to Tally's `/api/v1` (the path below it), authenticated the host's way. */
  readonly transport: Transport;
  /** Makes the frame as tall as the content (hosts that size the frame themselves ignore it). */
  resize(height: number): void;
  /** Mirrors the page's filter query to the host's address, where the host keeps one. */
  saveState(query: string): void;
  /** Filters the host kept for this page, if any. */
  savedState(): string;
}

export interface TransportRequest {
  method: string;
  headers: Record<string, string>;
  /** JSON text. */
  body?: string;
  signal?: AbortSignal;
}

export type Transport = (path: string, request: TransportRequest) => Promise<Response>;

/** The page's host, set once by the entry script before anything renders. */
let current: Host | null = null;

export function setHost(host: Host): void {
  current = host;
}

export function host(): Host | null {
  return current;
}

/**
 * Filters live in the frame's own query (history.replaceState, without Bitbucket's one-time `jwt`), and are
 * mirrored to the host's address where the host keeps one, so a copied Bitbucket URL reopens the same view.
 */
export function writeUrlQuery(query: string): void {
  const url = `${window.location.pathname}${query}${window.location.hash}`;
  window.history.replaceState(window.history.state, '', url);
  try {
    current?.saveState(query.replace(/^\?/, ''));
  } catch {
    // A host without history support: the frame's URL still holds the state.
  }
}

/** Filters that the host kept for this page, if any. */
export function hostState(): string {
  try {
    return current?.savedState() ?? '';
  } catch {
    return '';
  }
}

/** The height the frame needs so no inner scrollbar shows. */
function contentHeight(): number {
  return Math.ceil(document.documentElement.getBoundingClientRect().height);
}

/**
 * Keeps the frame as tall as the content through the host, once per animation frame at most. Returns a stop
 * function.
 */
export function startAutoResize(target: Host): () => void {
  let lastHeight = -1;
  let frame = 0;
  const resize = () => {
    frame = 0;
    const height = contentHeight();
    if (height === lastHeight) return;
    lastHeight = height;
    target.resize(height);
  };
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(resize);
  };
  const observer = new ResizeObserver(schedule);
  observer.observe(document.documentElement);
  observer.observe(document.body);
  schedule();
  return () => {
    observer.disconnect();
    if (frame) cancelAnimationFrame(frame);
  };
}
