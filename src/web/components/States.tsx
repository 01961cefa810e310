import { useSyncExternalStore, type ReactNode } from 'react';
import type { Freshness, FreshnessSummary } from '../api/freshness';
import { formatCount, formatHours } from '../chart-data/format';

export function Skeleton({ height, label = 'Loading' }: { height: number; label?: string }) {
  return (
    <div className="skeleton" style={{ height }} role="status" aria-live="polite">
      <span className="visually-hidden">{label}…</span>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty-state" data-state="empty">
      <h3>{title}</h3>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  return (
    <div className="error-state" role="alert" data-state="error">
      <h3>This could not be loaded</h3>
      <div>{error.message}</div>
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function SessionExpired() {
  return (
    <div className="banner warning" role="alert" data-testid="session-expired">
      <div>
        <h2>Session expired — reload the page</h2>
        <p>
          For your security, Tally's access to this page lasts 15 minutes. Reload the page in your browser to
          see current numbers; your filters are kept in the address.
        </p>
      </div>
    </div>
  );
}

const plural = (n: number, one: string, many: string) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** "lines counted for 41% of commits, newest first; complete in about 3 h" */
function linesNote(f: FreshnessSummary): string {
  // Floor, so that 99.6% never reads as 100% while commits are still missing.
  const share = Math.floor(f.linesCountedShare * 100);
  const eta = f.linesCompleteEtaSeconds;
  return `lines counted for ${share}% of commits, newest first${eta !== null && eta > 0 ? `; complete in about ${formatHours(eta / 3600)}` : ''}`;
}

/** What is still being counted, in words ("1,234 commits still being counted"). */
export function freshnessText(f: FreshnessSummary): string {
  if (f.complete) return '';
  // A commit can wait for its line counts and for the analytics at once: the larger count never overstates.
  const parts = [
    // Line counts arrive newest first: say how far they are, so a graph of lines is read for what it is.
    f.commitsWithoutLines > 0 ? linesNote(f) : null,
    f.commitsWithoutLines === 0 && f.pendingCommits > 0
      ? `${plural(f.pendingCommits, 'commit', 'commits')} still being counted`
      : null,
    f.pendingPullRequests > 0
      ? `${plural(f.pendingPullRequests, 'pull request', 'pull requests')} still being read`
      : null,
  ].filter((p) => p !== null);
  return `Updating… ${parts.length > 0 ? parts.join(', ') : 'the numbers may still change'}`;
}

/**
 * The page's one "Updating…" notice: polite, and empty (but present, so screen readers hear it appear) while the
 * latest stats answers say the numbers are complete.
 */
export function FreshnessStatus({ freshness }: { freshness: Freshness }) {
  const summary = useSyncExternalStore(freshness.subscribe, freshness.summary);
  const text = freshnessText(summary);
  return (
    <div className="freshness" role="status" aria-live="polite" data-testid="freshness">
      {text ? <span className="updating">{text}</span> : null}
    </div>
  );
}
