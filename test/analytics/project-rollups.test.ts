import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { enqueueProjectMoves } from '../../src/analytics/rollup-rebuild';
import { CUBES, rebuildRollups } from '../../src/analytics/rollups';
import { addDays, resolveScope, sourceFor } from '../../src/analytics/scope';
import type { Trx } from '../../src/db/database';
import { findRepository, upsertRepositories, type RepositoryProject } from '../../src/db/repository-store';
import { readExport } from '../support/load-export';
import { load, runPendingRebuilds, startAnalyticsApp, type AnalyticsFixture, type Params } from './helpers';

/**
 * Statistics filtered by whole projects read per-project rollups (src/analytics/scope.ts, familyFor): every stats
 * and pull-request answer filtered by a project equals the same question asked with the project's repositories
 * listed, which reads the per-repository rollups, in UTC and in a :30 zone, over every range, after a repository
 * moves between projects (before and after its rebuild), after one is deleted, and for a project without commits.
 */

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
      return { projectIds: scope.projectIds, sql: sourceFor(scope, 'totals', 'contributor').sql };
    });

  const until = () => addDays(lastDay, 1);
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
    await sameAsRepositoryList(p2);
    assert.equal(await runPendingRebuilds(f), 1);
    assert.ok((await source(p2)).projectIds);
    assert.ok((await source(p1)).projectIds);
    const moved = await sameAsRepositoryList(p2);
    assert.ok(moved > before.contributors.reduce((s, c) => s + c.commits, 0), 'p2 gained b’s commits');
    await sameAsRepositoryList(p1);
    await inTenant(async (trx) => assert.equal(await enqueueProjectMoves(trx, f.tenantId), 0));
    // The move left no row behind (a row whose commits all left is deleted): as a build from scratch.
    const movedRows = await projectRows();
    await inTenant(async (trx) => {
      for (const table of [...Object.values(CUBES).map((c) => c.table), 'commit_facts'])
        await trx.raw(`delete from ${table}`);
      await rebuildRollups(trx);
    });
    assert.deepEqual(await projectRows(), movedRows);
  });

  const PROJECT_TABLES = Object.values(CUBES)
    .filter((c) => c.project)
    .map((c) => c.table);
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
    await inTenant(async (trx) => {
      await trx('repositories').where({ id: ids.c!.repositoryId }).update({ deleted_at: new Date() });
      await rebuildRollups(trx, ids.c!.repositoryId);
    });
    const after = await sameAsRepositoryList(p2);
    assert.ok(after < before && after > 0, `${after} < ${before}`);
  });

  it('a project without commits is empty, from its rollups', async () => {
    assert.ok((await source(p3)).projectIds);
    assert.equal(await sameAsRepositoryList(p3), 0);
    const unknown = project('NONE');
    assert.equal(await sameAsRepositoryList(unknown), 0);
  });
});
