import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fillSeries, runningTotalRows } from '../../src/web/chart-data/series';
import { teamRows } from '../../src/web/chart-data/teams';
import { drawnRange, parseFilters, requestInterval, serializeFilters } from '../../src/web/state/url-filters';

/** Issue 18: the running total of lines, teams side by side, and the day/week/month picker kept in the URL. */

const p = (period: string, linesAdded: number, linesRemoved: number, linesTotal?: number) => ({
  period,
  commits: 1,
  linesAdded,
  linesRemoved,
  ...(linesTotal === undefined ? {} : { linesTotal }),
});

test('the running total starts from what stood before the range and carries over quiet buckets', () => {
  // The server's totals: 100 lines stood before 2024-01-01.
  const points = [p('2024-01-01', 10, 5, 105), p('2024-01-15', 20, 0, 125)];
  const buckets = fillSeries(points, '2024-01-01', '2024-01-21', 'week');
  assert.deepEqual(runningTotalRows(points, buckets), [
    { period: '2024-01-01', total: 105 },
    { period: '2024-01-08', total: 105 },
    { period: '2024-01-15', total: 125 },
  ]);
  // Weeks summed into months: the month ends where its last week ends.
  const months = fillSeries(points, '2024-01-01', '2024-02-29', 'month');
  assert.deepEqual(
    runningTotalRows(points, months).map((r) => r.total),
    [125, 125],
  );
  // Without server totals (an older answer), from zero.
  const plain = [p('2024-01-01', 10, 5)];
  assert.deepEqual(runningTotalRows(plain, fillSeries(plain, '2024-01-01', '2024-01-01', 'day')), [
    { period: '2024-01-01', total: 5 },
  ]);
});

test('teams side by side: one column per team, pull requests bucketed like commits', () => {
  const teams = [
    {
      id: 1,
      name: 'Web',
      activity: [p('2024-01-02', 7, 1)],
      pullRequests: [{ period: '2024-01-08', created: 2 }],
    },
    { id: 2, name: 'Core', activity: [p('2024-01-09', 3, 0)], pullRequests: [] },
  ];
  const range = { from: '2024-01-01', to: '2024-01-14', interval: 'week' as const };
  assert.deepEqual(teamRows(teams, 'commits', range), [
    { period: '2024-01-01', 'team-1': 1, 'team-2': 0 },
    { period: '2024-01-08', 'team-1': 0, 'team-2': 1 },
  ]);
  assert.deepEqual(
    teamRows(teams, 'lines', range).map((r) => [r['team-1'], r['team-2']]),
    [
      [7, 0],
      [0, 3],
    ],
  );
  assert.deepEqual(
    teamRows(teams, 'pullRequests', range).map((r) => [r['team-1'], r['team-2']]),
    [
      [0, 0],
      [2, 0],
    ],
  );
});

test('the day/week/month choice is kept in the URL and asked of the server', () => {
  const filters = parseFilters('?range=1y&interval=month');
  assert.equal(filters.interval, 'month');
  assert.match(serializeFilters(filters), /interval=month/);
  assert.equal(serializeFilters({ ...filters, interval: 'auto' }).includes('interval'), false);
  assert.equal(parseFilters('?interval=fortnight').interval, 'auto');
  // Days over all time could exceed the server's ten years of buckets: the fitted interval instead.
  assert.equal(parseFilters('?interval=day').interval, 'auto');
  const year = { from: '2024-01-01', to: '2024-12-31' };
  assert.equal(requestInterval(year, 'day'), 'day');
  assert.equal(requestInterval(year), 'week');
  assert.equal(drawnRange(year, null, 'month').interval, 'month');
  assert.equal(drawnRange({ from: null, to: '2024-12-31' }, '2020-01-06', 'week').interval, 'week');
});
