import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CUBES, rebuildRollups, recordCommitChanges } from '../../src/analytics/rollups';
import type { Trx } from '../../src/db/database';
import { readExport, syntheticAccount, type ExportCommit } from '../support/load-export';
import { contributorTotals, identityKey } from './expected';
import { load, startAnalyticsApp, type AnalyticsFixture } from './helpers';

/** Rollup upkeep: idempotent, equal to a rebuild from scratch, following reachability and deletions. */

// Every cube upkeep keeps (src/analytics/rollups.ts), so that a new one is covered here without a list to extend.
const TABLES = ['commit_facts', ...Object.values(CUBES).map((c) => c.table)];

describe('rollup upkeep', () => {
  let f: AnalyticsFixture;
  let commits: ExportCommit[];
  let repositoryId: number;
  const inTenant = <T>(fn: (trx: Trx) => Promise<T>) => f.app.runtime.db.withTenant(f.tenantId, fn);

  /** Every analytics row, as text, table by table (ids are stable across rebuilds: identities are kept). */
  const snapshot = () =>
    inTenant(async (trx) => {
      const out: Record<string, string[]> = {};
      for (const table of TABLES) {
        const { rows } = await trx.raw(`select t::text as row from ${table} t order by 1`);
        out[table] = rows.map((r: { row: string }) => r.row);
      }
      return out;
    });

  /**
   * Facts and rollups built from nothing: every analytics row deleted, then a rebuild (which finds every fact new).
   * A rebuild over existing rows only applies differences, so this is what upkeep is compared with.
   */
  const rebuildFromScratch = () =>
    inTenant(async (trx) => {
      for (const table of [...TABLES].reverse()) await trx.raw(`delete from ${table}`);
      await rebuildRollups(trx);
    });

  before(async () => {
    f = await startAnalyticsApp();
    commits = readExport().slice(0, 2000);
    ({ repositoryId } = await load(f, commits));
    // A second repository shares the workspace rollups.
    await load(f, readExport().slice(3000, 3400), { repository: { fullName: 'acme/second' } });
  });
  after(() => f.app.close());

  it('is idempotent: recording the same commits again changes nothing', async () => {
    const before = await snapshot();
    assert.ok(before.contributor_rollups_yearly!.length > 0);
    await inTenant((trx) =>
      recordCommitChanges(
        trx,
        repositoryId,
        commits.map((c) => c.hash),
      ),
    );
    assert.deepEqual(await snapshot(), before);
  });

  it('incremental upkeep equals a rebuild, for one repository and for the tenant, and a build from scratch', async () => {
    const incremental = await snapshot();
    await inTenant((trx) => rebuildRollups(trx, repositoryId));
    assert.deepEqual(await snapshot(), incremental);
    await inTenant((trx) => rebuildRollups(trx));
    assert.deepEqual(await snapshot(), incremental);
    await rebuildFromScratch();
    assert.deepEqual(await snapshot(), incremental);
  });

  it('a repository rebuilt from nothing comes back as it was', async () => {
    const before = await snapshot();
    await inTenant(async (trx) => {
      await trx('repositories').where({ id: repositoryId }).update({ deleted_at: new Date() });
      await rebuildRollups(trx, repositoryId);
    });
    const without = await snapshot();
    assert.ok(without.commit_facts!.length < before.commit_facts!.length, 'its facts left');
    await inTenant(async (trx) => {
      await trx('repositories').where({ id: repositoryId }).update({ deleted_at: null });
      await rebuildRollups(trx, repositoryId);
    });
    assert.deepEqual(await snapshot(), before);
  });

  it('an unreachable commit stops counting (first/last commit follow), and counts again when reachable', async () => {
    const before = await snapshot();
    const s = { accountOf: syntheticAccount };
    const expected = contributorTotals(commits, s);
    const [key, totals] = [...expected.entries()].find(([, t]) => t.commits >= 2)!;
    const last = commits.find(
      (c) => identityKey(c, s) === key && new Date(c.date).toISOString() === totals.last_commit,
    )!;
    const setReachable = (reachable: boolean) =>
      inTenant(async (trx) => {
        await trx('commits')
          .where({ repository_id: repositoryId, hash: last.hash })
          .update({ unreachable_since: reachable ? null : new Date() });
        await recordCommitChanges(trx, repositoryId, [last.hash]);
      });
    await setReachable(false);
    const rows = await f.api.json<{ contributors: { key: string; commits: number; last_commit: string }[] }>(
      '/stats/contributors',
      { repository: await repositoryUuid() },
    );
    const row = rows.contributors.find((c) => c.key === key)!;
    assert.equal(row.commits, totals.commits - 1);
    const remaining = commits
      .filter((c) => identityKey(c, s) === key && c.hash !== last.hash && c.parents.length < 2)
      .map((c) => new Date(c.date).toISOString())
      .sort();
    assert.equal(new Date(row.last_commit).toISOString(), remaining.at(-1));
    const afterIncremental = await snapshot();
    await rebuildFromScratch();
    assert.deepEqual(
      await snapshot(),
      afterIncremental,
      'a removal leaves what a build from scratch would build',
    );
    await setReachable(true);
    assert.deepEqual(await snapshot(), before);
  });

  it('a deleted commit reported by ingest is subtracted', async () => {
    const before = await snapshot();
    const victim = commits[10]!;
    await inTenant(async (trx) => {
      await trx('commits').where({ repository_id: repositoryId, hash: victim.hash }).del();
      await recordCommitChanges(trx, repositoryId, [victim.hash]);
    });
    const after = await snapshot();
    assert.equal(after.commit_facts!.length, before.commit_facts!.length - 1);
    await rebuildFromScratch();
    assert.deepEqual(await snapshot(), after);
  });

  it("each repository's punch card equals its facts, in every kind of zone, after changes, deletions and restores", async () => {
    const repositories = await inTenant(
      async (trx) =>
        (await trx('repositories').select('id', 'uuid').orderBy('id')) as { id: number; uuid: string }[],
    );
    assert.equal(repositories.length, 2);
    // The facts path: every counted commit of the repository, placed in the zone's local week.
    const fromFacts = (repository: number, tz: string, merges: string, since?: string, until?: string) =>
      inTenant(async (trx) => {
        const counts = Array.from({ length: 7 }, () => Array<number>(24).fill(0));
        const { rows } = await trx.raw(
          `select extract(dow from authored_at at time zone ?)::int as weekday,
                  extract(hour from authored_at at time zone ?)::int as hour, count(*)::int as commits
             from commit_facts
            where repository_id = ? and not is_bot
              and (? = 'include' or is_merge = (? = 'only'))
              and authored_at >= coalesce((?::date::timestamp at time zone ?), '-infinity')
              and authored_at < coalesce((?::date::timestamp at time zone ?), 'infinity')
            group by 1, 2`,
          [tz, tz, repository, merges, merges, since ?? null, tz, until ?? null, tz],
        );
        for (const r of rows as { weekday: number; hour: number; commits: number }[])
          counts[r.weekday]![r.hour] = r.commits;
        return counts;
      });
    const check = async (label: string) => {
      for (const { id, uuid } of repositories)
        for (const tz of ['UTC', 'America/New_York', 'Australia/Adelaide', 'Asia/Kolkata'])
          for (const merges of ['exclude', 'include', 'only'])
            for (const [since, until] of [[], ['2013-03-05', '2014-11-02']] as string[][]) {
              const body = await f.api.json<{ counts: number[][] }>('/stats/punchcard', {
                repository: uuid,
                tz,
                merges,
                since,
                until,
              });
              assert.deepEqual(
                body.counts,
                await fromFacts(id, tz, merges, since, until),
                `${label}: repository ${id} ${tz} ${merges} ${since ?? 'all time'}`,
              );
            }
    };
    await check('as loaded');
    const before = await snapshot();
    // A merge commit and an ordinary one stop counting, another is deleted: each left its punch-card rows.
    const merge = commits.find((c) => c.parents.length > 1)!;
    const plain = commits.find((c) => c.parents.length === 1 && c.hash !== merge.hash)!;
    const deleted = commits.find(
      (c) => ![merge.hash, plain.hash].includes(c.hash) && c.parents.length === 1,
    )!;
    await inTenant(async (trx) => {
      await trx('commits')
        .where({ repository_id: repositoryId })
        .whereIn('hash', [merge.hash, plain.hash])
        .update({ unreachable_since: new Date() });
      await trx('commits').where({ repository_id: repositoryId, hash: deleted.hash }).del();
      await recordCommitChanges(trx, repositoryId, [merge.hash, plain.hash, deleted.hash]);
    });
    await check('after changes');
    const changed = await snapshot();
    await rebuildFromScratch();
    assert.deepEqual(await snapshot(), changed, 'upkeep left what a build from scratch builds');
    await inTenant(async (trx) => {
      await trx('commits')
        .where({ repository_id: repositoryId })
        .whereIn('hash', [merge.hash, plain.hash])
        .update({ unreachable_since: null });
      await recordCommitChanges(trx, repositoryId, [merge.hash, plain.hash]);
    });
    await check('reachable again');
    const punch = (rows: Record<string, string[]>) => rows.repository_punchcard_rollups_yearly!.length;
    assert.ok(punch(before) > 0 && punch(await snapshot()) > 0);
  });

  async function repositoryUuid(): Promise<string> {
    return inTenant(async (trx) => (await trx('repositories').where({ id: repositoryId }).first()).uuid);
  }
});
