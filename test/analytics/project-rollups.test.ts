import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  PR_ROLLUP_TABLES,
  PROJECT_PR_ROLLUPS,
  recordPullRequestChanges,
  REPOSITORY_PR_ROLLUPS,
} from '../../src/analytics/pull-request-facts';
import { pullRequestRollupsFor } from '../../src/analytics/pull-requests';
import { enqueueProjectMoves } from '../../src/analytics/rollup-rebuild';
import { CUBES, rebuildRollups } from '../../src/analytics/rollups';
import { addDays, resolveScope, sourceFor } from '../../src/analytics/scope';
import type { Trx } from '../../src/db/database';
import { findRepository, upsertRepositories, type RepositoryProject } from '../../src/db/repository-store';
import { readExport } from '../support/load-export';
import { load, runPendingRebuilds, startAnalyticsApp, type AnalyticsFixture, type Params } from './helpers';

/**
 * Statistics filtered by whole projects read per-project rollups (src/analytics/scope.ts, familyFor; pull requests:
 * pullRequestRollupsFor): every stats and pull-request answer filtered by a project equals the same question asked
 * with the project's repositories listed, which reads the per-repository rollups, in UTC and in a :30 zone, over
 * every range, after a repository moves between projects (before and after its rebuild), after one is deleted, and
 * for a project without commits. The projects hold enough merged pull requests that some answers take their
 * percentiles from the duration bins (over 5,000), others exactly from the facts.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A seeded generator, so every run sees the same pull requests. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PEOPLE = Array.from({ length: 30 }, (_, i) => ({
  uuid: `{00000000-0000-4000-8000-${String(i).padStart(12, '0')}}`,
  account: `acc-${i}`,
  name: i === 0 ? 'renovate[bot]' : `Person ${i}`,
}));

const project = (key: string): RepositoryProject => ({ uuid: `{${randomUUID()}}`, key, name: key });

describe('project rollups', () => {
  let f: AnalyticsFixture;
  const p1 = project('ONE');
  const p2 = project('TWO');
  const p3 = project('EMPTY');
  const ids: Record<string, { repositoryId: number; uuid: string }> = {};
  let top = '';
  let lastDay = '';
  const inTenant = <T>(fn: (trx: Trx) => Promise<T>) => f.app.runtime.db.withTenant(f.tenantId, fn);

  /**
   * `count` pull requests of a repository (merged, declined, open, superseded; some by a bot) created over the six
   * years before `end`, with reviewers, written as the sync writes them, then recorded as the analytics job does.
   */
  async function loadPullRequests(repositoryId: number, count: number, seed: number, end: number) {
    const random = mulberry32(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    for (let first = 1; first <= count; first += 1000) {
      const pullRequests: Record<string, unknown>[] = [];
      const participants: Record<string, unknown>[] = [];
      const batch: number[] = [];
      for (let id = first; id < Math.min(first + 1000, count + 1); id++) {
        batch.push(id);
        const author = random() < 0.05 ? PEOPLE[0]! : pick(PEOPLE.slice(1));
        const created = end - Math.floor(random() * 6 * 365 * DAY);
        const closed = created + Math.floor(0.05 * 2 ** (random() * 14) * HOUR);
        const roll = random();
        const state = roll < 0.8 ? 'MERGED' : roll < 0.9 ? 'DECLINED' : roll < 0.97 ? 'OPEN' : 'SUPERSEDED';
        pullRequests.push({
          tenant_id: f.tenantId,
          repository_id: repositoryId,
          id,
          title: `PR ${id}`,
          state,
          author_uuid: author.uuid,
          author_account_id: author.account,
          author_name: author.name,
          created_on: new Date(created),
          updated_on: new Date(state === 'OPEN' ? created : closed),
          merged_on: state === 'MERGED' ? new Date(closed) : null,
          closed_on: state === 'OPEN' ? null : new Date(closed),
        });
        const seen = new Set<string>();
        for (let k = Math.floor(random() * 4); k > 0; k--) {
          const who = pick(PEOPLE);
          if (seen.has(who.uuid)) continue;
          seen.add(who.uuid);
          const approved = random() < 0.5;
          participants.push({
            tenant_id: f.tenantId,
            repository_id: repositoryId,
            pull_request_id: id,
            user_uuid: who.uuid,
            account_id: who.account,
            display_name: who.name,
            role: random() < 0.7 ? 'REVIEWER' : 'PARTICIPANT',
            approved,
            state: approved ? 'approved' : random() < 0.2 ? 'changes_requested' : null,
            participated_on:
              random() < 0.1 ? null : new Date(created + Math.floor(random() * (closed - created))),
          });
        }
      }
      await inTenant(async (trx) => {
        await trx('pull_requests').insert(pullRequests);
        for (let i = 0; i < participants.length; i += 1000)
          await trx('pull_request_participants').insert(participants.slice(i, i + 1000));
        await recordPullRequestChanges(trx, repositoryId, batch);
      });
    }
  }

  before(async () => {
    f = await startAnalyticsApp();
    const commits = readExport();
    const slices: [string, number, number, RepositoryProject | null][] = [
      ['a', 0, 700, p1],
      ['b', 700, 1300, p1],
      ['c', 1300, 1900, p2],
      ['d', 1900, 2200, null],
    ];
    for (const [name, from, to, p] of slices)
      ids[name] = await load(f, commits.slice(from, to), {
        repository: { fullName: `acme/${name}`, project: p },
      });
    // A repository with no commits in a project of its own.
    ids.e = await load(f, [], { repository: { fullName: 'acme/e', project: p3 } });
    const dates = commits.slice(0, 1900).map((c) => c.date.slice(0, 10));
    lastDay = dates.reduce((a, b) => (a > b ? a : b));
    // p1 (a, b) has over 5,000 merged pull requests over all time (binned percentiles), p2 (c) fewer (exact); after b
    // moves, p2 has over 5,000 and p1 fewer.
    const end = Date.parse(`${until()}T00:00:00Z`);
    for (const [name, count, seed] of [
      ['a', 3000, 1],
      ['b', 5000, 2],
      ['c', 2000, 3],
      ['d', 500, 4],
    ] as const)
      await loadPullRequests(ids[name]!.repositoryId, count, seed, end);
    const people = await f.api.json<{ contributors: { key: string }[] }>('/stats/contributors', {
      project: p1.uuid,
    });
    top = people.contributors[0]!.key;
  });
  after(() => f.app.close());

  /** The repositories a project has now, as GET /repositories lists them. */
  const repositoriesOf = async (p: RepositoryProject) =>
    (
      await f.api.json<{ repositories: { uuid: string; project: RepositoryProject | null }[] }>(
        '/repositories',
      )
    ).repositories
      .filter((r) => r.project?.uuid === p.uuid)
      .map((r) => r.uuid);

  /** Which rollups a whole-project question reads now. */
  const source = (p: RepositoryProject) =>
    inTenant(async (trx) => {
      const scope = await resolveScope(
        trx,
        {
          repositories: [],
          projects: [p.uuid.toLowerCase()],
          merges: 'exclude',
          bots: 'exclude',
          exclusions: 'apply',
        },
        new Date(),
      );
      return {
        projectIds: scope.projectIds,
        sql: sourceFor(scope, 'totals', 'contributor').sql,
        pullRequests: pullRequestRollupsFor(scope),
      };
    });

  /** Pull-request figures of a project over all time in UTC, bots included, as the API answers them. */
  const pullRequestsOf = (p: RepositoryProject) =>
    f.api.json<{ totals: { created: number }; time_to_merge: { count: number } }>('/pull-requests/stats', {
      project: p.uuid,
      tz: 'UTC',
      bots: 'include',
    });

  function until() {
    return addDays(lastDay, 1);
  }
  const ranges = (): Record<string, Params> => ({
    'all time': {},
    '5 years': { since: addDays(until(), -5 * 365), until: until() },
    '1 year': { since: addDays(until(), -365), until: until() },
    '90 days': { since: addDays(until(), -90), until: until() },
    '30 days': { since: addDays(until(), -30), until: until() },
  });
  const endpoints = (range: string): [string, Params][] => [
    ['/stats/contributors', {}],
    // Days over all time would be over ten years of them (400).
    ['/stats/activity', range === 'all time' ? { interval: 'month' } : { interval: 'day' }],
    ['/stats/activity', { interval: 'week' }],
    ['/stats/activity', { interval: 'month', contributor: top }],
    ['/stats/punchcard', {}],
    ['/stats/punchcard', { contributor: top }],
    ['/stats/top', { by: 'lines' }],
    ['/stats/top', { by: 'commits' }],
    ...(['all time', '5 years'].includes(range)
      ? []
      : ([['/stats/calendar', { contributor: top }]] as [string, Params][])),
    ['/pull-requests/stats', { interval: 'week' }],
    ['/pull-requests/stats', { interval: 'month', bots: 'include' }],
  ];

  /** Every endpoint × range × zone: by project and by its repositories, equal. Returns the commits counted. */
  async function sameAsRepositoryList(p: RepositoryProject): Promise<number> {
    const repositories = await repositoriesOf(p);
    let counted = 0;
    for (const tz of ['UTC', 'Asia/Kolkata'])
      for (const [range, span] of Object.entries(ranges()))
        for (const [path, params] of endpoints(range)) {
          const asked = { ...params, ...span, tz };
          const byProject = await f.api.json(path, { ...asked, project: p.uuid });
          // No repositories is "every repository": ask for one the tenant does not have instead.
          const byList = await f.api.json(path, {
            ...asked,
            repository: repositories.length > 0 ? repositories : [`{${randomUUID()}}`],
          });
          assert.deepEqual(byProject, byList, `${path} ${JSON.stringify(asked)}`);
          if (path === '/stats/contributors')
            for (const c of (byProject as { contributors: { commits: number }[] }).contributors)
              counted += c.commits;
        }
    return counted;
  }

  it('a whole project reads its own rollups, and answers as its repositories do', async () => {
    const read = await source(p1);
    assert.equal(read.projectIds!.length, 1);
    assert.match(read.sql, /project_contributor_rollups/);
    assert.equal(read.pullRequests, PROJECT_PR_ROLLUPS);
    const prs = await pullRequestsOf(p1);
    assert.ok(prs.time_to_merge.count > 5000, 'p1: percentiles from the duration bins');
    assert.ok((await pullRequestsOf(p2)).time_to_merge.count < 5000, 'p2: exact percentiles');
    assert.ok((await sameAsRepositoryList(p1)) > 0, 'the project has commits');
    assert.ok((await sameAsRepositoryList(p2)) > 0);
    // Several projects at once.
    const both = await f.api.json<{ contributors: { commits: number }[] }>('/stats/contributors', {
      project: [p1.uuid, p2.uuid],
    });
    const list = await f.api.json<{ contributors: { commits: number }[] }>('/stats/contributors', {
      repository: [ids.a!.uuid, ids.b!.uuid, ids.c!.uuid],
    });
    assert.deepEqual(both, list);
    assert.equal(
      both.contributors.reduce((sum, c) => sum + c.commits, 0),
      await countedFacts([ids.a!, ids.b!, ids.c!]),
    );
  });

  /** Commits the default filters count (no merges, no bots) in these repositories, from the facts. */
  const countedFacts = (repos: { repositoryId: number }[]) =>
    inTenant(async (trx) => {
      const { rows } = await trx.raw(
        `select count(*)::int as n from commit_facts
          where repository_id = any(?::bigint[]) and not is_merge and not is_bot`,
        [repos.map((r) => r.repositoryId)],
      );
      return rows[0].n as number;
    });

  it('a repository that moves to another project takes its commits along, exact before and after its rebuild', async () => {
    const before = await f.api.json<{ contributors: { commits: number }[] }>('/stats/contributors', {
      project: p2.uuid,
    });
    const pullRequestsBefore = (await pullRequestsOf(p2)).totals.created;
    // As a listing (or repo:updated) stores it.
    await inTenant(async (trx) => {
      const b = (await findRepository(trx, f.tenantId, ids.b!.repositoryId))!;
      await upsertRepositories(
        trx,
        f.tenantId,
        [
          {
            uuid: b.uuid,
            fullName: b.fullName,
            slug: b.slug,
            name: b.name,
            mainbranch: b.mainbranch,
            isPrivate: true,
            project: p2,
          },
        ],
        new Date(),
      );
      assert.equal(await enqueueProjectMoves(trx, f.tenantId), 1);
    });
    // Its rebuild has not run: both projects read per-repository rollups meanwhile.
    assert.equal((await source(p1)).projectIds, null);
    assert.equal((await source(p2)).projectIds, null);
    assert.equal((await source(p2)).pullRequests, REPOSITORY_PR_ROLLUPS);
    await sameAsRepositoryList(p2);
    // Pull-request upkeep of the moved repository meanwhile (its facts take the new project; the rebuild still
    // has the rest to move).
    await inTenant((trx) => recordPullRequestChanges(trx, ids.b!.repositoryId, [1, 2, 3]));
    await sameAsRepositoryList(p1);
    assert.equal(await runPendingRebuilds(f), 1);
    assert.ok((await source(p2)).projectIds);
    assert.ok((await source(p1)).projectIds);
    const moved = await sameAsRepositoryList(p2);
    assert.ok(moved > before.contributors.reduce((s, c) => s + c.commits, 0), 'p2 gained b’s commits');
    assert.equal((await source(p2)).pullRequests, PROJECT_PR_ROLLUPS);
    const prs = await pullRequestsOf(p2);
    assert.equal(prs.totals.created, pullRequestsBefore + 5000, 'p2 gained b’s pull requests');
    assert.ok(prs.time_to_merge.count > 5000, 'p2 now: percentiles from the duration bins');
    await sameAsRepositoryList(p1);
    await inTenant(async (trx) => assert.equal(await enqueueProjectMoves(trx, f.tenantId), 0));
    // The move left no row behind (a row whose commits all left is deleted): as a build from scratch.
    const movedRows = await projectRows();
    await inTenant(async (trx) => {
      for (const table of [
        ...Object.values(CUBES).map((c) => c.table),
        'commit_facts',
        ...PR_ROLLUP_TABLES,
        'pull_request_facts',
        'pull_request_review_facts',
      ])
        await trx.raw(`delete from ${table}`);
      await rebuildRollups(trx);
    });
    assert.deepEqual(await projectRows(), movedRows);
  });

  const PROJECT_TABLES = [
    ...Object.values(CUBES)
      .filter((c) => c.project)
      .map((c) => c.table),
    PROJECT_PR_ROLLUPS.daily,
    ...Object.values(PROJECT_PR_ROLLUPS.durations),
    ...Object.values(PROJECT_PR_ROLLUPS.reviewers),
  ];
  const projectRows = () =>
    inTenant(async (trx) => {
      const out: Record<string, string[]> = {};
      for (const table of PROJECT_TABLES) {
        const { rows } = await trx.raw(`select t::text as row from ${table} t order by 1`);
        out[table] = rows.map((r: { row: string }) => r.row);
      }
      return out;
    });

  it('a deleted repository leaves its project’s statistics', async () => {
    const before = await sameAsRepositoryList(p2);
    const pullRequestsBefore = (await pullRequestsOf(p2)).totals.created;
    await inTenant(async (trx) => {
      await trx('repositories').where({ id: ids.c!.repositoryId }).update({ deleted_at: new Date() });
      await rebuildRollups(trx, ids.c!.repositoryId);
    });
    const after = await sameAsRepositoryList(p2);
    assert.ok(after < before && after > 0, `${after} < ${before}`);
    assert.equal(
      (await pullRequestsOf(p2)).totals.created,
      pullRequestsBefore - 2000,
      'c’s pull requests left',
    );
  });

  it('a project without commits is empty, from its rollups', async () => {
    assert.ok((await source(p3)).projectIds);
    assert.equal(await sameAsRepositoryList(p3), 0);
    const unknown = project('NONE');
    assert.equal(await sameAsRepositoryList(unknown), 0);
  });
});
