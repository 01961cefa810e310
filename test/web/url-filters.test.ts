import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_FILTERS,
  drawnRange,
  parseFilters,
  requestInterval,
  resolveRange,
  serializeFilters,
} from '../../src/web/state/url-filters';

test('defaults when the URL has no filters, and bad values fall back', () => {
  assert.deepEqual(parseFilters(''), DEFAULT_FILTERS);
  assert.deepEqual(parseFilters('?range=forever&metric=vibes&merges=maybe'), DEFAULT_FILTERS);
});

test('a custom range needs two valid, ordered days', () => {
  assert.equal(parseFilters('?from=2024-01-01&to=2024-02-01').range, 'custom');
  assert.equal(parseFilters('?from=2024-02-01&to=2024-01-01').range, 'all');
  assert.equal(parseFilters('?range=custom&from=2024-02-30&to=2024-03-01').range, 'all');
});

test('filters round-trip through the query, keeping module parameters and dropping the page jwt', () => {
  const filters = {
    ...DEFAULT_FILTERS,
    range: '90d' as const,
    merges: true,
    metric: 'additions' as const,
    repos: ['{a}', '{b}'],
  };
  const query = serializeFilters(
    filters,
    '?repoUuid=%7Bx%7D&repoPath=ws%2Frepo&jwt=secret.token.here&range=1y',
  );
  const params = new URLSearchParams(query);
  assert.equal(params.get('jwt'), null);
  assert.equal(params.get('repoUuid'), '{x}');
  assert.equal(params.get('repoPath'), 'ws/repo');
  assert.deepEqual(parseFilters(query), filters);
});

test('only non-default values are written', () => {
  assert.equal(serializeFilters(DEFAULT_FILTERS, '?workspace=acme'), '?workspace=acme');
  assert.equal(
    serializeFilters({ ...DEFAULT_FILTERS, range: 'custom', from: '2024-01-01', to: '2024-01-31' }),
    '?from=2024-01-01&to=2024-01-31',
  );
});

test('presets resolve to inclusive day ranges ending today', () => {
  const today = '2024-06-15';
  assert.deepEqual(resolveRange({ ...DEFAULT_FILTERS, range: '30d' }, today), {
    from: '2024-05-17',
    to: today,
  });
  assert.deepEqual(resolveRange({ ...DEFAULT_FILTERS, range: '1y' }, today), {
    from: '2023-06-16',
    to: today,
  });
  assert.deepEqual(resolveRange(DEFAULT_FILTERS, today), { from: null, to: today });
});

test('all time is asked for in weeks and drawn from the first data point', () => {
  const all = { from: null, to: '2024-06-15' };
  assert.equal(requestInterval(all), 'week');
  assert.deepEqual(drawnRange(all, '2010-01-04'), {
    from: '2010-01-04',
    to: '2024-06-15',
    interval: 'month',
  });
  // A short history stays weekly: weekly data is never split into days.
  assert.equal(drawnRange(all, '2024-05-01').interval, 'week');
  assert.equal(drawnRange({ from: '2024-06-01', to: '2024-06-15' }, null).interval, 'day');
});
