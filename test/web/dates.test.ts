import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addMonths,
  enumeratePeriods,
  intervalFor,
  isDay,
  periodStart,
  startOfWeek,
} from '../../src/web/chart-data/dates';

test('weeks start on Monday, months on the first', () => {
  assert.equal(startOfWeek('2024-03-10'), '2024-03-04'); // a Sunday belongs to the week before
  assert.equal(startOfWeek('2024-03-11'), '2024-03-11');
  assert.equal(periodStart('2024-03-31', 'month'), '2024-03-01');
  assert.equal(periodStart('2024-03-31T23:00:00Z', 'day'), '2024-03-31');
});

test('enumeratePeriods covers both ends inclusively, across year and month boundaries', () => {
  assert.deepEqual(enumeratePeriods('2023-12-30', '2024-01-02', 'day'), [
    '2023-12-30',
    '2023-12-31',
    '2024-01-01',
    '2024-01-02',
  ]);
  assert.deepEqual(enumeratePeriods('2024-01-31', '2024-03-01', 'month'), [
    '2024-01-01',
    '2024-02-01',
    '2024-03-01',
  ]);
  assert.deepEqual(enumeratePeriods('2024-01-03', '2024-01-15', 'week'), [
    '2024-01-01',
    '2024-01-08',
    '2024-01-15',
  ]);
});

test('addMonths clamps to the last day of shorter months', () => {
  assert.equal(addMonths('2024-01-31', 1), '2024-02-29');
  assert.equal(addMonths('2023-03-31', -1), '2023-02-28');
});

test('intervalFor picks days, weeks or months by span', () => {
  assert.equal(intervalFor('2024-01-01', '2024-03-01'), 'day');
  assert.equal(intervalFor('2024-01-01', '2025-01-01'), 'week');
  assert.equal(intervalFor('2010-01-01', '2025-01-01'), 'month');
});

test('isDay accepts only real calendar days', () => {
  assert.equal(isDay('2024-02-29'), true);
  assert.equal(isDay('2023-02-29'), false);
  assert.equal(isDay('2024-2-1'), false);
  assert.equal(isDay('yesterday'), false);
});
