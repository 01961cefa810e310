import { useMemo } from 'react';
import type { Interval } from '../chart-data/dates';
import { periodLabel } from '../chart-data/dates';
import { formatCount } from '../chart-data/format';
import { hourLabel, punchCardGrid, WEEKDAYS, type PunchCardCell } from '../chart-data/punch-card';
import { codeFrequencyRows, fillSeries, runningTotalRows, type PeriodPoint } from '../chart-data/series';
import type { DrillTarget, StatsQuery } from '../api/endpoints';
import { ChartCard } from '../components/ChartCard';
import { useDrillDown } from '../components/DrillDown';
import { DataTable } from '../components/DataTable';
import { BarsOverTime, DivergingAreaChart, StackedAreaChart } from '../charts/TimeCharts';
import { PunchCardChart } from '../charts/PunchCard';
import type { Loadable } from '../hooks/useApi';
import type { ChartColors } from '../hooks/useChartColors';

type Range = { from: string; to: string; interval: Interval };

/** What every card over a series of periods takes. */
interface SeriesCardProps {
  state: Loadable<PeriodPoint[]>;
  range: Range;
  colors: ChartColors;
  fileParts: (string | null)[];
}

/** A bucket of a series as the drill-down's parameter: the day, the week's Monday or the month. */
export function bucketTarget(period: string, interval: Interval): DrillTarget {
  if (interval === 'day') return { day: period };
  if (interval === 'week') return { week: period };
  return { month: period.slice(0, 7) };
}

export function CommitActivityCard({
  state,
  range,
  colors,
  fileParts,
  query,
}: SeriesCardProps & {
  /** The page's query: a bar (or its row in the table) then opens its commits. */
  query?: StatsQuery;
}) {
  const drill = useDrillDown();
  const open = query
    ? (period: string) =>
        drill({
          title: `Commits, ${periodLabel(period, range.interval)}`,
          query,
          target: bucketTarget(period, range.interval),
        })
    : undefined;
  const rows = useMemo(
    () => fillSeries(state.data ?? [], range.from, range.to, range.interval),
    [state.data, range],
  );
  const total = rows.reduce((n, r) => n + r.commits, 0);
  return (
    <ChartCard
      id="commit-activity"
      title="Commit activity"
      subtitle={`${formatCount(total)} commits, per ${range.interval}`}
      state={state}
      rows={rows}
      csvColumns={[
        { header: 'period', value: (r) => r.period },
        { header: 'commits', value: (r) => r.commits },
      ]}
      fileParts={['commit-activity', ...fileParts]}
      isEmpty={total === 0}
      height={260}
      table={
        <DataTable
          caption="Commit activity"
          rows={rows.filter((r) => r.commits > 0)}
          columns={[
            { header: 'Period', cell: (r) => periodLabel(r.period, range.interval) },
            { header: 'Commits', cell: (r) => formatCount(r.commits), numeric: true },
            ...(open
              ? [
                  {
                    header: 'List',
                    cell: (r: PeriodPoint) => (
                      <button
                        type="button"
                        className="button small"
                        onClick={() => open(r.period)}
                        aria-label={`Commits, ${periodLabel(r.period, range.interval)}`}
                      >
                        Commits
                      </button>
                    ),
                  },
                ]
              : []),
          ]}
        />
      }
    >
      <BarsOverTime
        onPeriod={open}
        rows={rows as unknown as Record<string, number | string>[]}
        keys={[{ key: 'commits', name: 'Commits', color: colors.brand }]}
        interval={range.interval}
        colors={colors}
        height={260}
        label="Commits over time"
      />
    </ChartCard>
  );
}

export function CodeFrequencyCard({ state, range, colors, fileParts }: SeriesCardProps) {
  const rows = useMemo(
    () => codeFrequencyRows(fillSeries(state.data ?? [], range.from, range.to, range.interval)),
    [state.data, range],
  );
  const added = rows.reduce((n, r) => n + r.additions, 0);
  const removed = rows.reduce((n, r) => n - r.deletions, 0);
  return (
    <ChartCard
      id="code-frequency"
      title="Code frequency"
      subtitle={`+${formatCount(added)} / −${formatCount(removed)} lines, per ${range.interval}`}
      state={state}
      rows={rows}
      csvColumns={[
        { header: 'period', value: (r) => r.period },
        { header: 'additions', value: (r) => r.additions },
        { header: 'deletions', value: (r) => 0 - r.deletions },
      ]}
      fileParts={['code-frequency', ...fileParts]}
      isEmpty={added === 0 && removed === 0}
      emptyHint="Line counts fill in while Tally indexes diffstats, newest commits first."
      legend={[
        { name: 'Additions', color: colors.success },
        { name: 'Deletions', color: colors.danger },
      ]}
      height={260}
      table={
        <DataTable
          caption="Code frequency"
          rows={rows.filter((r) => r.additions !== 0 || r.deletions !== 0)}
          columns={[
            { header: 'Period', cell: (r) => periodLabel(r.period, range.interval) },
            { header: 'Additions', cell: (r) => formatCount(r.additions), numeric: true },
            { header: 'Deletions', cell: (r) => formatCount(0 - r.deletions), numeric: true },
          ]}
        />
      }
    >
      <DivergingAreaChart
        rows={rows}
        keys={[
          { key: 'additions', name: 'Additions', color: colors.success },
          { key: 'deletions', name: 'Deletions', color: colors.danger },
        ]}
        interval={range.interval}
        colors={colors}
        height={260}
        label="Lines added and removed over time"
      />
    </ChartCard>
  );
}

/** Code frequency's running total: lines in the code over time (added − removed since the first commit). */
export function LinesTotalCard({ state, range, colors, fileParts }: SeriesCardProps) {
  const rows = useMemo(
    () =>
      runningTotalRows(state.data ?? [], fillSeries(state.data ?? [], range.from, range.to, range.interval)),
    [state.data, range],
  );
  const last = rows.at(-1)?.total ?? 0;
  return (
    <ChartCard
      id="lines-total"
      title="Lines of code"
      subtitle={`${formatCount(last)} lines at the end, added − removed since the first commit, per ${range.interval}`}
      state={state}
      rows={rows}
      csvColumns={[
        { header: 'period', value: (r) => r.period },
        { header: 'lines', value: (r) => r.total },
      ]}
      fileParts={['lines-of-code', ...fileParts]}
      isEmpty={rows.every((r) => r.total === 0)}
      emptyHint="Line counts fill in while Tally indexes diffstats, newest commits first."
      height={220}
      table={
        <DataTable
          caption="Lines of code"
          rows={rows}
          columns={[
            { header: 'Period', cell: (r) => periodLabel(r.period, range.interval) },
            { header: 'Lines', cell: (r) => formatCount(r.total), numeric: true },
          ]}
        />
      }
    >
      <StackedAreaChart
        rows={rows}
        keys={[{ key: 'total', name: 'Lines of code', color: colors.brand }]}
        interval={range.interval}
        colors={colors}
        height={220}
        label="Lines of code over time"
      />
    </ChartCard>
  );
}

export function PunchCardCard({
  state,
  colors,
  fileParts,
}: {
  state: Loadable<{ cells: PunchCardCell[]; timezone: string; note: string | null }>;
  colors: ChartColors;
  fileParts: (string | null)[];
}) {
  const grid = useMemo(() => punchCardGrid(state.data?.cells ?? []), [state.data]);
  const busiest = grid.points.reduce((best, p) => (p.commits > best.commits ? p : best), grid.points[0]!);
  return (
    <ChartCard
      id="punch-card"
      title="Punch card"
      subtitle={`Commits by day and hour (${state.data?.timezone ?? 'UTC'})${
        grid.max > 0 ? ` · busiest: ${WEEKDAYS[busiest.weekday]} ${hourLabel(busiest.hour)}` : ''
      }`}
      state={state}
      rows={grid.points}
      csvColumns={[
        { header: 'weekday', value: (p) => WEEKDAYS[p.weekday] },
        { header: 'hour', value: (p) => p.hour },
        { header: 'commits', value: (p) => p.commits },
      ]}
      fileParts={['punch-card', ...fileParts]}
      isEmpty={grid.total === 0}
      height={300}
      table={
        <DataTable
          caption="Punch card"
          rows={grid.grid.map((hours, row) => ({ row, hours }))}
          columns={[
            { header: 'Day', cell: (r) => WEEKDAYS[[1, 2, 3, 4, 5, 6, 0][r.row]!] },
            ...Array.from({ length: 24 }, (_, h) => ({
              header: hourLabel(h),
              cell: (r: { hours: number[] }) => r.hours[h],
              numeric: true,
            })),
          ]}
        />
      }
    >
      <PunchCardChart grid={grid} colors={colors} label="Commits by weekday and hour" />
    </ChartCard>
  );
}
