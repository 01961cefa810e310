import { useMemo } from 'react';
import type { StatsQuery } from '../api/endpoints';
import { calendarGrid, longestStreak } from '../chart-data/calendar';
import { addDays } from '../chart-data/dates';
import { formatCount } from '../chart-data/format';
import { monthlyActivity } from '../chart-data/profile';
import { totals } from '../chart-data/series';
import { useApp } from '../components/AppContext';
import { ChartCard } from '../components/ChartCard';
import { DataTable } from '../components/DataTable';
import { useDrillDown } from '../components/DrillDown';
import { Switch } from '../components/FilterBar';
import { EmptyState, ErrorState, Skeleton } from '../components/States';
import { HorizontalBars } from '../charts/Bars';
import { CalendarHeatmap } from '../charts/Calendar';
import { useApi } from '../hooks/useApi';
import { useChartColors } from '../hooks/useChartColors';
import { useFilters } from '../hooks/useFilters';
import { PullRequestSection } from '../sections/PullRequestSection';

/** Repositories asked about one by one; beyond this many the breakdown shows the first ones. */
const MAX_REPOSITORIES = 40;

/**
 * A person's contributions over the last year: calendar, per-repository breakdown, activity by month, their pull
 * requests and reviews.
 */
export default function ProfilePage() {
  const { api, params, today } = useApp();
  const user = params.get('user') ?? '';
  const [filters, setFilters] = useFilters();
  const colors = useChartColors();
  const drill = useDrillDown();
  const from = addDays(today, -364);
  const query: StatsQuery = useMemo(
    () => ({
      repos: [],
      from,
      to: today,
      interval: 'month',
      merges: filters.merges,
      bots: true,
      contributor: user,
    }),
    [from, today, filters.merges, user],
  );
  const key = JSON.stringify(query);
  // Their own pull requests and reviews (a profile token may ask for nothing else), in public repositories.
  const authored = useApi(`pr-author:${key}`, (signal) => api.pullRequests(query, signal, { author: user }));
  const reviewed = useApi(`pr-reviewer:${key}`, (signal) =>
    api.pullRequests(query, signal, { reviewer: user }),
  );
  const days = useApi(`calendar:${key}`, (signal) => api.calendar(user, from, today, filters.merges, signal));
  // Per repository, the person's monthly series: the breakdown and the activity list both come from it.
  const perRepository = useApi(`per-repo:${key}`, async (signal) => {
    const list = await api.repositoryList(signal);
    const repos = list.repositories.slice(0, MAX_REPOSITORIES);
    const series = await Promise.all(repos.map((r) => api.activity({ ...query, repos: [r.uuid] }, signal)));
    const rows = repos
      .map((r, i) => ({ uuid: r.uuid, fullName: r.fullName, series: series[i]!, ...totals(series[i]!) }))
      .filter((r) => r.commits > 0)
      .sort((a, b) => b.commits - a.commits || a.fullName.localeCompare(b.fullName));
    return { rows, publicOnly: list.publicOnly };
  });
  const activity = useMemo(
    () =>
      monthlyActivity((perRepository.data?.rows ?? []).map((r) => ({ name: r.fullName, series: r.series }))),
    [perRepository.data],
  );
  const grid = useMemo(() => calendarGrid(days.data ?? [], today), [days.data, today]);
  const streak = useMemo(() => longestStreak(days.data ?? []), [days.data]);
  const repos = perRepository.data?.rows ?? [];
  // A quiet year: ask once, across all time, whether the person ever committed here (most people opening a
  // profile tab are not the top committers, and an empty answer is a state, not an error).
  const quietYear = days.data !== undefined && grid.total === 0;
  const ever = useApi(`ever:${key}:${quietYear}`, (signal) =>
    quietYear ? api.activity({ ...query, from: null, interval: 'month' }, signal) : Promise.resolve(null),
  );
  const noContributions = perRepository.data !== undefined && repos.length === 0 && quietYear;
  const neverContributed = Array.isArray(ever.data) && ever.data.every((p) => p.commits === 0);
  // Bitbucket does not tell Tally which private repositories the viewer may read (SECURITY.md).
  const publicOnly = perRepository.data?.publicOnly ?? false;
  const fileParts = ['contributions', from, 'to', today];

  if (!user) return <EmptyState title="No person">Open this tab from a Bitbucket profile.</EmptyState>;
  return (
    <main>
      <h1 className="page-title">Contributions</h1>
      <p className="subtle">
        {publicOnly
          ? 'The last 12 months, across the public repositories of the workspace'
          : 'The last 12 months, across every repository in the workspace'}
      </p>
      {publicOnly && (
        <p className="subtle" data-testid="public-only">
          Public repositories only: private repositories are shown to workspace admins.
        </p>
      )}
      <div className="filter-bar" role="group" aria-label="Filters">
        <Switch
          label="Include merges"
          checked={filters.merges}
          onChange={(merges) => setFilters({ merges })}
        />
      </div>
      <div className="stat-row" aria-live="polite">
        <div className="stat">
          <div className="value" data-testid="year-contributions">
            {days.data ? formatCount(grid.total) : '—'}
          </div>
          <div className="label">commits in the last year</div>
        </div>
        <div className="stat">
          <div className="value">{days.data ? formatCount(grid.activeDays) : '—'}</div>
          <div className="label">active days</div>
        </div>
        <div className="stat">
          <div className="value">{days.data ? formatCount(streak) : '—'}</div>
          <div className="label">longest streak (days)</div>
        </div>
        <div className="stat">
          <div className="value">{perRepository.data ? formatCount(repos.length) : '—'}</div>
          <div className="label">repositories</div>
        </div>
      </div>
      {noContributions && ever.status === 'loading' ? (
        <Skeleton height={130} label="Loading contributions" />
      ) : noContributions ? (
        <EmptyState
          title={
            neverContributed
              ? 'No contributions in this workspace yet'
              : 'No contributions in the last 12 months'
          }
        >
          {neverContributed
            ? 'Commits show here once this person commits to a repository of the workspace and Tally has indexed it.'
            : 'Older commits of this person are in the workspace and repository graphs.'}
          {publicOnly ? ' Only public repositories are counted here.' : null}
        </EmptyState>
      ) : (
        <>
          <ChartCard
            id="calendar"
            title="Contributions calendar"
            subtitle={`${formatCount(grid.total)} commits from ${from} to ${today}`}
            state={days}
            rows={grid.weeks.flat().filter((c) => c !== null)}
            csvColumns={[
              { header: 'date', value: (c) => c.date },
              { header: 'commits', value: (c) => c.commits },
            ]}
            fileParts={['calendar', ...fileParts]}
            isEmpty={grid.total === 0}
            emptyTitle="No commits in the last year"
            emptyHint="Commits count once Tally has indexed them; merges are left out unless included."
            height={130}
          >
            <CalendarHeatmap
              grid={grid}
              colors={colors}
              label={`${grid.total} commits in the last year`}
              onDay={(date) => drill({ title: `Commits on ${date}`, query, target: { day: date } })}
            />
          </ChartCard>
          <div className="grid two">
            <ChartCard
              id="profile-repositories"
              title="By repository"
              subtitle="Commits in the last year"
              state={perRepository}
              rows={repos}
              csvColumns={[
                { header: 'repository', value: (r) => r.fullName },
                { header: 'commits', value: (r) => r.commits },
                { header: 'lines added', value: (r) => r.linesAdded },
                { header: 'lines removed', value: (r) => r.linesRemoved },
              ]}
              fileParts={['repositories', ...fileParts]}
              isEmpty={repos.length === 0}
              emptyTitle="No repositories in the last year"
              height={160}
              table={
                <DataTable
                  caption="Commits by repository"
                  rows={repos}
                  columns={[
                    { header: 'Repository', cell: (r) => r.fullName },
                    { header: 'Commits', cell: (r) => formatCount(r.commits), numeric: true },
                    { header: 'Lines added', cell: (r) => formatCount(r.linesAdded), numeric: true },
                    { header: 'Lines removed', cell: (r) => formatCount(r.linesRemoved), numeric: true },
                  ]}
                />
              }
            >
              <HorizontalBars
                rows={repos.map((r) => ({ name: r.fullName, commits: r.commits }))}
                keys={[{ key: 'commits', name: 'Commits', color: colors.brand }]}
                colors={colors}
                label="Commits by repository"
              />
            </ChartCard>
            <section className="card" aria-labelledby="activity-title">
              <h2 id="activity-title" style={{ font: 'var(--ds-font-heading-small)', margin: '0 0 8px' }}>
                Contribution activity
              </h2>
              {!perRepository.data && perRepository.status === 'error' ? (
                <ErrorState error={perRepository.error} onRetry={perRepository.reload} />
              ) : !perRepository.data ? (
                <Skeleton height={160} label="Loading activity" />
              ) : activity.length === 0 ? (
                <EmptyState title="No activity in the last year" />
              ) : (
                <ul className="activity-list" data-testid="activity-list">
                  {activity.map((m) => (
                    <li key={m.month}>
                      <span>
                        <strong>{m.label}</strong>: {formatCount(m.commits)} commit
                        {m.commits === 1 ? '' : 's'} in {m.repositories.length} repositor
                        {m.repositories.length === 1 ? 'y' : 'ies'}
                        <br />
                        <span className="subtlest">
                          {m.repositories.map((r) => `${r.name} (${formatCount(r.commits)})`).join(', ')}
                        </span>
                      </span>
                      <span className="subtlest" style={{ textAlign: 'right' }}>
                        <span className="added">+{formatCount(m.linesAdded)}</span>{' '}
                        <span className="removed">−{formatCount(m.linesRemoved)}</span>
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          </div>
        </>
      )}
      <PullRequestSection
        state={authored}
        range={{ from, to: today, interval: 'month' }}
        colors={colors}
        fileParts={['pull-requests', ...fileParts]}
      />
      <h2 className="section-title">Reviews</h2>
      <div className="stat-row" aria-live="polite">
        {(
          [
            ['reviews', 'reviews', 'profile-reviews'],
            ['approvals', 'approvals', 'profile-approvals'],
            ['changesRequested', 'changes requested', 'profile-changes-requested'],
          ] as const
        ).map(([field, label, testId]) => (
          <div className="stat" key={field}>
            <div className="value" data-testid={testId}>
              {reviewed.data ? formatCount(reviewed.data.reviewers[0]?.[field] ?? 0) : '—'}
            </div>
            <div className="label">{label} in the last year</div>
          </div>
        ))}
      </div>
    </main>
  );
}
