import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monthlyActivity } from '../../src/web/chart-data/profile';

test('monthlyActivity groups repositories by month, newest first, without quiet months', () => {
  const p = (period: string, commits: number) => ({
    period,
    commits,
    linesAdded: commits * 2,
    linesRemoved: commits,
  });
  const months = monthlyActivity([
    { name: 'acme/web', series: [p('2024-01-01', 2), p('2024-02-01', 0), p('2024-03-01', 1)] },
    { name: 'acme/api', series: [p('2024-03-01', 5)] },
  ]);
  assert.deepEqual(
    months.map((m) => [m.label, m.commits, m.repositories.map((r) => r.name)]),
    [
      ['Mar 2024', 6, ['acme/api', 'acme/web']],
      ['Jan 2024', 2, ['acme/web']],
    ],
  );
  assert.equal(months[0]!.linesAdded, 12);
});
