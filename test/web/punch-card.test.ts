import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bubbleRadius, hourLabel, punchCardGrid } from '../../src/web/chart-data/punch-card';

test('punchCardGrid fills 7 × 24, Monday first, and adds repeated cells', () => {
  const grid = punchCardGrid([
    { weekday: 1, hour: 9, commits: 2 },
    { weekday: 1, hour: 9, commits: 3 },
    { weekday: 0, hour: 23, commits: 1 },
    { weekday: 9, hour: 1, commits: 50 }, // not a weekday: ignored
  ]);
  assert.equal(grid.grid.length, 7);
  assert.ok(grid.grid.every((row) => row.length === 24));
  assert.equal(grid.grid[0]![9], 5); // Monday 9am
  assert.equal(grid.grid[6]![23], 1); // Sunday is the last row
  assert.equal(grid.max, 5);
  assert.equal(grid.total, 6);
  assert.equal(grid.points.length, 168);
});

test('bubbles scale by area', () => {
  assert.equal(bubbleRadius(0, 10, 20), 0);
  assert.equal(bubbleRadius(10, 10, 20), 20);
  assert.equal(Math.round(bubbleRadius(2.5, 10, 20)), 10);
});

test('hour labels', () => {
  assert.deepEqual([0, 1, 12, 13, 23].map(hourLabel), ['12a', '1a', '12p', '1p', '11p']);
});
