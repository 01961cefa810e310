import type { ReactNode } from 'react';

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
