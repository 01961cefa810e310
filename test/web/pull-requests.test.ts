import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createdVsMerged } from '../../src/web/chart-data/pull-requests';

test('createdVsMerged zero-fills and buckets', () => {
  const rows = createdVsMerged(
    [
      { period: '2024-01-01', created: 2, merged: 1 },
      { period: '2024-01-03', created: 1, merged: 0 },
    ],
    { from: '2024-01-01', to: '2024-01-14', interval: 'week' },
  );
  assert.deepEqual(rows, [
    { period: '2024-01-01', created: 3, merged: 1 },
    { period: '2024-01-08', created: 0, merged: 0 },
  ]);
});
