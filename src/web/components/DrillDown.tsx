import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { CommitItem, DrillTarget, StatsQuery } from '../api/endpoints';
import { formatCount } from '../chart-data/format';
import { issueParts, issueUrl } from '../chart-data/jira';
import { useApp } from './AppContext';

/** What a click opens: the commits of one bucket or person, under the page's filters. */
export interface DrillRequest {
  title: string;
  query: StatsQuery;
  target: DrillTarget;
}

const DrillDownContext = createContext<((request: DrillRequest) => void) | null>(null);

/** Opens the commits list; a no-op outside a provider (a page that does not offer it). */
export function useDrillDown(): (request: DrillRequest) => void {
  return useContext(DrillDownContext) ?? (() => {});
}

/** Holds the one commits dialog of a page. */
export function DrillDownProvider({ children }: { children: ReactNode }) {
  const [request, setRequest] = useState<DrillRequest | null>(null);
  return (
    <DrillDownContext.Provider value={setRequest}>
      {children}
      {request ? <CommitsDialog request={request} onClose={() => setRequest(null)} /> : null}
    </DrillDownContext.Provider>
  );
}

function Summary({ text, jira }: { text: string; jira: string | null }) {
  if (!jira) return <>{text}</>;
  return (
    <>
      {issueParts(text).map((part, i) =>
        part.issue ? (
          <a key={i} href={issueUrl(jira, part.issue)} target="_blank" rel="noopener noreferrer">
            {part.text}
          </a>
        ) : (
          <span key={i}>{part.text}</span>
        ),
      )}
    </>
  );
}

/**
 * A modal dialog (native `<dialog>`: focus moves into it, Escape closes it, focus returns to the opener) listing
 * the commits newest first, 50 at a time, with "Load more".
 */
function CommitsDialog({ request, onClose }: { request: DrillRequest; onClose: () => void }) {
  const { api } = useApp();
  const dialog = useRef<HTMLDialogElement>(null);
  const [commits, setCommits] = useState<CommitItem[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [jira, setJira] = useState<string | null>(null);
  const [status, setStatus] = useState<'loading' | 'ok' | 'error'>('loading');

  const load = (cursor: string | null, signal?: AbortSignal) => {
    setStatus('loading');
    api.commits(request.query, request.target, cursor, signal).then(
      (page) => {
        if (signal?.aborted) return;
        setCommits((shown) => (cursor ? [...shown, ...page.commits] : page.commits));
        setNext(page.nextCursor);
        setJira(page.jiraSiteUrl);
        setStatus('ok');
      },
      () => {
        if (!signal?.aborted) setStatus('error');
      },
    );
  };

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    dialog.current?.showModal();
    const controller = new AbortController();
    load(null, controller.signal);
    return () => {
      controller.abort();
      opener?.focus?.();
    };
    // One dialog per request: the provider mounts a new one for the next.
  }, []);

  return (
    <dialog
      ref={dialog}
      className="commits-dialog card"
      aria-labelledby="commits-dialog-title"
      onClose={onClose}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div className="dialog-head">
        <h2 id="commits-dialog-title">{request.title}</h2>
        <button type="button" className="button small" onClick={onClose} autoFocus>
          Close
        </button>
      </div>
      {status === 'error' ? (
        <p role="alert">The commits could not be loaded.</p>
      ) : commits.length === 0 && status === 'ok' ? (
        <p className="subtle">No commits here.</p>
      ) : null}
      <ol className="commit-list" aria-busy={status === 'loading'} data-testid="commit-list">
        {commits.map((c) => (
          <li key={`${c.repository}:${c.hash}`} data-testid="commit-item">
            <div className="commit-summary">
              <Summary text={c.summary} jira={jira} />
            </div>
            <div className="subtlest">
              <a href={c.link} target="_blank" rel="noopener noreferrer" className="hash">
                {c.hash.slice(0, 7)}
              </a>{' '}
              · {c.authorName} · {c.repository} · <time dateTime={c.date}>{c.date.slice(0, 10)}</time> ·{' '}
              <span className="added">+{formatCount(c.linesAdded)}</span>{' '}
              <span className="removed">−{formatCount(c.linesRemoved)}</span>
              {c.merge ? ' · merge' : ''}
            </div>
          </li>
        ))}
      </ol>
      {status === 'loading' ? <p className="subtle">Loading…</p> : null}
      {next && status === 'ok' ? (
        <button type="button" className="button" onClick={() => load(next)}>
          Load more
        </button>
      ) : null}
    </dialog>
  );
}
