import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calendarGrid, levelOf, levelThresholds, longestStreak } from '../../src/web/chart-data/calendar';

test('calendarGrid lays out exactly 365 days in Sunday-first weeks', () => {
  const grid = calendarGrid(
    [
      { date: '2024-06-14', commits: 3 },
      { date: '2024-06-14', commits: 1 },
      { date: '2023-06-01', commits: 99 }, // older than a year: not counted
    ],
    '2024-06-15',
  );
  const cells = grid.weeks.flat().filter((c) => c !== null);
  assert.equal(cells.length, 365);
  assert.equal(cells[0]!.date, '2023-06-17');
  assert.equal(cells.at(-1)!.date, '2024-06-15');
  assert.ok(grid.weeks.every((w) => w.length === 7));
  // 2024-06-15 is a Saturday: the last cell of the last column.
  assert.equal(grid.weeks.at(-1)![6]!.date, '2024-06-15');
  assert.equal(grid.total, 4);
  assert.equal(grid.activeDays, 1);
  assert.equal(cells.find((c) => c.date === '2024-06-14')!.commits, 4);
});

test('levels follow quartiles of active days', () => {
  const thresholds = levelThresholds([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(levelOf(0, thresholds), 0);
  assert.equal(levelOf(1, thresholds), 1);
  assert.equal(levelOf(8, thresholds), 4);
  assert.ok(levelOf(4, thresholds) >= 2 && levelOf(4, thresholds) <= 3);
});

test('month labels start where a month starts', () => {
  const grid = calendarGrid([], '2024-12-31');
  assert.deepEqual(
    grid.months.map((m) => m.label),
    ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
  );
});

test('longestStreak counts consecutive active days', () => {
  const days = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-05', '2024-01-06'].map((date) => ({
    date,
    commits: 1,
  }));
  assert.equal(longestStreak(days), 3);
  assert.equal(longestStreak([]), 0);
});
