/**
 * The host bridge from Bitbucket's `all.js` (`window.AP`). Everything is optional: the page also works when
 * opened directly (development) or when all.js failed to load.
 */
interface HostBridge {
  resize?: (width?: string, height?: string) => void;
  history?: {
    getState?: (type?: string, callback?: (state: unknown) => void) => unknown;
    replaceState?: (state: unknown) => void;
  };
}

function bridge(): HostBridge | undefined {
  return (window as unknown as { AP?: HostBridge }).AP;
}

/** The height the frame needs so no inner scrollbar shows. */
function contentHeight(): number {
  return Math.ceil(document.documentElement.getBoundingClientRect().height);
}

/**
 * Keeps the iframe as tall as the content (`AP.resize`), once per animation frame at most.
 * Returns a stop function.
 */
export function startAutoResize(): () => void {
  let lastHeight = -1;
  let frame = 0;
  const resize = () => {
    frame = 0;
    const height = contentHeight();
    if (height === lastHeight) return;
    lastHeight = height;
    bridge()?.resize?.('100%', `${height}px`);
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

/**
 * Filters live in the iframe's own query (history.replaceState, without Bitbucket's one-time `jwt`), and are
 * mirrored to the host's address through `AP.history` where the host offers it, so a copied Bitbucket URL
 * reopens the same view. Bitbucket then signs a fresh iframe URL; the filters come back through
 * `AP.history.getState()`.
 */
export function writeUrlQuery(query: string): void {
  const url = `${window.location.pathname}${query}${window.location.hash}`;
  window.history.replaceState(window.history.state, '', url);
  try {
    bridge()?.history?.replaceState?.(query.replace(/^\?/, ''));
  } catch {
    // A host without history support: the iframe URL still holds the state.
  }
}

/** Filters that the host kept for this page (`AP.history`), if any. */
export function hostState(): string {
  try {
    const state = bridge()?.history?.getState?.();
    return typeof state === 'string' ? state : '';
  } catch {
    return '';
  }
}
