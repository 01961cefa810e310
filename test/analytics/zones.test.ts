import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sourceFor, type Scope } from '../../src/analytics/scope';
import { zoneShape } from '../../src/analytics/timezones';
import { readExport, syntheticAccount, type ExportCommit } from '../support/load-export';
import {
  contributorTotals,
  counted,
  linesOf,
  localParts,
  mondayOf,
  punchCard,
  type Semantics,
} from './expected';
import { load, startAnalyticsApp, type AnalyticsFixture, type Params } from './helpers';

/**
 * Zones whose offset is a whole number of hours plus 30 or 45 minutes answer from the shifted workspace hourly
 * rollups, and one repository's contributors from the (repository, contributor) rollups; every figure must equal
 * the one computed from the express history (test/analytics/expected.ts), across daylight saving time changes and
 * with range ends inside local days.
 */

interface Point {
  period: string;
  commits: number;
  lines_added: number;
  lines_removed: number;
}

const ZONES = ['Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Adelaide'];

/** The offset (minutes) of a zone at an instant. */
function offsetAt(ms: number, zone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(ms)
    .find((p) => p.type === 'timeZoneName')!.value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** The instant a local date starts in a zone. */
function localMidnight(date: string, zone: string): number {
  const wall = Date.parse(`${date}T00:00:00Z`);
  const guess = wall - offsetAt(wall, zone) * 60_000;
  return wall - offsetAt(guess, zone) * 60_000;
}

function series(
  commits: ExportCommit[],
  s: Semantics,
  zone: string,
  period: (date: string) => string,
): Map<string, Omit<Point, 'period'>> {
  const out = new Map<string, Omit<Point, 'period'>>();
  for (const c of counted(commits, s)) {
    const key = period(localParts(Date.parse(c.date), zone).date);
    const { added, removed } = linesOf(c, s);
    const p = out.get(key) ?? { commits: 0, lines_added: 0, lines_removed: 0 };
    p.commits += 1;
    p.lines_added += added;
    p.lines_removed += removed;
    out.set(key, p);
  }
  return out;
}

const PERIODS: Record<'day' | 'week' | 'month', (date: string) => string> = {
  day: (d) => d,
  week: mondayOf,
  month: (d) => `${d.slice(0, 7)}-01`,
};

describe('non-whole-hour time zones and one repository over all time, from rollups, exact', () => {
  let f: AnalyticsFixture;
  let commits: ExportCommit[];
  let repository: string;
  const base: Semantics = { accountOf: syntheticAccount };

  before(async () => {
    f = await startAnalyticsApp();
    commits = readExport();
    repository = (await load(f, commits)).uuid;
  });
  after(() => f.app.close());

  function assertSeries(actual: Point[], expected: Map<string, Omit<Point, 'period'>>, label: string) {
    const nonZero = actual.filter((p) => p.commits > 0);
    assert.equal(nonZero.length, expected.size, `${label}: periods with commits`);
    for (const p of nonZero)
      assert.deepEqual(
        { commits: p.commits, lines_added: p.lines_added, lines_removed: p.lines_removed },
        expected.get(p.period),
        `${label} ${p.period}`,
      );
  }

  it('activity by day, week and month, all time and across a daylight saving change', async () => {
    for (const tz of ZONES) {
      // All time by day would be more than ten years of days (refused): days are checked over the ranges below.
      for (const interval of ['week', 'month'] as const) {
        const all = await f.api.json<{ series: Point[] }>('/stats/activity', { interval, tz });
        assertSeries(all.series, series(commits, base, tz, PERIODS[interval]), `${tz} ${interval}`);
      }
      // Adelaide leaves daylight saving time on 2015-04-05 and enters it on 2015-10-04.
      const range = { since: '2015-03-20', until: '2015-10-20' };
      const bounded = { ...base, from: localMidnight(range.since, tz), to: localMidnight(range.until, tz) };
      for (const merges of ['exclude', 'include'] as const) {
        const body = await f.api.json<{ series: Point[] }>('/stats/activity', {
          interval: 'day',
          tz,
          merges,
          ...range,
        });
        assert.equal(body.series[0]!.period, range.since);
        assert.equal(body.series.at(-1)!.period, '2015-10-19');
        assertSeries(
          body.series,
          series(commits, { ...bounded, merges }, tz, PERIODS.day),
          `${tz} ${merges}`,
        );
      }
      const decade = { since: '2016-01-01', until: '2026-01-01' };
      const days = await f.api.json<{ series: Point[] }>('/stats/activity', {
        interval: 'day',
        tz,
        ...decade,
      });
      assertSeries(
        days.series,
        series(
          commits,
          { ...base, from: localMidnight(decade.since, tz), to: localMidnight(decade.until, tz) },
          tz,
          PERIODS.day,
        ),
        `${tz} ten years of days`,
      );
    }
  });

  it('punch card, all time and over a range (whole-hour zones too: months and years of one offset)', async () => {
    for (const tz of [...ZONES, 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo']) {
      const all = await f.api.json<{ counts: number[][] }>('/stats/punchcard', { tz });
      assert.deepEqual(all.counts, punchCard(commits, base, tz), tz);
      const range = { since: '2014-09-28', until: '2016-04-10' };
      const bounded = { ...base, from: localMidnight(range.since, tz), to: localMidnight(range.until, tz) };
      const body = await f.api.json<{ counts: number[][] }>('/stats/punchcard', { tz, ...range });
      assert.deepEqual(body.counts, punchCard(commits, bounded, tz), `${tz} range`);
    }
  });

  it("one repository's punch card, all time and over ranges, in every kind of zone (repository punch-card rollups)", async () => {
    for (const tz of ['UTC', ...ZONES, 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo']) {
      for (const merges of ['exclude', 'include', 'only'] as const) {
        const all = await f.api.json<{ counts: number[][] }>('/stats/punchcard', { tz, repository, merges });
        assert.deepEqual(all.counts, punchCard(commits, { ...base, merges }, tz), `${tz} ${merges}`);
      }
      // Across Adelaide's and Berlin's daylight saving changes, New York's too; ends inside months and years.
      for (const [since, until] of [
        ['2014-09-28', '2016-04-10'],
        ['2015-03-20', '2015-10-20'],
        ['2012-01-01', '2015-01-01'],
      ] as const) {
        const bounded = { ...base, from: localMidnight(since, tz), to: localMidnight(until, tz) };
        const body = await f.api.json<{ counts: number[][] }>('/stats/punchcard', {
          tz,
          repository,
          since,
          until,
        });
        assert.deepEqual(body.counts, punchCard(commits, bounded, tz), `${tz} ${since}..${until}`);
      }
    }
  });

  it('contributors with range ends inside local days, whole workspace and one repository', async () => {
    for (const tz of ZONES) {
      const range = { since: '2013-10-06', until: '2015-04-05' };
      const bounded = { ...base, from: localMidnight(range.since, tz), to: localMidnight(range.until, tz) };
      for (const params of [
        { tz, ...range },
        { tz, repository, ...range },
      ] as Params[])
        assertTotals(await contributors(params), contributorTotals(commits, bounded));
    }
  });

  it('contributors over most of the history: all-time rows minus the rest, first and last commits inside the range', async () => {
    const dates = commits.map((c) => c.date.slice(0, 10)).sort();
    const day = (date: string, days: number) =>
      new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
    // Ends inside busy years, so that many people's first and last commits fall outside the range.
    const range = { since: day(dates[0]!, 200), until: day(dates.at(-1)!, -200) };
    for (const tz of ['UTC', ...ZONES]) {
      const bounded = { ...base, from: localMidnight(range.since, tz), to: localMidnight(range.until, tz) };
      assertTotals(await contributors({ tz, ...range }), contributorTotals(commits, bounded));
    }
  });

  it("one repository's contributors over all time and over ranges (repository × contributor rollups)", async () => {
    assertTotals(await contributors({ repository }), contributorTotals(commits, base));
    const merges = { ...base, merges: 'include' as const, bots: 'include' as const };
    assertTotals(
      await contributors({ repository, merges: 'include', bots: 'include' }),
      contributorTotals(commits, merges),
    );
    for (const [since, until] of [
      ['2010-01-01', '2026-01-01'],
      ['2014-02-11', '2014-05-09'],
      ['2015-06-01', '2015-07-01'],
    ] as const) {
      const bounded = { ...base, from: Date.parse(since), to: Date.parse(until) };
      assertTotals(await contributors({ repository, since, until }), contributorTotals(commits, bounded));
    }
  });

  async function contributors(params: Params) {
    const body = await f.api.json<{ contributors: (Record<string, unknown> & { key: string })[] }>(
      '/stats/contributors',
      params,
    );
    return new Map(body.contributors.map((c) => [c.key, c]));
  }

  function assertTotals(
    actual: Map<string, Record<string, unknown>>,
    expected: ReturnType<typeof contributorTotals>,
  ) {
    assert.equal(actual.size, expected.size, 'number of contributors');
    for (const [key, e] of expected) {
      const a = actual.get(key);
      assert.ok(a, `contributor ${key} is listed`);
      assert.deepEqual(
        {
          commits: a.commits,
          lines_added: a.lines_added,
          lines_removed: a.lines_removed,
          first_commit: new Date(a.first_commit as string).toISOString(),
          last_commit: new Date(a.last_commit as string).toISOString(),
        },
        e,
        key,
      );
    }
  }
});

describe('which rows a zone reads', () => {
  const scope = (timezone: string, repositoryIds: number[] | null = null): Scope => ({
    repositoryIds,
    contributorIds: null,
    pullRequestAuthors: [],
    pullRequestReviewer: null,
    merges: 'exclude',
    bots: 'exclude',
    exclusions: 'apply',
    timezone,
    shape: zoneShape(timezone),
    since: null,
    until: null,
    start: null,
    end: null,
    today: '2026-01-01',
    botPatterns: [],
    extent: { first: Date.UTC(2010, 0, 1), last: Date.UTC(2025, 0, 1) },
    freshness: {
      complete: true,
      pending_commits: 0,
      pending_pull_requests: 0,
      commits_without_lines: 0,
      lines_counted_share: 1,
      lines_complete_eta_seconds: null,
    },
  });
  const tables = (sql: string) => [...sql.matchAll(/from (\w+) x/g)].map((m) => m[1]).sort();

  it('India and Newfoundland read hours starting at :30 UTC; Nepal at :30 until 1986, at :15 since', () => {
    for (const tz of ['Asia/Kolkata', 'America/St_Johns', 'Australia/Adelaide']) {
      assert.deepEqual(
        tables(sourceFor(scope(tz), 'days').sql),
        ['commit_facts', 'commit_facts', 'commit_facts', 'commit_facts', 'workspace_rollups_hourly_30'],
        `${tz} days (facts only before 1970, from 2100 and in the half hours at their ends)`,
      );
      const punch = new Set(tables(sourceFor(scope(tz), 'hours').sql));
      assert.ok(
        punch.has('workspace_punchcard_rollups_yearly_30') ||
          punch.has('workspace_punchcard_rollups_monthly_30'),
        `${tz} months and years of one offset`,
      );
      assert.ok(!punch.has('workspace_rollups_hourly'), `${tz} never reads hours starting on the hour`);
    }
    const nepal = zoneShape('Asia/Kathmandu').phases.filter((p) => p.minute !== null);
    assert.deepEqual(
      nepal.map((p) => [new Date(p.from).toISOString(), p.minute]),
      [
        ['1970-01-01T00:00:00.000Z', 30],
        ['1985-12-31T18:30:00.000Z', 15],
      ],
    );
    assert.deepEqual(tables(sourceFor(scope('Asia/Kathmandu'), 'days').sql), [
      ...Array<string>(5).fill('commit_facts'),
      'workspace_rollups_hourly_15',
      'workspace_rollups_hourly_30',
    ]);
  });

  it('a punch card in a whole-hour zone reads the punch-card months and years where the offset holds', () => {
    const ranged = (tz: string) => ({
      ...scope(tz),
      start: Date.UTC(2019, 0, 1),
      end: Date.UTC(2022, 0, 1),
    });
    const tokyo = tables(sourceFor(ranged('Asia/Tokyo'), 'hours').sql);
    assert.deepEqual(tokyo, ['workspace_punchcard_rollups_yearly'], 'no daylight saving time: three years');
    const berlin = tables(sourceFor(ranged('Europe/Berlin'), 'hours').sql);
    assert.ok(berlin.includes('workspace_punchcard_rollups_monthly'), 'months between the changes');
    assert.ok(berlin.includes('workspace_rollups_hourly'), 'hours in the months of a change');
    assert.ok(!berlin.includes('commit_facts'), 'changes happen on whole UTC hours');
  });

  it("a repository's punch card reads its hour-of-week years and months (hours only at the ends and DST months)", () => {
    const ranged = (tz: string) => ({
      ...scope(tz, [1]),
      start: Date.UTC(2019, 0, 1),
      end: Date.UTC(2022, 0, 1),
    });
    assert.deepEqual(tables(sourceFor(scope('UTC', [1]), 'hours').sql), [
      'repository_punchcard_rollups_yearly',
    ]);
    assert.deepEqual(tables(sourceFor(ranged('Asia/Tokyo'), 'hours').sql), [
      'repository_punchcard_rollups_yearly',
    ]);
    const berlin = tables(sourceFor(ranged('Europe/Berlin'), 'hours').sql);
    assert.ok(berlin.includes('repository_punchcard_rollups_monthly'), 'months between the changes');
    assert.ok(berlin.includes('rollups_hourly'), 'hours in the months of a change');
    assert.ok(!berlin.includes('commit_facts'), 'changes happen on whole UTC hours');
    assert.ok(
      tables(sourceFor(ranged('Asia/Kolkata'), 'hours').sql).every((t) => t === 'commit_facts'),
      'no shifted repository rollups: facts',
    );
  });

  it('contributors over most of the time read all-time rows minus the tiles outside the range', () => {
    const mostly = {
      ...scope('Asia/Kolkata'),
      start: Date.UTC(2010, 2, 1) - 19_800_000,
      end: Date.UTC(2024, 9, 1),
    };
    const read = tables(sourceFor(mostly, 'totals', 'contributor').sql);
    assert.ok(read.includes('contributor_rollups_total'), read.join());
    assert.ok(!read.includes('contributor_rollups_monthly') || read.length < 20, read.join());
    const little = { ...scope('UTC'), start: Date.UTC(2020, 0, 1), end: Date.UTC(2021, 0, 1) };
    assert.ok(!tables(sourceFor(little, 'totals', 'contributor').sql).includes('contributor_rollups_total'));
  });

  it('one repository over all time reads one row per contributor (years if a commit lands meanwhile)', () => {
    assert.deepEqual(tables(sourceFor(scope('UTC', [1]), 'totals', 'contributor').sql), [
      'repository_contributor_rollups_total',
      'repository_contributor_rollups_yearly',
    ]);
  });
});
