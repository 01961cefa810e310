import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeFrequencyRows, fillSeries, seriesExtent, totals } from '../../src/web/chart-data/series';

const p = (period: string, commits: number, linesAdded = 0, linesRemoved = 0) => ({
  period,
  commits,
  linesAdded,
  linesRemoved,
});

test('fillSeries zero-fills quiet periods and sums points into coarser buckets', () => {
  const filled = fillSeries(
    [p('2024-01-02', 2, 10, 1), p('2024-01-04', 1, 5, 5), p('2024-01-16', 3)],
    '2024-01-01',
    '2024-01-21',
    'week',
  );
  assert.deepEqual(filled, [p('2024-01-01', 3, 15, 6), p('2024-01-08', 0), p('2024-01-15', 3)]);
});

test('fillSeries drops points outside the range', () => {
  const filled = fillSeries([p('2023-12-31', 9), p('2024-01-01', 1)], '2024-01-01', '2024-01-02', 'day');
  assert.deepEqual(
    filled.map((x) => x.commits),
    [1, 0],
  );
});

test('weekly points summed into months keep the total', () => {
  const weekly = [p('2024-01-01', 4), p('2024-01-29', 2), p('2024-02-05', 7)];
  const monthly = fillSeries(weekly, '2024-01-01', '2024-02-29', 'month');
  assert.deepEqual(
    monthly.map((x) => [x.period, x.commits]),
    [
      ['2024-01-01', 6],
      ['2024-02-01', 7],
    ],
  );
  assert.equal(totals(monthly).commits, totals(weekly).commits);
});

test('seriesExtent and code frequency rows', () => {
  assert.equal(seriesExtent([]), null);
  assert.deepEqual(seriesExtent([p('2024-05-01', 1), p('2023-01-01', 1)]), {
    from: '2023-01-01',
    to: '2024-05-01',
  });
  assert.deepEqual(codeFrequencyRows([p('2024-01-01', 1, 7, 3)]), [
    { period: '2024-01-01', additions: 7, deletions: -3 },
  ]);
});
