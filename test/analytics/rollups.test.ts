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

  async function repositoryUuid(): Promise<string> {
    return inTenant(async (trx) => (await trx('repositories').where({ id: repositoryId }).first()).uuid);
  }
});
