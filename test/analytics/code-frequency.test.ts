import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readExport } from '../support/load-export';
import { load, startAnalyticsApp, type AnalyticsFixture, type Params } from './helpers';

/**
 * Issue 18, item 6: code frequency with a running total. `lines_total` of each period is lines added − removed by
 * every commit in scope up to its end, from the first commit, whatever `since` says.
 */

interface Point {
  period: string;
  lines_added: number;
  lines_removed: number;
  lines_total: number;
}
interface Person {
  lines_added: number;
  lines_removed: number;
}

describe('code frequency: the running total of lines', () => {
  let f: AnalyticsFixture;
  let repository: string;

  before(async () => {
    f = await startAnalyticsApp();
    repository = (await load(f, readExport().slice(0, 500), { repository: { fullName: 'acme/one' } })).uuid;
    await load(f, readExport().slice(500, 900), { repository: { fullName: 'acme/two' } });
  });
  after(() => f.app.close());

  const series = async (params: Params) =>
    (await f.api.json<{ series: Point[] }>('/stats/activity', { interval: 'month', ...params })).series;
  /** Net lines of everything before `until`, from the contributors' totals (another query path). */
  const netBefore = async (params: Params) =>
    (await f.api.json<{ contributors: Person[] }>('/stats/contributors', params)).contributors.reduce(
      (s, c) => s + c.lines_added - c.lines_removed,
      0,
    );

  for (const filters of [{}, { merges: 'include', bots: 'include' }, { exclusions: 'ignore' }] as Params[])
    it(`adds up added − removed from the first commit (${JSON.stringify(filters)})`, async () => {
      for (const scope of [{}, { repository }] as Params[]) {
        const all = await series({ ...filters, ...scope });
        assert.ok(all.length > 12, 'more than a year of months');
        let running = 0;
        for (const p of all) {
          running += p.lines_added - p.lines_removed;
          assert.equal(p.lines_total, running, p.period);
        }
        assert.equal(all.at(-1)!.lines_total, await netBefore({ ...filters, ...scope }));

        // A range starting later carries what came before it.
        const middle = all[Math.floor(all.length / 2)]!.period;
        const later = await series({ ...filters, ...scope, since: middle });
        assert.equal(later[0]!.period, middle);
        const before = await netBefore({ ...filters, ...scope, until: middle });
        assert.equal(later[0]!.lines_total, before + later[0]!.lines_added - later[0]!.lines_removed);
        for (const p of later)
          assert.equal(p.lines_total, all.find((q) => q.period === p.period)!.lines_total, p.period);
      }
    });

  it('weekly and daily series agree with the monthly one at month ends; nobody has lines', async () => {
    const months = await series({});
    const weeks = await series({ interval: 'week' });
    assert.equal(weeks.at(-1)!.lines_total, months.at(-1)!.lines_total);
    const lastMonth = months.at(-1)!.period;
    const days = await series({ interval: 'day', since: lastMonth });
    assert.equal(days.at(-1)!.lines_total, months.at(-1)!.lines_total);
    const nobody = await series({ contributor: 'e:nobody@example.com', since: '2020-01-01' });
    assert.ok(nobody.every((p) => p.lines_total === 0));
  });
});
