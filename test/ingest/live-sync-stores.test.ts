import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { markHeadsLeft, seedUnnamedHeads, setRef, unnamedTips } from '../../src/db/branch-store';
import { insertCommits } from '../../src/db/commit-store';
import { createDatabase, type Database } from '../../src/db/database';
import {
  savePullRequests,
  upToDatePullRequests,
  type PullRequestRecord,
} from '../../src/db/pull-request-store';
import { refreshReachability } from '../../src/db/reachability';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';

const h = (label: string) => label.padEnd(40, '0');

/**
 *   a ─ b ─ c ─ d      d: a branch Tally never heard of (an unnamed tip once seeded)
 *        └─ e ─ f      f: another unnamed tip
 */
const GRAPH: [string, string[]][] = [
  ['a', []],
  ['b', ['a']],
  ['c', ['b']],
  ['d', ['c']],
  ['e', ['b']],
  ['f', ['e']],
];

describe('live sync stores: heads, reachability, pull requests', () => {
  let database: TestDatabase;
  let db: Database;
  const tenantId = randomUUID();
  let repositoryId: number;
  const now = new Date('2026-01-01T00:00:00Z');

  const reachable = async () =>
    db.withTenant(tenantId, async (trx) =>
      (
        await trx('commits')
          .where({ repository_id: repositoryId })
          .whereNull('unreachable_since')
          .orderBy('hash')
          .select('hash')
      ).map((r: { hash: string }) => r.hash[0]),
    );

  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.appUrl, createLogger('silent'));
    repositoryId = await db.withTenant(tenantId, async (trx) => {
      const [row] = await trx('repositories')
        .insert({
          tenant_id: tenantId,
          uuid: '{r}',
          full_name: 'acme/r',
          slug: 'r',
          name: 'r',
          sync_state: 'ready',
        })
        .returning('id');
      await insertCommits(
        trx,
        tenantId,
        row.id,
        GRAPH.map(([label, parents]) => ({
          hash: h(label),
          authorRaw: 'A <a@example.com>',
          authorName: 'A',
          authorEmail: 'a@example.com',
          authorAccountId: null,
          authorUuid: null,
          authoredAt: now,
          parents: parents.map(h),
          message: label,
        })),
      );
      return row.id as number;
    });
  });
  after(async () => {
    await db.close();
    await database.drop();
  });

  it('seeds the childless commits as unnamed tips once, and leaves out commits a ref already left', async () => {
    await db.withTenant(tenantId, async (trx) => {
      await markHeadsLeft(trx, tenantId, repositoryId, [h('f')], now);
      assert.equal(await seedUnnamedHeads(trx, tenantId, repositoryId, now), true);
      assert.equal(await seedUnnamedHeads(trx, tenantId, repositoryId, now), false);
      assert.deepEqual(await unnamedTips(trx, tenantId, repositoryId), [h('d')]);
      // f was left before seeding: e and f reach nothing.
      assert.deepEqual((await refreshReachability(trx, tenantId, repositoryId, now)).sort(), [
        h('e'),
        h('f'),
      ]);
    });
    assert.deepEqual(await reachable(), ['a', 'b', 'c', 'd']);
  });

  it('keeps an unnamed tip counting when a named branch grown from it is deleted', async () => {
    await db.withTenant(tenantId, async (trx) => {
      // A new branch g on top of d (d still has its unnamed ref), then g is deleted.
      await insertCommits(trx, tenantId, repositoryId, [
        {
          hash: h('9'),
          authorRaw: 'A <a@example.com>',
          authorName: 'A',
          authorEmail: 'a@example.com',
          authorAccountId: null,
          authorUuid: null,
          authoredAt: now,
          parents: [h('d')],
          message: 'g',
        },
      ]);
      await setRef(trx, tenantId, repositoryId, { kind: 'branch', name: 'g', head: h('9') }, now);
      assert.deepEqual(await refreshReachability(trx, tenantId, repositoryId, now), []);
      await setRef(trx, tenantId, repositoryId, { kind: 'branch', name: 'g', head: null }, now);
      assert.deepEqual(await markHeadsLeft(trx, tenantId, repositoryId, [h('9')], now), []);
      assert.deepEqual(await refreshReachability(trx, tenantId, repositoryId, now), [h('9')]);
    });
    assert.deepEqual(await reachable(), ['a', 'b', 'c', 'd'], 'd is still the tip of its own ref');
  });

  it('counts orphaned commits again when a ref moves back onto them, and drops a tip a ref left', async () => {
    await db.withTenant(tenantId, async (trx) => {
      await setRef(trx, tenantId, repositoryId, { kind: 'tag', name: 'v1', head: h('f') }, now);
      assert.deepEqual((await refreshReachability(trx, tenantId, repositoryId, now)).sort(), [
        h('e'),
        h('f'),
      ]);
      assert.deepEqual(await markHeadsLeft(trx, tenantId, repositoryId, [h('d')], now), [h('d')]);
      assert.deepEqual((await refreshReachability(trx, tenantId, repositoryId, now)).sort(), [
        h('c'),
        h('d'),
      ]);
    });
    assert.deepEqual(await reachable(), ['a', 'b', 'e', 'f']);
  });

  it('never lets an older pull request version overwrite a newer one', async () => {
    const version = (title: string, updatedOn: string): PullRequestRecord => ({
      id: 7,
      title,
      state: 'OPEN',
      authorAccountId: 'acc',
      authorUuid: '{u}',
      authorName: 'U',
      sourceBranch: 's',
      destinationBranch: 'main',
      createdOn: '2026-01-01T00:00:00.000001+00:00',
      updatedOn,
      mergedOn: null,
      closedOn: null,
      mergeCommit: null,
      closedByAccountId: null,
      commentCount: 0,
      taskCount: 0,
      participants: [
        {
          userUuid: '{p}',
          accountId: 'p',
          displayName: 'P',
          role: 'REVIEWER',
          isReviewer: true,
          approved: title === 'new',
          state: title === 'new' ? 'approved' : null,
          participatedOn: updatedOn,
          approvedOn: title === 'new' ? updatedOn : null,
        },
      ],
    });
    await db.withTenant(tenantId, async (trx) => {
      assert.deepEqual(
        await savePullRequests(trx, tenantId, repositoryId, [
          version('new', '2026-01-02T00:00:00.000002+00:00'),
        ]),
        [7],
      );
      assert.deepEqual(
        await savePullRequests(trx, tenantId, repositoryId, [
          version('old', '2026-01-02T00:00:00.000001+00:00'),
        ]),
        [],
      );
      const current = await upToDatePullRequests(trx, tenantId, repositoryId, [
        { id: 7, updatedOn: '2026-01-02T00:00:00.000002+00:00' },
      ]);
      assert.deepEqual([...current], [7]);
      const stale = await upToDatePullRequests(trx, tenantId, repositoryId, [
        { id: 7, updatedOn: '2026-01-02T00:00:00.000003+00:00' },
      ]);
      assert.equal(stale.size, 0, 'a microsecond newer is a new version');
      const row = await trx('pull_requests').where({ id: 7 }).first('title');
      const people = await trx('pull_request_participants').where({ pull_request_id: 7 }).select('approved');
      assert.deepEqual([row.title, people], ['new', [{ approved: true }]]);
    });
  });
});
