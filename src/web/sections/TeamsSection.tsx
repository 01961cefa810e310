import { useMemo, useState } from 'react';
import type { StatsQuery } from '../api/endpoints';
import type { Interval } from '../chart-data/dates';
import { periodLabel } from '../chart-data/dates';
import { formatCount } from '../chart-data/format';
import { TEAM_METRICS, teamRows, type TeamMetric, type TeamSeries } from '../chart-data/teams';
import { useApp } from '../components/AppContext';
import { ChartCard } from '../components/ChartCard';
import { DataTable } from '../components/DataTable';
import { Segmented } from '../components/FilterBar';
import { BarsOverTime } from '../charts/TimeCharts';
import { useApi } from '../hooks/useApi';
import type { ChartColors } from '../hooks/useChartColors';

/** The most teams drawn side by side (one bar each per period); the rest are named under the chart. */
const MAX_TEAMS_DRAWN = 8;

/** Teams side by side (workspace page): commits, lines added or pull requests per team over time. */
export function TeamsSection({
  query,
  queryKey,
  range,
  colors,
  fileParts,
}: {
  query: StatsQuery;
  queryKey: string;
  range: { from: string; to: string; interval: Interval };
  colors: ChartColors;
  fileParts: (string | null)[];
}) {
  const { api } = useApp();
  const [metric, setMetric] = useState<TeamMetric>('commits');
  const teams = useApi('teams', (signal) => api.teams(signal));
  const list = teams.data ?? [];
  const drawn = list.slice(0, MAX_TEAMS_DRAWN);
  const series = useApi(`team-series:${queryKey}:${drawn.map((t) => t.id).join(',')}`, (signal) =>
    Promise.all(
      drawn.map(async (t): Promise<TeamSeries> => ({
        id: t.id,
        name: t.name,
        activity: await api.activity({ ...query, team: t.id }, signal),
        pullRequests: (await api.pullRequests({ ...query, team: t.id }, signal)).series,
      })),
    ),
  );
  const rows = useMemo(() => teamRows(series.data ?? [], metric, range), [series.data, metric, range]);
  const label = TEAM_METRICS.find((m) => m.value === metric)!.label;
  const keys = (series.data ?? []).map((t, i) => ({
    key: `team-${t.id}`,
    name: t.name,
    color: colors.series[i % colors.series.length]!,
  }));
  if (teams.data && list.length === 0)
    return (
      <>
        <h2 className="section-title">Teams</h2>
        <p className="subtle" data-testid="no-teams">
          No teams yet: workspace admins define them on Tally&apos;s configure page.
        </p>
      </>
    );
  return (
    <>
      <h2 className="section-title">Teams</h2>
      <div className="filter-bar" role="group" aria-label="Team comparison">
        <Segmented label="Compare" options={TEAM_METRICS} value={metric} onChange={setMetric} />
      </div>
      <ChartCard
        id="teams"
        title={`${label} per team`}
        subtitle={`Per ${range.interval}${list.length > MAX_TEAMS_DRAWN ? `; the first ${MAX_TEAMS_DRAWN} teams` : ''}`}
        state={series}
        rows={rows}
        csvColumns={[
          { header: 'period', value: (r) => r.period },
          ...keys.map((k) => ({ header: k.name, value: (r: Record<string, string | number>) => r[k.key] })),
        ]}
        fileParts={['teams', metric, ...fileParts]}
        isEmpty={rows.every((r) => keys.every((k) => r[k.key] === 0))}
        legend={keys.map((k) => ({ name: k.name, color: k.color }))}
        height={280}
        table={
          <DataTable
            caption={`${label} per team`}
            rows={rows}
            columns={[
              { header: 'Period', cell: (r) => periodLabel(String(r.period), range.interval) },
              ...keys.map((k) => ({
                header: k.name,
                cell: (r: Record<string, string | number>) => formatCount(Number(r[k.key])),
                numeric: true,
              })),
            ]}
          />
        }
      >
        <BarsOverTime
          rows={rows}
          keys={keys}
          interval={range.interval}
          colors={colors}
          height={280}
          label={`${label} per team over time`}
        />
      </ChartCard>
    </>
  );
}
