import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordPullRequestChanges } from '../../src/analytics/pull-request-facts';
import { rebuildRollups } from '../../src/analytics/rollups';
import type { Trx } from '../../src/db/database';
import { erasePerson } from '../../src/db/personal-data-store';
import {
  expectedPullRequestStats,
  type ExpectedPercentiles,
  type PullRequestScope,
  type TestParticipant,
  type TestPullRequest,
} from './expected-pull-requests';
import { changeSettings, startAnalyticsApp, type AnalyticsFixture, type Params } from './helpers';

/**
 * Pull-request facts and rollups against values computed independently (expected-pull-requests.ts), over enough
 * pull requests that workspace-wide percentiles come from the log-spaced bins; upkeep idempotent and equal to a
 * rebuild; bot settings, deleted repositories, name refreshes and erasure followed.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;
const DEFAULT_BOTS = ['[bot]', 'dependabot', 'renovate'];
const REPOSITORIES = ['acme/api', 'acme/web', 'acme/docs'];
const PULL_REQUESTS = 8000;

/** A seeded generator, so every run sees the same data. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(): { pullRequests: TestPullRequest[]; participants: TestParticipant[] } {
  const random = mulberry32(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const people = Array.from({ length: 40 }, (_, i) => ({
    uuid: `{00000000-0000-4000-8000-${String(i).padStart(12, '0')}}`,
    account: `acc-${i}`,
    name: i === 0 ? 'renovate[bot]' : i === 1 ? 'dependabot[bot]' : `Person ${i}`,
  }));
  const start = Date.parse('2023-01-01T00:00:00Z');
  const pullRequests: TestPullRequest[] = [];
  const participants: TestParticipant[] = [];
  const nextId = new Map<string, number>();
  for (let i = 0; i < PULL_REQUESTS; i++) {
    const repository = pick(REPOSITORIES);
    const id = (nextId.get(repository) ?? 0) + 1;
    nextId.set(repository, id);
    const author = random() < 0.06 ? people[Math.floor(random() * 2)]! : pick(people.slice(2));
    const created = start + Math.floor(random() * 730 * DAY);
    // From minutes to weeks, spread over orders of magnitude.
    const duration = Math.floor(0.05 * 2 ** (random() * 14) * HOUR);
    const roll = random();
    const state = roll < 0.78 ? 'MERGED' : roll < 0.88 ? 'DECLINED' : roll < 0.96 ? 'OPEN' : 'SUPERSEDED';
    const closedAt = created + duration;
    pullRequests.push({
      repository,
      id,
      state,
      authorUuid: author.uuid,
      authorName: author.name,
      created,
      updated: state === 'OPEN' ? created : closedAt,
      merged: state === 'MERGED' ? closedAt : null,
      closed: state === 'OPEN' || (state === 'DECLINED' && random() < 0.2) ? null : closedAt,
    });
    const seen = new Set<string>();
    for (let k = Math.floor(random() * 4); k > 0; k--) {
      const who = random() < 0.1 ? author : pick(people);
      if (seen.has(who.uuid)) continue;
      seen.add(who.uuid);
      const approved = random() < 0.5;
      participants.push({
        repository,
        pullRequest: id,
        userUuid: who.uuid,
        accountId: who.account,
        displayName: who.name,
        role: random() < 0.7 ? 'REVIEWER' : 'PARTICIPANT',
        approved,
        state: approved ? 'approved' : random() < 0.2 ? 'changes_requested' : null,
        // Sometimes after the merge (a late comment), sometimes unknown.
        participatedOn: random() < 0.1 ? null : created + Math.floor(random() * 1.2 * duration),
      });
    }
  }
  return { pullRequests, participants };
}

interface ApiStats {
  series: { period: string; created: number; merged: number; declined: number }[];
  totals: { created: number; merged: number; declined: number; open: number };
  time_to_merge: ExpectedPercentiles & { histogram: { count: number }[] };
  cycle_time: { time_to_first_review: ExpectedPercentiles; review_to_merge: ExpectedPercentiles };
  reviewers: { account_id: string | null; display_name: string | null; reviews: number }[];
}

describe('pull-request facts and rollups', () => {
  let f: AnalyticsFixture;
  let data: ReturnType<typeof generate>;
  const ids = new Map<string, { id: number; uuid: string }>();
  const inTenant = <T>(fn: (trx: Trx) => Promise<T>) => f.app.runtime.db.withTenant(f.tenantId, fn);

  const TABLES = [
    'pull_request_facts',
    'pull_request_review_facts',
    'pull_request_rollups_daily',
    'pull_request_duration_rollups_daily',
    'pull_request_duration_rollups_monthly',
    'pull_request_duration_rollups_yearly',
    'pull_request_reviewer_rollups_daily',
    'pull_request_reviewer_rollups_monthly',
    'pull_request_reviewer_rollups_yearly',
    'repository_pull_request_rollups_daily',
    'repository_pull_request_duration_rollups_daily',
    'repository_pull_request_duration_rollups_monthly',
    'repository_pull_request_duration_rollups_yearly',
    'repository_pull_request_reviewer_rollups_daily',
    'repository_pull_request_reviewer_rollups_monthly',
    'repository_pull_request_reviewer_rollups_yearly',
  ];
  const snapshot = () =>
    inTenant(async (trx) => {
      const out: Record<string, string[]> = {};
      for (const table of TABLES) {
        const { rows } = await trx.raw(`select t::text as row from ${table} t order by 1`);
        out[table] = rows.map((r: { row: string }) => r.row);
      }
      return out;
    });

  /** Writes the test's pull requests of the given keys as the sync does (row and participants whole), then records. */
  async function write(keys?: Set<string>) {
    await inTenant(async (trx) => {
      for (const repository of REPOSITORIES) {
        const repo = ids.get(repository)!;
        const prs = data.pullRequests.filter(
          (p) => p.repository === repository && (!keys || keys.has(`${repository}#${p.id}`)),
        );
        for (let i = 0; i < prs.length; i += 1000) {
          const batch = prs.slice(i, i + 1000);
          const batchIds = batch.map((p) => p.id);
          await trx('pull_requests').where({ repository_id: repo.id }).whereIn('id', batchIds).del();
          await trx('pull_requests').insert(
            batch.map((p) => ({
              tenant_id: f.tenantId,
              repository_id: repo.id,
              id: p.id,
              title: `PR ${p.id}`,
              state: p.state,
              author_uuid: p.authorUuid,
              author_name: p.authorName,
              created_on: new Date(p.created),
              updated_on: new Date(p.updated),
              merged_on: p.merged === null ? null : new Date(p.merged),
              closed_on: p.closed === null ? null : new Date(p.closed),
            })),
          );
          const members = new Set(batchIds);
          const rows = data.participants
            .filter((pp) => pp.repository === repository && members.has(pp.pullRequest))
            .map((pp) => ({
              tenant_id: f.tenantId,
              repository_id: repo.id,
              pull_request_id: pp.pullRequest,
              user_uuid: pp.userUuid,
              account_id: pp.accountId,
              display_name: pp.displayName,
              role: pp.role,
              approved: pp.approved,
              state: pp.state,
              participated_on: pp.participatedOn === null ? null : new Date(pp.participatedOn),
            }));
          for (let j = 0; j < rows.length; j += 1000)
            await trx('pull_request_participants').insert(rows.slice(j, j + 1000));
          await recordPullRequestChanges(trx, repo.id, batchIds);
        }
      }
    });
  }

  before(async () => {
    f = await startAnalyticsApp();
    data = generate();
    await inTenant(async (trx) => {
      for (const [i, fullName] of REPOSITORIES.entries()) {
        const uuid = `{00000000-0000-4000-8000-00000000000${i}}`;
        const [row] = await trx('repositories')
          .insert({
            tenant_id: f.tenantId,
            uuid,
            full_name: fullName,
            slug: fullName.split('/')[1],
            name: fullName.split('/')[1],
          })
          .returning(['id']);
        ids.set(fullName, { id: row.id, uuid });
      }
    });
    await write();
  });
  after(() => f.app.close());

  const near = (actual: number | null, expected: number | null, relative: number, what: string) => {
    if (expected === null) return assert.equal(actual, null, what);
    assert.ok(actual !== null, what);
    const tolerance = Math.abs(expected) * relative + 0.0051;
    assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
  };
  const samePercentiles = (
    actual: ExpectedPercentiles,
    expected: ExpectedPercentiles,
    relative: number,
    what: string,
  ) => {
    assert.equal(actual.count, expected.count, `${what} count`);
    for (const p of ['p50', 'p75', 'p90', 'p95'] as const)
      near(actual[p], expected[p], relative, `${what} ${p}`);
  };

  /** Asks the API and compares every figure with the independent computation. */
  async function check(params: Params, scope: PullRequestScope, options: { binned: boolean }) {
    const body = await f.api.json<ApiStats>('/pull-requests/stats', { interval: 'week', ...params });
    const expected = expectedPullRequestStats(data.pullRequests, data.participants, scope);
    const label = JSON.stringify(params);
    assert.deepEqual(body.totals, expected.totals, `${label} totals`);
    const weeks = body.series.filter((p) => p.created + p.merged + p.declined > 0);
    assert.deepEqual(
      Object.fromEntries(weeks.map(({ period, ...counts }) => [period, counts])),
      Object.fromEntries(expected.weeks),
      `${label} series`,
    );
    assert.deepEqual(
      body.time_to_merge.histogram.map((b) => b.count),
      expected.histogram,
      `${label} histogram`,
    );
    // Exact percentiles are percentile_cont rounded to hundredths; binned ones are within a bin (2.2%).
    const relative = options.binned ? 0.022 : 0;
    samePercentiles(body.time_to_merge, expected.toMerge, relative, `${label} time to merge`);
    samePercentiles(
      body.cycle_time.time_to_first_review,
      expected.toReview,
      relative,
      `${label} to first review`,
    );
    samePercentiles(
      body.cycle_time.review_to_merge,
      expected.reviewToMerge,
      relative,
      `${label} review to merge`,
    );
    assert.deepEqual(body.reviewers, expected.reviewers, `${label} reviewers`);
    return { body, expected };
  }

  const utc = (date: string) => Date.parse(`${date}T00:00:00Z`);
  const base = { bots: 'exclude' as const, botPatterns: DEFAULT_BOTS, zone: 'UTC' };

  it('workspace-wide in UTC (rollups; percentiles from bins) equals the independent computation', async () => {
    const { expected } = await check(
      { since: '2023-01-01', until: '2025-02-01' },
      { ...base, from: utc('2023-01-01'), to: utc('2025-02-01') },
      { binned: true },
    );
    assert.ok(expected.toMerge.count > 5000, 'enough merged pull requests for the binned percentiles');
    await check({}, base, { binned: true });
  });

  it('in a zone with daylight saving time and a half-hour zone, with ragged range ends', async () => {
    await check(
      { since: '2023-02-15', until: '2024-11-20', tz: 'America/New_York', bots: 'include' },
      {
        ...base,
        bots: 'include',
        zone: 'America/New_York',
        from: Date.parse('2023-02-15T05:00:00Z'),
        to: Date.parse('2024-11-20T05:00:00Z'),
      },
      { binned: true },
    );
    await check(
      { since: '2024-03-10', until: '2024-06-20', tz: 'Asia/Kolkata' },
      {
        ...base,
        zone: 'Asia/Kolkata',
        from: Date.parse('2024-03-09T18:30:00Z'),
        to: Date.parse('2024-06-19T18:30:00Z'),
      },
      { binned: false },
    );
  });

  it('one repository (its rollups; exact percentiles), bots included', async () => {
    await check(
      { repository: ids.get('acme/web')!.uuid, bots: 'include' },
      { ...base, bots: 'include', repositories: new Set(['acme/web']) },
      { binned: false },
    );
  });

  it('repositories filtered: ragged ranges in UTC and across daylight saving time, and binned percentiles', async () => {
    const web = ids.get('acme/web')!.uuid;
    const api = ids.get('acme/api')!.uuid;
    await check(
      { repository: [web, api], since: '2023-02-15', until: '2024-11-20' },
      {
        ...base,
        repositories: new Set(['acme/web', 'acme/api']),
        from: utc('2023-02-15'),
        to: utc('2024-11-20'),
      },
      { binned: false },
    );
    await check(
      { repository: web, since: '2023-03-01', until: '2023-11-15', tz: 'America/New_York' },
      {
        ...base,
        repositories: new Set(['acme/web']),
        zone: 'America/New_York',
        from: Date.parse('2023-03-01T05:00:00Z'),
        to: Date.parse('2023-11-15T05:00:00Z'),
      },
      { binned: false },
    );
    // Every repository named: more than 5,000 merged pull requests, so percentiles come from the repository bins.
    const all = REPOSITORIES.map((r) => ids.get(r)!.uuid);
    const { expected } = await check(
      { repository: all, bots: 'include' },
      { ...base, bots: 'include', repositories: new Set(REPOSITORIES) },
      { binned: true },
    );
    assert.ok(expected.toMerge.count > 5000, 'enough merged pull requests for the binned percentiles');
    await check(
      { repository: all, since: '2023-05-17', until: '2024-10-03' },
      { ...base, repositories: new Set(REPOSITORIES), from: utc('2023-05-17'), to: utc('2024-10-03') },
      { binned: true },
    );
  });

  it('recording the same pull requests again changes nothing', async () => {
    const before = await snapshot();
    assert.ok(before.pull_request_duration_rollups_yearly!.length > 0);
    await write();
    assert.deepEqual(await snapshot(), before);
  });

  it('changes are followed incrementally and equal a rebuild', async () => {
    const changed = new Set<string>();
    const touch = (p: TestPullRequest) => changed.add(`${p.repository}#${p.id}`);
    const open = data.pullRequests.filter((p) => p.state === 'OPEN').slice(0, 40);
    for (const p of open) {
      p.state = 'MERGED';
      p.merged = p.created + 5 * HOUR;
      p.closed = p.merged;
      p.updated = p.merged;
      touch(p);
    }
    const merged = data.pullRequests.filter((p) => p.state === 'MERGED').slice(100, 130);
    for (const p of merged) {
      p.state = 'DECLINED';
      p.merged = null;
      touch(p);
    }
    // A review that becomes an approval, and one that goes away.
    const reviewed = data.participants.filter((pp) => pp.role === 'REVIEWER' && !pp.approved).slice(0, 25);
    for (const pp of reviewed) {
      pp.approved = true;
      pp.state = 'approved';
      changed.add(`${pp.repository}#${pp.pullRequest}`);
    }
    const gone = data.participants.splice(500, 10);
    for (const pp of gone) changed.add(`${pp.repository}#${pp.pullRequest}`);
    await write(changed);
    // A pull request that disappears (its row deleted, then reported).
    const removed = data.pullRequests.splice(10, 1)[0]!;
    data.participants = data.participants.filter(
      (pp) => !(pp.repository === removed.repository && pp.pullRequest === removed.id),
    );
    await inTenant(async (trx) => {
      const repositoryId = ids.get(removed.repository)!.id;
      await trx('pull_requests').where({ repository_id: repositoryId, id: removed.id }).del();
      await recordPullRequestChanges(trx, repositoryId, [removed.id]);
    });
    const incremental = await snapshot();
    await inTenant((trx) => rebuildRollups(trx));
    assert.deepEqual(await snapshot(), incremental, 'a rebuild finds nothing to change');
    await inTenant(async (trx) => {
      for (const table of TABLES) await trx.raw(`delete from ${table}`);
      await rebuildRollups(trx);
    });
    assert.deepEqual(await snapshot(), incremental, 'a build from scratch gives the same rows');
    await check({}, base, { binned: true });
    await check(
      { repository: ids.get(removed.repository)!.uuid },
      { ...base, repositories: new Set([removed.repository]) },
      { binned: false },
    );
    await check(
      { repository: REPOSITORIES.map((r) => ids.get(r)!.uuid), since: '2023-04-11', until: '2024-12-01' },
      { ...base, repositories: new Set(REPOSITORIES), from: utc('2023-04-11'), to: utc('2024-12-01') },
      { binned: true },
    );
  });

  it('a bot pattern set in settings applies to pull requests once the rebuild ran', async () => {
    await changeSettings(f, '/settings', { bot_patterns: ['person 3'] });
    const botPatterns = [...DEFAULT_BOTS, 'person 3'];
    await check(
      { since: '2024-01-01', until: '2024-04-01' },
      { ...base, botPatterns, from: utc('2024-01-01'), to: utc('2024-04-01') },
      { binned: false },
    );
    await changeSettings(f, '/settings', { bot_patterns: [] });
    await check({}, base, { binned: true });
  });

  it('a display-name refresh shows at once; erasure keeps the counts under the token', async () => {
    await inTenant((trx) =>
      trx('pull_request_participants')
        .where({ account_id: 'acc-7' })
        .update({ display_name: 'Seven Renamed' }),
    );
    for (const pp of data.participants) if (pp.accountId === 'acc-7') pp.displayName = 'Seven Renamed';
    await check({}, base, { binned: true });

    const before = await f.api.json<ApiStats>('/pull-requests/stats', {});
    const reviewer = before.reviewers.find((r) => r.account_id === 'acc-9')!;
    const { token } = await erasePerson(
      f.app.runtime.db,
      f.tenantId,
      { accountId: 'acc-9' },
      'test',
      new Date(),
    );
    const after = await f.api.json<ApiStats>('/pull-requests/stats', {});
    assert.equal(
      after.reviewers.find((r) => r.account_id === 'acc-9'),
      undefined,
    );
    assert.equal(after.reviewers.find((r) => r.account_id === token)?.reviews, reviewer.reviews);
    assert.deepEqual(after.totals, before.totals);
    const uuid = data.participants.find((pp) => pp.accountId === 'acc-9')!.userUuid.replace(/[{}]/g, '');
    for (const table of [...TABLES, 'pull_request_reviewers']) {
      const { rows } = await inTenant((trx) =>
        trx.raw(
          `select count(*)::int as n from ${table} t where t::text ~ ? or t::text like ? or t::text like ?`,
          ['Person 9([^0-9]|$)', '%acc-9%', `%${uuid}%`],
        ),
      );
      assert.equal(rows[0].n, 0, `${table} holds nothing of the erased person`);
    }
    // The test's own data follows the erasure, as stored, for the checks after this one.
    const erased = await inTenant((trx) =>
      trx('pull_request_participants').where({ account_id: token }).first('user_uuid', 'display_name'),
    );
    for (const pp of data.participants.filter((x) => x.accountId === 'acc-9'))
      Object.assign(pp, { accountId: token, userUuid: erased.user_uuid, displayName: erased.display_name });
    for (const pr of data.pullRequests.filter((x) => x.authorName === 'Person 9'))
      Object.assign(pr, { authorUuid: erased.user_uuid, authorName: erased.display_name });
    await check({}, base, { binned: true });
  });

  it("a deleted repository's pull requests stop counting", async () => {
    await inTenant(async (trx) => {
      const { id } = ids.get('acme/docs')!;
      await trx('repositories').where({ id }).update({ deleted_at: new Date() });
      await rebuildRollups(trx, id);
    });
    const remaining = new Set(['acme/api', 'acme/web']);
    data.pullRequests = data.pullRequests.filter((p) => remaining.has(p.repository));
    data.participants = data.participants.filter((pp) => remaining.has(pp.repository));
    await check(
      { since: '2023-06-01', until: '2023-09-01' },
      { ...base, from: utc('2023-06-01'), to: utc('2023-09-01') },
      { binned: false },
    );
    await check(
      { repository: ids.get('acme/api')!.uuid },
      { ...base, repositories: new Set(['acme/api']) },
      { binned: false },
    );
    const { rows } = await inTenant((trx) =>
      trx.raw(
        `select count(*)::int as n from repository_pull_request_duration_rollups_yearly where repository_id = ?`,
        [ids.get('acme/docs')!.id],
      ),
    );
    assert.equal(rows[0].n, 0, "the deleted repository's rollup rows are gone");
  });
});
