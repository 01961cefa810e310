import { useMemo } from 'react';
import { rankContributors, metricOf } from '../chart-data/contributors';
import { formatCount } from '../chart-data/format';
import { seriesExtent, totals } from '../chart-data/series';
import { useApp } from '../components/AppContext';
import { ChartCard } from '../components/ChartCard';
import { DataTable } from '../components/DataTable';
import { FilterBar } from '../components/FilterBar';
import { ProjectPicker } from '../components/ProjectPicker';
import { RepoPicker } from '../components/RepoPicker';
import { HorizontalBars } from '../charts/Bars';
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
import { TeamsSection } from '../sections/TeamsSection';
import { drawnRange, resolveRange } from '../state/url-filters';
import { ServerExports } from '../sections/ServerExports';

const METRIC_LABEL = { commits: 'Commits', additions: 'Lines added', deletions: 'Lines removed' } as const;

/** Workspace analytics: the repository graphs across several repositories, top lists and pull-request reports. */
export default function WorkspacePage() {
  const { api, params, today } = useApp();
  const workspace = params.get('workspace') ?? '';
  const [filters, setFilters] = useFilters();
  const { query, key } = useStatsQuery(filters, filters.repos);
  const colors = useChartColors();

  const repositories = useApi('repositories', (signal) => api.repositories(signal));
  const activity = useApi(`activity:${key}`, (signal) => api.activity(query, signal));
  const contributors = useApi(`contributors:${key}`, (signal) => api.contributors(query, signal));
  const punch = useApi(`punch:${key}`, (signal) => api.punchCard(query, signal));
  const topRepos = useApi(`repos:${key}`, (signal) => api.topRepositories(query, signal));
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
  const scope = filters.repos.length === 0 ? workspace : `${filters.repos.length}-repositories`;
  const fileParts = [scope, range.from, 'to', range.to];
  const sums = totals(activity.data ?? []);
  const metric = filters.metric;
  const top = useMemo(
    () =>
      rankContributors(contributors.data ?? [], metric)
        .slice(0, 10)
        .map((c) => ({
          name: c.name,
          value: metricOf(c, metric),
          commits: c.commits,
          linesAdded: c.linesAdded,
          linesRemoved: c.linesRemoved,
        })),
    [contributors.data, metric],
  );
  const repoRows = useMemo(
    () =>
      [...(topRepos.data ?? [])]
        .sort((a, b) => metricOf(b, metric) - metricOf(a, metric))
        .slice(0, 10)
        .map((r) => ({
          name: r.fullName,
          value: metricOf(r, metric),
          commits: r.commits,
          linesAdded: r.linesAdded,
          linesRemoved: r.linesRemoved,
        })),
    [topRepos.data, metric],
  );
  type TopRow = (typeof top)[number];
  const topColumns = [
    { header: 'name', value: (r: TopRow) => r.name },
    { header: 'commits', value: (r: TopRow) => r.commits },
    { header: 'lines added', value: (r: TopRow) => r.linesAdded },
    { header: 'lines removed', value: (r: TopRow) => r.linesRemoved },
  ];
  const topTable = (caption: string, rows: TopRow[]) => (
    <DataTable
      caption={caption}
      rows={rows}
      columns={[
        { header: 'Name', cell: (r) => r.name },
        { header: 'Commits', cell: (r) => formatCount(r.commits), numeric: true },
        { header: 'Lines added', cell: (r) => formatCount(r.linesAdded), numeric: true },
        { header: 'Lines removed', cell: (r) => formatCount(r.linesRemoved), numeric: true },
      ]}
    />
  );

  return (
    <main>
      <h1 className="page-title">Workspace analytics</h1>
      <p className="subtle">{workspace}</p>
      <ServerExports query={query} fileParts={fileParts} />
      <FilterBar filters={filters} onChange={setFilters} showMetric>
        <RepoPicker
          repositories={repositories.data ?? []}
          selected={filters.repos}
          onChange={(repos) => setFilters({ repos })}
        />
        <ProjectPicker
          repositories={repositories.data ?? []}
          selected={filters.projects}
          onChange={(projects) => setFilters({ projects })}
        />
      </FilterBar>
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
            {repositories.data ? formatCount(filters.repos.length || repositories.data.length) : '—'}
          </div>
          <div className="label">repositories</div>
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
      <div className="grid two">
        <ChartCard
          id="top-contributors"
          title="Top contributors"
          subtitle={METRIC_LABEL[metric]}
          state={contributors}
          rows={top}
          csvColumns={topColumns}
          fileParts={['top-contributors', ...fileParts]}
          isEmpty={top.every((r) => r.value === 0)}
          height={200}
          table={topTable('Top contributors', top)}
        >
          <HorizontalBars
            rows={top}
            keys={[{ key: 'value', name: METRIC_LABEL[metric], color: colors.brand }]}
            colors={colors}
            label="Top contributors"
          />
        </ChartCard>
        <ChartCard
          id="top-repositories"
          title="Top repositories"
          subtitle={METRIC_LABEL[metric]}
          state={topRepos}
          rows={repoRows}
          csvColumns={topColumns}
          fileParts={['top-repositories', ...fileParts]}
          isEmpty={repoRows.every((r) => r.value === 0)}
          height={200}
          table={topTable('Top repositories', repoRows)}
        >
          <HorizontalBars
            rows={repoRows}
            keys={[{ key: 'value', name: METRIC_LABEL[metric], color: colors.series[1]! }]}
            colors={colors}
            label="Top repositories"
          />
        </ChartCard>
      </div>
      <ContributorsSection
        contributors={contributors}
        total={activity}
        query={query}
        queryKey={key}
        metric={metric}
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
      <TeamsSection query={query} queryKey={key} range={range} colors={colors} fileParts={fileParts} />
    </main>
  );
}
