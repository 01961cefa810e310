import { useMemo } from 'react';
import { formatCount } from '../chart-data/format';
import { seriesExtent, totals } from '../chart-data/series';
import { useApp } from '../components/AppContext';
import { FilterBar } from '../components/FilterBar';
import { EmptyState } from '../components/States';
import { useApi } from '../hooks/useApi';
import { useChartColors } from '../hooks/useChartColors';
import { useFilters } from '../hooks/useFilters';
import { useStatsQuery } from '../hooks/useStatsQuery';
import {
  CodeFrequencyCard,
  CommitActivityCard,
  LinesTotalCard,
  PunchCardCard,
} from '../sections/ActivitySections';
import { ContributorsSection } from '../sections/ContributorsSection';
import { PullRequestSection } from '../sections/PullRequestSection';
import { drawnRange, resolveRange } from '../state/url-filters';

/** Repository "Graphs": contributors, commit activity, code frequency, punch card and pull requests of one repository. */
export default function RepositoryPage() {
  const { api, params, today } = useApp();
  const repoUuid = params.get('repoUuid') ?? '';
  const repoPath = params.get('repoPath') ?? '';
  const [filters, setFilters] = useFilters();
  const repos = useMemo(() => [repoUuid], [repoUuid]);
  const { query, key } = useStatsQuery(filters, repos);
  const colors = useChartColors();

  const activity = useApi(`activity:${key}`, (signal) => api.activity(query, signal));
  const contributors = useApi(`contributors:${key}`, (signal) => api.contributors(query, signal));
  const punch = useApi(`punch:${key}`, (signal) => api.punchCard(query, signal));
  const pullRequests = useApi(`prs:${key}`, (signal) => api.pullRequests(query, signal));

  const range = useMemo(
    () =>
      drawnRange(
        resolveRange(filters, today),
        seriesExtent(activity.data ?? [])?.from ?? null,
        filters.interval,
      ),
    [filters, today, activity.data],
  );
  const fileParts = [repoPath.split('/').pop() ?? null, range.from, 'to', range.to];
  const sums = totals(activity.data ?? []);

  if (!repoUuid)
    return <EmptyState title="No repository">Open this page from a repository in Bitbucket.</EmptyState>;
  return (
    <main>
      <h1 className="page-title">{repoPath || 'Graphs'}</h1>
      <p className="subtle">Contributors, commit activity, code frequency, punch card and pull requests</p>
      <FilterBar filters={filters} onChange={setFilters} showMetric />
      <div className="stat-row" aria-live="polite">
        <div className="stat">
          <div className="value" data-testid="total-commits">
            {activity.data ? formatCount(sums.commits) : '—'}
          </div>
          <div className="label">commits</div>
        </div>
        <div className="stat">
          <div className="value" data-testid="total-contributors">
            {contributors.data ? formatCount(contributors.data.length) : '—'}
          </div>
          <div className="label">contributors</div>
        </div>
        <div className="stat">
          <div className="value">
            {activity.data ? (
              <>
                <span className="added">+{formatCount(sums.linesAdded)}</span>{' '}
                <span className="removed">−{formatCount(sums.linesRemoved)}</span>
              </>
            ) : (
              '—'
            )}
          </div>
          <div className="label">lines</div>
        </div>
      </div>
      {activity.data && sums.commits === 0 && filters.range === 'all' ? (
        <EmptyState title="No commits in this repository yet">
          {filters.merges && filters.bots
            ? 'Graphs fill in once commits are pushed and Tally has indexed them.'
            : 'None that count, at least: merges and bots are left out unless included above.'}
        </EmptyState>
      ) : null}
      <ContributorsSection
        contributors={contributors}
        total={activity}
        query={query}
        queryKey={key}
        metric={filters.metric}
        range={range}
        colors={colors}
        fileParts={fileParts}
      />
      <div className="grid two">
        <CommitActivityCard
          state={activity}
          range={range}
          colors={colors}
          fileParts={fileParts}
          query={query}
        />
        <CodeFrequencyCard state={activity} range={range} colors={colors} fileParts={fileParts} />
      </div>
      <LinesTotalCard state={activity} range={range} colors={colors} fileParts={fileParts} />
      <PunchCardCard state={punch} colors={colors} fileParts={fileParts} />
      <PullRequestSection state={pullRequests} range={range} colors={colors} fileParts={fileParts} />
    </main>
  );
}
