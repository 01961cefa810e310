import ProgressBar from '@atlaskit/progress-bar';
import { useEffect } from 'react';
import { meaningfulPaint } from '../../host/paint';
import type { Indexing, RepositoryStatus } from '../../api/endpoints';
import { formatCount, formatEta, formatHours, percent } from '../../chart-data/format';
import { ErrorState, Skeleton } from '../../components/States';
import type { Loadable } from '../../hooks/useApi';

const STATE_LABEL: Record<RepositoryStatus['state'], [string, string]> = {
  listing: ['Listing commits', 'inprogress'],
  diffstats: ['Counting lines', 'inprogress'],
  ready: ['Ready', 'success'],
  failed: ['Failed', 'removed'],
};

/**
 * Indexing progress per repository with the hourly request budget in force and the time left at it, refreshed
 * every few seconds until every repository is done.
 */
export function IndexingSection({ state }: { state: Loadable<Indexing> }) {
  const busy = (state.data?.repositories ?? []).some((r) => r.state === 'listing' || r.state === 'diffstats');
  const { reload, status } = state;
  useEffect(() => {
    if (!busy || status === 'loading') return;
    const timer = setTimeout(reload, 3000);
    return () => clearTimeout(timer);
  }, [busy, status, reload]);

  const repos = state.data?.repositories ?? [];
  const left = repos.filter((r) => r.state !== 'ready' && r.etaSeconds !== null);
  const eta = left.length > 0 ? Math.max(...left.map((r) => r.etaSeconds!)) : null;
  const known = repos.reduce((n, r) => n + r.commitsKnown, 0);
  const counted = repos.reduce((n, r) => n + r.commitsWithLines, 0);
  return (
    <section className="card settings-section" aria-labelledby="indexing-title">
      <h3 id="indexing-title">Indexing</h3>
      <p className="subtle">
        Tally lists every commit first, then counts lines newest first, within Bitbucket's hourly request
        limit.
      </p>
      {state.data ? (
        // A block of its own: Element Timing reports text by its block, not by an inline span.
        <p className="subtle" {...meaningfulPaint}>
          {formatCount(counted)} of {formatCount(known)} commits in {repos.length}{' '}
          {repos.length === 1 ? 'repository have' : 'repositories have'} line counts.
        </p>
      ) : null}
      {state.data ? (
        <p className="subtle" data-testid="request-budget">
          Request budget: {formatCount(state.data.requestsPerHour)} requests an hour (
          {state.data.budgetSource === 'announced' ? 'announced by Bitbucket' : 'configured'})
          {eta !== null && eta > 0 ? `; every line counted in about ${formatHours(eta / 3600)}` : ''}.
        </p>
      ) : null}
      {!state.data && state.status === 'error' ? (
        <ErrorState error={state.error} onRetry={state.reload} />
      ) : !state.data ? (
        <Skeleton height={120} label="Loading repositories" />
      ) : repos.length === 0 ? (
        <p className="subtle">No repositories yet: listing starts right after installation.</p>
      ) : (
        <div className="table-scroll" style={{ maxHeight: 'none' }}>
          <table className="data" aria-label="Indexing progress per repository">
            <thead>
              <tr>
                <th scope="col">Repository</th>
                <th scope="col">State</th>
                <th scope="col" className="progress-cell">
                  Line counts
                </th>
                <th scope="col" className="num">
                  Commits
                </th>
                <th scope="col" className="num">
                  Requests used
                </th>
                <th scope="col" className="num">
                  Time left
                </th>
              </tr>
            </thead>
            <tbody>
              {repos.map((r) => {
                const done = percent(r.commitsWithLines, r.commitsKnown);
                // Every line counted, not ready yet: the pull-request pass is still running.
                const [label, tone] =
                  r.state === 'diffstats' && r.commitsWithLines >= r.commitsKnown
                    ? ['Reading pull requests', 'inprogress']
                    : STATE_LABEL[r.state];
                return (
                  <tr key={r.uuid} data-testid="indexing-row">
                    <td>{r.fullName}</td>
                    <td>
                      <span className={`lozenge ${tone}`}>{label}</span>
                    </td>
                    <td className="progress-cell">
                      <ProgressBar
                        value={r.state === 'ready' ? 1 : done / 100}
                        isIndeterminate={r.state === 'listing'}
                        appearance={r.state === 'ready' ? 'success' : 'default'}
                        ariaLabel={`${r.fullName}: ${Math.floor(done)}% of commits have line counts`}
                      />
                    </td>
                    <td className="num">
                      {formatCount(r.commitsWithLines)} / {formatCount(r.commitsKnown)}
                    </td>
                    <td className="num">{formatCount(r.requestsUsed)}</td>
                    <td className="num">{r.state === 'ready' ? '—' : formatEta(r.etaSeconds)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
