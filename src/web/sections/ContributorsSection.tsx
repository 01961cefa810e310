import { useEffect, useMemo, useState } from 'react';
import type { StatsQuery } from '../api/endpoints';
import {
  metricOf,
  OTHERS_KEY,
  rankContributors,
  sparkValues,
  stackContributors,
  type Contributor,
  type Metric,
} from '../chart-data/contributors';
import type { Interval } from '../chart-data/dates';
import { formatCount } from '../chart-data/format';
import type { PeriodPoint } from '../chart-data/series';
import { useApp } from '../components/AppContext';
import { ChartCard } from '../components/ChartCard';
import { DataTable } from '../components/DataTable';
import { useDrillDown } from '../components/DrillDown';
import { Sparkline } from '../components/Sparkline';
import { StackedAreaChart } from '../charts/TimeCharts';
import { useApi, type Loadable } from '../hooks/useApi';
import type { ChartColors } from '../hooks/useChartColors';
import { createSeriesLoader, type SeriesLoader } from '../hooks/seriesLoader';

const METRIC_LABEL: Record<Metric, string> = {
  commits: 'Commits',
  additions: 'Lines added',
  deletions: 'Lines removed',
};
const STACKED = 8;
const CARD_PAGE = 24;

type Range = { from: string; to: string; interval: Interval };

function initials(name: string): string {
  return (
    name
      .split(/[\s._-]+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0]!.toUpperCase())
      .join('') || '?'
  );
}

function ContributorCard({
  contributor,
  rank,
  color,
  metric,
  range,
  loader,
  loaderKey,
  onCommits,
}: {
  onCommits: () => void;
  contributor: Contributor;
  rank: number;
  color: string;
  metric: Metric;
  range: Range;
  loader: SeriesLoader;
  loaderKey: string;
}) {
  const series = useApi(`${loaderKey}:${contributor.id}`, () => loader.load(contributor.id));
  const values = useMemo(
    () => (series.data ? sparkValues(series.data, metric, range) : []),
    [series.data, metric, range],
  );
  return (
    <li className="card contributor-card" data-testid="contributor-card">
      <span className="avatar" style={{ ['--avatar-ring' as string]: color }} aria-hidden="true">
        {initials(contributor.name)}
      </span>
      <div style={{ minWidth: 0 }}>
        <div className="name" title={contributor.name}>
          {contributor.name}
        </div>
        <div className="subtlest">
          <span data-testid="card-commits">{formatCount(contributor.commits)} commits</span> ·{' '}
          <span className="added">+{formatCount(contributor.linesAdded)}</span>{' '}
          <span className="removed">−{formatCount(contributor.linesRemoved)}</span>
        </div>
      </div>
      <span className="rank">#{rank}</span>
      <button
        type="button"
        className="button small card-commits"
        onClick={onCommits}
        aria-label={`Commits by ${contributor.name}`}
      >
        Commits
      </button>
      {series.data ? (
        <Sparkline
          values={values}
          color={color}
          label={`${contributor.name}: ${METRIC_LABEL[metric].toLowerCase()} per ${range.interval}`}
        />
      ) : (
        <div className="skeleton" style={{ gridColumn: '1 / -1', height: 40 }} aria-hidden="true" />
      )}
    </li>
  );
}

/** Contributors over time (stacked) and one card per contributor, like GitHub's contributors graph. */
export function ContributorsSection({
  contributors,
  total,
  query,
  queryKey,
  metric,
  range,
  colors,
  fileParts,
}: {
  contributors: Loadable<Contributor[]>;
  /** Everyone's series, so "Others" is the total minus the stacked contributors. */
  total: Loadable<PeriodPoint[]>;
  query: StatsQuery;
  queryKey: string;
  metric: Metric;
  range: Range;
  colors: ChartColors;
  fileParts: (string | null)[];
}) {
  const { api } = useApp();
  const drill = useDrillDown();
  const [shownCards, setShownCards] = useState(CARD_PAGE);
  // The cards render after the charts have painted: the graphs come first, the two dozen cards a frame later.
  const [cardsReady, setCardsReady] = useState(false);
  useEffect(() => {
    if (cardsReady || !contributors.data) return;
    let timer = 0;
    const frame = requestAnimationFrame(() => {
      timer = window.setTimeout(() => setCardsReady(true), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [cardsReady, contributors.data]);
  const loader = useMemo(
    () => createSeriesLoader((key) => api.contributorSeries(key, query)),
    // A new cache whenever the filters change.
    [api, queryKey],
  );
  const ranked = useMemo(
    () => rankContributors(contributors.data ?? [], metric),
    [contributors.data, metric],
  );
  const top = ranked.slice(0, STACKED);
  const topKey = top.map((c) => c.id).join('|');
  const stackedSeries = useApi(`stack:${queryKey}:${topKey}`, async () => {
    const series = await Promise.all(top.map((c) => loader.load(c.id)));
    return top.map((c, i) => ({ ...c, series: series[i]! }));
  });
  const stacked = useMemo(
    () =>
      stackContributors(
        stackedSeries.data ?? [],
        total.data ?? [],
        metric,
        range,
        Math.max(0, ranked.length - STACKED),
      ),
    [stackedSeries.data, total.data, metric, range, ranked.length],
  );
  const colorOf = (key: string, i: number) =>
    key === OTHERS_KEY ? colors.neutral : colors.series[i % colors.series.length]!;
  const keys = stacked.keys.map((k, i) => ({ ...k, color: colorOf(k.key, i) }));
  const label = METRIC_LABEL[metric];
  const isEmpty = ranked.every((c) => metricOf(c, metric) === 0);
  // The chart waits for the list, the stacked series and the total.
  const state =
    contributors.status !== 'ok'
      ? contributors
      : stackedSeries.status !== 'ok'
        ? stackedSeries
        : total.status !== 'ok'
          ? total
          : stackedSeries;

  return (
    <>
      <ChartCard
        id="contributors"
        title={`Contributors · ${label.toLowerCase()}`}
        subtitle={`${label} per ${range.interval}; the top ${Math.min(STACKED, ranked.length)} stacked, everyone else as “Others”`}
        state={state}
        rows={stacked.rows}
        csvColumns={[
          { header: 'period', value: (r) => r.period as string },
          ...keys.map((k) => ({
            header: k.name,
            value: (r: Record<string, number | string>) => r[k.key] as number,
          })),
        ]}
        fileParts={['contributors', metric, ...fileParts]}
        isEmpty={isEmpty}
        legend={keys.map((k) => ({ name: k.name, color: k.color }))}
        height={320}
        table={
          <DataTable
            caption="Contributors"
            rows={ranked.map((c, i) => ({ ...c, rank: i + 1 }))}
            columns={[
              { header: '#', cell: (c) => c.rank, numeric: true },
              { header: 'Contributor', cell: (c) => c.name },
              { header: 'Commits', cell: (c) => formatCount(c.commits), numeric: true },
              { header: 'Lines added', cell: (c) => formatCount(c.linesAdded), numeric: true },
              { header: 'Lines removed', cell: (c) => formatCount(c.linesRemoved), numeric: true },
            ]}
          />
        }
      >
        <StackedAreaChart
          rows={stacked.rows}
          keys={keys}
          interval={range.interval}
          colors={colors}
          height={320}
          label={`${label} by contributor`}
        />
      </ChartCard>
      {cardsReady && ranked.length > 0 && !isEmpty ? (
        <>
          <ol
            className="grid cards"
            aria-label="Contributors"
            style={{ listStyle: 'none', padding: 0, margin: '0 0 16px' }}
          >
            {ranked.slice(0, shownCards).map((c, i) => (
              <ContributorCard
                key={c.id}
                contributor={c}
                rank={i + 1}
                color={i < STACKED ? colors.series[i % colors.series.length]! : colors.neutral}
                metric={metric}
                range={range}
                loader={loader}
                loaderKey={queryKey}
                onCommits={() =>
                  drill({ title: `Commits by ${c.name}`, query, target: { contributor: c.id } })
                }
              />
            ))}
          </ol>
          {ranked.length > shownCards ? (
            <button type="button" className="button" onClick={() => setShownCards((n) => n + CARD_PAGE)}>
              Show more contributors ({ranked.length - shownCards} more)
            </button>
          ) : null}
        </>
      ) : null}
    </>
  );
}
