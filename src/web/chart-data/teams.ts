import type { Interval } from './dates';
import { fillSeries, type PeriodPoint } from './series';

export type TeamMetric = 'commits' | 'lines' | 'pullRequests';

export const TEAM_METRICS: { value: TeamMetric; label: string }[] = [
  { value: 'commits', label: 'Commits' },
  { value: 'lines', label: 'Lines added' },
  { value: 'pullRequests', label: 'Pull requests' },
];

export interface TeamSeries {
  id: number;
  name: string;
  activity: PeriodPoint[];
  /** Pull requests created per period. */
  pullRequests: { period: string; created: number }[];
}

/**
 * One row per drawn bucket with one column per team (`team-<id>`): the teams side by side. Pull requests are
 * bucketed like commits (created per period), so every metric shares the range and interval of the other charts.
 */
export function teamRows(
  teams: TeamSeries[],
  metric: TeamMetric,
  range: { from: string; to: string; interval: Interval },
): Record<string, string | number>[] {
  const filled = teams.map((t) =>
    fillSeries(
      metric === 'pullRequests'
        ? t.pullRequests.map((p) => ({
            period: p.period,
            commits: p.created,
            linesAdded: 0,
            linesRemoved: 0,
          }))
        : t.activity,
      range.from,
      range.to,
      range.interval,
    ),
  );
  return (filled[0] ?? fillSeries([], range.from, range.to, range.interval)).map((bucket, i) => {
    const row: Record<string, string | number> = { period: bucket.period };
    teams.forEach((t, j) => {
      const p = filled[j]![i]!;
      row[`team-${t.id}`] = metric === 'lines' ? p.linesAdded : p.commits;
    });
    return row;
  });
}
