import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  sparkValues,
  OTHERS_KEY,
  rankContributors,
  sparklinePath,
  stackContributors,
  type Contributor,
} from '../../src/web/chart-data/contributors';

const person = (
  id: string,
  commits: number,
  linesAdded: number,
  series: [string, number][],
): Contributor => ({
  id,
  name: `Person ${id}`,
  avatarUrl: null,
  commits,
  linesAdded,
  linesRemoved: 0,
  series: series.map(([period, n]) => ({ period, commits: n, linesAdded: n * 10, linesRemoved: 0 })),
});

const p = (period: string, commits: number) => ({
  period,
  commits,
  linesAdded: commits * 10,
  linesRemoved: 0,
});
const range = { from: '2024-01-01', to: '2024-01-03', interval: 'day' as const };
const people = [
  person('a', 3, 30, [['2024-01-01', 3]]),
  person('b', 5, 10, [
    ['2024-01-02', 4],
    ['2024-01-03', 1],
  ]),
  person('c', 1, 100, [['2024-01-03', 1]]),
];

test('rankContributors orders by the chosen metric', () => {
  assert.deepEqual(
    rankContributors(people, 'commits').map((c) => c.id),
    ['b', 'a', 'c'],
  );
  assert.deepEqual(
    rankContributors(people, 'additions').map((c) => c.id),
    ['c', 'a', 'b'],
  );
});

test('stackContributors stacks the top contributors and makes Others the rest of the total', () => {
  const top = rankContributors(people, 'commits').slice(0, 2); // b, a
  const total = [p('2024-01-01', 3), p('2024-01-02', 4), p('2024-01-03', 2)];
  const stacked = stackContributors(top, total, 'commits', range, 1);
  assert.deepEqual(
    stacked.keys.map((k) => [k.key, k.name]),
    [
      ['cb', 'Person b'],
      ['ca', 'Person a'],
      [OTHERS_KEY, '1 others'],
    ],
  );
  assert.deepEqual(stacked.rows, [
    { period: '2024-01-01', cb: 0, ca: 3, others: 0 },
    { period: '2024-01-02', cb: 4, ca: 0, others: 0 },
    { period: '2024-01-03', cb: 1, ca: 0, others: 1 },
  ]);
  // The stack adds up to the total in every period.
  stacked.rows.forEach((r, i) =>
    assert.equal((r.cb as number) + (r.ca as number) + (r.others as number), total[i]!.commits),
  );
});

test('stackContributors leaves out idle contributors and an empty Others', () => {
  const idle = person('z', 0, 0, []);
  const total = [p('2024-01-01', 3)];
  const stacked = stackContributors([people[0]!, idle], total, 'commits', range, 0);
  assert.deepEqual(
    stacked.keys.map((k) => k.key),
    ['ca'],
  );
  assert.equal(stacked.rows.length, 3);
});

test('sparkValues cover the whole range in the chosen metric', () => {
  assert.deepEqual(sparkValues(people[1]!.series, 'commits', range), [0, 4, 1]);
  assert.deepEqual(sparkValues(people[1]!.series, 'additions', range), [0, 40, 10]);
});

test('sparklinePath scales to the box', () => {
  assert.equal(sparklinePath([0, 2, 1], 100, 10), 'M0,10 L50,0 L100,5');
  assert.equal(sparklinePath([], 100, 10), '');
});
