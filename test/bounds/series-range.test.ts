import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_SERIES_BUCKETS } from '../../src/analytics/series';
import { readExport } from '../support/load-export';
import { load, startAnalyticsApp, type AnalyticsFixture } from '../analytics/helpers';

/** Issue 13: a series never has more than ten years of days in buckets, whatever the range or interval asked. */
describe('series endpoints refuse more buckets than ten years of days', () => {
  let f: AnalyticsFixture;
  before(async () => {
    f = await startAnalyticsApp();
    // Two commits 110 years apart: an open range spans them.
    const [a, b] = readExport().filter((c) => c.parents.length === 1 && !/bot/i.test(c.author.email));
    await load(f, [
      { ...a!, date: '1900-01-01T12:00:00Z' },
      { ...b!, date: '2010-06-01T12:00:00Z' },
    ]);
  });
  after(() => f.app.close());

  const refused = async (path: string, params: Record<string, string>, buckets: number) => {
    const res = await f.api.get(path, params);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 400, `${path} ${JSON.stringify(params)}`);
    assert.equal(body.error.code, 'range_too_large');
    assert.match(body.error.message, new RegExp(`at most ${MAX_SERIES_BUCKETS} periods`));
    assert.match(body.error.message, new RegExp(`would have ${buckets}\\b`));
  };

  it('refuses the ranges of the issue on both series endpoints, at once and with a small answer', async () => {
    const huge = { since: '1000-01-01', until: '9999-12-31' };
    for (const path of ['/stats/activity', '/pull-requests/stats']) {
      await refused(path, { ...huge, interval: 'day' }, 3_287_181);
      await refused(path, { ...huge, interval: 'week' }, 469_598);
      await refused(path, { ...huge, interval: 'month' }, 108_000);
    }
  });

  it('answers exactly the limit and refuses one bucket more, for days, weeks and months', async () => {
    // 2015-01-01 … 2024-12-31: 3653 days.
    const days = await f.api.json<{ series: unknown[] }>('/stats/activity', {
      since: '2015-01-01',
      until: '2025-01-01',
      interval: 'day',
    });
    assert.equal(days.series.length, MAX_SERIES_BUCKETS);
    await refused('/stats/activity', { since: '2015-01-01', until: '2025-01-02', interval: 'day' }, 3654);
    // 1800-01 … 2104-05: 3653 months.
    const months = await f.api.json<{ series: unknown[] }>('/pull-requests/stats', {
      since: '1800-01-01',
      until: '2104-06-01',
      interval: 'month',
    });
    assert.equal(months.series.length, MAX_SERIES_BUCKETS);
    await refused(
      '/pull-requests/stats',
      { since: '1800-01-01', until: '2104-06-02', interval: 'month' },
      3654,
    );
    // Mondays 1950-01-02 … 2019-12-30: 3653 weeks; one more day reaches into the next week.
    const weeks = await f.api.json<{ series: unknown[] }>('/stats/activity', {
      since: '1950-01-02',
      until: '2019-12-31',
      interval: 'week',
    });
    assert.equal(weeks.series.length, MAX_SERIES_BUCKETS);
    await refused('/stats/activity', { since: '1950-01-02', until: '2020-01-07', interval: 'week' }, 3654);
  });

  it('counts the buckets an open range would span from the data', async () => {
    // 1900-01-01 … 2010-06-01 by day: 40,329 days; by month: 1,326 months, under the limit.
    await refused('/stats/activity', { interval: 'day' }, 40_329);
    await refused('/stats/activity', { since: '1899-12-31', interval: 'day' }, 40_330);
    const months = await f.api.json<{ series: { commits: number }[] }>('/stats/activity', {
      interval: 'month',
    });
    assert.equal(months.series.length, 1326);
    assert.equal(
      months.series.reduce((s, p) => s + Number(p.commits), 0),
      2,
    );
  });

  it('ranges at the ends of the calendar answer empty, not a 500 (found by the fuzz run)', async () => {
    const cases: [string, Record<string, string>][] = [];
    for (const path of [
      '/stats/activity',
      '/stats/top',
      '/stats/punchcard',
      '/stats/contributors',
      '/pull-requests/stats',
    ])
      cases.push(
        [path, { since: '9999-12-31' }],
        [path, { since: '9500-01-01' }],
        [path, { until: '1000-01-01' }],
      );
    for (const [path, params] of cases) {
      const res = await f.api.get(path, params);
      assert.equal(res.status, 200, `${path} ${JSON.stringify(params)}: ${await res.text()}`);
    }
  });
});
