import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readExport, syntheticAccount, type ExportCommit } from '../support/load-export';
import {
  contributorTotals,
  counted,
  identityKey,
  linesOf,
  localParts,
  punchCard,
  weeklySeries,
  type Semantics,
} from './expected';
import { changeSettings, load, startAnalyticsApp, type AnalyticsFixture, type Params } from './helpers';

/**
 * The express history (6,413 commits) loaded the way ingest writes it; every figure the API gives must equal the
 * figure computed independently from the export (test/analytics/expected.ts).
 */

interface ApiContributor {
  key: string;
  commits: number;
  lines_added: number;
  lines_removed: number;
  first_commit: string;
  last_commit: string;
}

interface ApiPoint {
  period: string;
  commits: number;
  lines_added: number;
  lines_removed: number;
}

describe('analytics equal the values computed from the export', () => {
  let f: AnalyticsFixture;
  let commits: ExportCommit[];
  let repository: string;
  const base: Semantics = { accountOf: syntheticAccount };
  // A gitignore-style glob as an admin would write it, and its meaning stated independently for the expectation.
  const GLOBS = ['*.md', 'test/'];
  const globExcludes = (path: string) =>
    path.endsWith('.md') || path.split('/').slice(0, -1).includes('test');

  before(async () => {
    f = await startAnalyticsApp();
    commits = readExport();
    repository = (await load(f, commits)).uuid;
  });
  after(() => f.app.close());

  async function contributors(params: Params): Promise<Map<string, ApiContributor>> {
    const body = await f.api.json<{ contributors: ApiContributor[] }>('/stats/contributors', params);
    const sorted = [...body.contributors].sort((a, b) => b.commits - a.commits);
    assert.deepEqual(
      body.contributors.map((c) => c.commits),
      sorted.map((c) => c.commits),
      'sorted by commits',
    );
    return new Map(body.contributors.map((c) => [c.key, c]));
  }

  function assertTotals(actual: Map<string, ApiContributor>, s: Semantics) {
    const expected = contributorTotals(commits, s);
    assert.equal(actual.size, expected.size, 'number of contributors');
    for (const [key, e] of expected) {
      const a = actual.get(key);
      assert.ok(a, `contributor ${key} is listed`);
      assert.deepEqual(
        {
          commits: a.commits,
          lines_added: a.lines_added,
          lines_removed: a.lines_removed,
          first_commit: new Date(a.first_commit).toISOString(),
          last_commit: new Date(a.last_commit).toISOString(),
        },
        e,
        key,
      );
    }
  }

  it('contributor totals, merges excluded (default), included and only', async () => {
    assertTotals(await contributors({}), { ...base });
    assertTotals(await contributors({ merges: 'include' }), { ...base, merges: 'include' });
    assertTotals(await contributors({ merges: 'only' }), { ...base, merges: 'only' });
    const all = counted(commits, { ...base, merges: 'include', bots: 'include' });
    assert.ok(all.some((c) => c.parents.length > 1) && all.some((c) => linesOf(c, base).added > 0));
  });

  it('contributor totals for a range in a non-UTC zone and for one repository', async () => {
    const zone = 'America/Los_Angeles';
    // 2014-01-01 local midnight in Los Angeles is 08:00 UTC.
    const from = Date.parse('2014-01-01T08:00:00Z');
    const to = Date.parse('2016-07-01T07:00:00Z');
    const params = { since: '2014-01-01', until: '2016-07-01', tz: zone, repository };
    assertTotals(await contributors(params), { ...base, from, to });
    const kolkata = { since: '2015-03-10', until: '2015-09-20', tz: 'Asia/Kolkata' };
    assertTotals(await contributors(kolkata), {
      ...base,
      from: Date.parse('2015-03-09T18:30:00Z'),
      to: Date.parse('2015-09-19T18:30:00Z'),
    });
  });

  it('path exclusions: a glob set in settings changes lines once its rebuild ran; exclusions=ignore gives raw lines', async () => {
    await changeSettings(f, '/settings', { path_exclusions: GLOBS });
    try {
      const excluded = { ...base, excluded: globExcludes };
      assertTotals(await contributors({}), excluded);
      assertTotals(await contributors({ merges: 'include' }), { ...excluded, merges: 'include' });
      assertTotals(await contributors({ exclusions: 'ignore' }), base);
      const weekly = await f.api.json<{ series: ApiPoint[] }>('/stats/activity', { interval: 'week' });
      assertSeries(weekly.series, weeklySeries(commits, excluded, 'UTC'));
      const before = contributorTotals(commits, base);
      const after = contributorTotals(commits, excluded);
      const sum = (m: Map<string, { lines_added: number }>) =>
        [...m.values()].reduce((s, t) => s + t.lines_added, 0);
      assert.ok(sum(after) < sum(before), 'the glob matches files of the sample');
    } finally {
      await changeSettings(f, '/settings', { path_exclusions: [] });
    }
    assertTotals(await contributors({}), base);
  });

  function assertSeries(
    series: ApiPoint[],
    expected: Map<string, { commits: number; lines_added: number; lines_removed: number }>,
  ) {
    for (let i = 1; i < series.length; i++) {
      assert.equal(
        Date.parse(series[i]!.period) - Date.parse(series[i - 1]!.period),
        7 * 86_400_000,
        'one point per week',
      );
    }
    const nonZero = series.filter((p) => p.commits > 0);
    assert.equal(nonZero.length, expected.size, 'weeks with commits');
    for (const p of nonZero) {
      assert.deepEqual(
        { commits: p.commits, lines_added: p.lines_added, lines_removed: p.lines_removed },
        expected.get(p.period),
        p.period,
      );
    }
  }

  it('weekly series (code frequency), merges excluded and included, UTC and Los Angeles', async () => {
    for (const merges of ['exclude', 'include'] as const) {
      for (const tz of ['UTC', 'America/Los_Angeles']) {
        const body = await f.api.json<{ series: ApiPoint[] }>('/stats/activity', {
          interval: 'week',
          merges,
          tz,
        });
        assertSeries(body.series, weeklySeries(commits, { ...base, merges }, tz));
      }
    }
  });

  it('a weekly series for a bounded range runs from since to until, zeros included', async () => {
    const body = await f.api.json<{ series: ApiPoint[] }>('/stats/activity', {
      interval: 'week',
      since: '2020-01-06',
      until: '2020-03-02',
      tz: 'Europe/Berlin',
    });
    assert.equal(body.series[0]!.period, '2020-01-06');
    assert.equal(body.series.at(-1)!.period, '2020-02-24');
    assert.equal(body.series.length, 8);
    const from = Date.parse('2020-01-05T23:00:00Z');
    const to = Date.parse('2020-03-01T23:00:00Z');
    const expected = weeklySeries(commits, { ...base, from, to }, 'Europe/Berlin');
    for (const p of body.series) assert.equal(p.commits, expected.get(p.period)?.commits ?? 0, p.period);
  });

  it('punch card in UTC, in a zone with daylight saving time and in a half-hour zone', async () => {
    for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
      for (const merges of ['exclude', 'include'] as const) {
        const body = await f.api.json<{ counts: number[][]; timezone: string; note: string }>(
          '/stats/punchcard',
          {
            tz,
            merges,
          },
        );
        assert.equal(body.timezone, tz);
        assert.deepEqual(body.counts, punchCard(commits, { ...base, merges }, tz), `${tz} merges=${merges}`);
      }
    }
  });

  it('daily calendar of one contributor for a year', async () => {
    const totals = contributorTotals(commits, base);
    const [key] = [...totals.entries()].sort((a, b) => b[1].commits - a[1].commits)[0]!;
    const body = await f.api.json<{ days: { date: string; commits: number }[]; total: number }>(
      '/stats/calendar',
      {
        contributor: key,
        since: '2014-01-01',
        until: '2015-01-01',
      },
    );
    assert.equal(body.days.length, 365);
    const expected = new Map<string, number>();
    for (const c of counted(commits, {
      ...base,
      from: Date.parse('2014-01-01'),
      to: Date.parse('2015-01-01'),
    })) {
      if (identityKey(c, base) !== key) continue;
      const day = localParts(Date.parse(c.date), 'UTC').date;
      expected.set(day, (expected.get(day) ?? 0) + 1);
    }
    for (const d of body.days) assert.equal(d.commits, expected.get(d.date) ?? 0, d.date);
    assert.equal(
      body.total,
      [...expected.values()].reduce((a, b) => a + b, 0),
    );
  });

  it('bots are left out by default and shown on request', async () => {
    const bot = [...contributorTotals(commits, { ...base, bots: 'include' }).keys()].find((k) =>
      k.includes('[bot]'),
    )!;
    assert.ok(bot, 'the sample has a bot');
    assert.equal((await contributors({})).has(bot), false);
    const shown = await contributors({ bots: 'include' });
    assert.equal(
      shown.get(bot)?.commits,
      contributorTotals(commits, { ...base, bots: 'include' }).get(bot)!.commits,
    );
  });

  it('leaderboards rank people and repositories by commits or lines', async () => {
    const expected = [...contributorTotals(commits, base).entries()];
    const body = await f.api.json<{
      people: { key: string; commits: number; lines_added: number; lines_removed: number }[];
      repositories: { uuid: string; commits: number }[];
    }>('/stats/top', { by: 'lines', limit: '5' });
    const byLines = expected
      .map(([key, t]) => ({ key, lines: t.lines_added + t.lines_removed }))
      .sort((a, b) => b.lines - a.lines)
      .slice(0, 5);
    assert.deepEqual(
      body.people.map((p) => ({ key: p.key, lines: p.lines_added + p.lines_removed })),
      byLines,
    );
    assert.equal(body.repositories.length, 1);
    assert.equal(body.repositories[0]!.uuid, repository);
    assert.equal(body.repositories[0]!.commits, counted(commits, base).length);
  });
});
