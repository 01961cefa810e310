import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Runner } from 'graphile-worker';
import { FAST_RETRY, startBackfill, startIngestWorker, type Backfill } from './backfill-harness';
import {
  assertMatchesSimulator,
  backfillThenStop,
  newCommits,
  smallHistory,
  truthOf,
  waitIdle,
} from './live-sync-support';

describe('push syncs coalesced per repository', () => {
  let b: Backfill;
  let worker: Runner | undefined;

  before(async () => {
    b = await startBackfill({ repositories: [] });
    b.sim.addRepository('acme', { slug: 'small', history: smallHistory(20) });
    await backfillThenStop(b);
  });
  after(async () => {
    await worker?.stop();
    await b?.close();
  });

  it('pushes waiting for one repository are one job, and one sync applies them all exactly', async () => {
    const { sim, admin, tenantId } = b;
    const uuid = sim.repository('acme', 'small').uuid;
    // No worker runs: the deliveries wait, as behind a busy queue.
    for (let i = 0; i < 8; i++)
      await sim.push('acme', 'small', { branch: 'main', commits: newCommits(2, `main ${i}`) });
    await sim.push('acme', 'small', { branch: 'feature/x', from: 'main', commits: newCommits(3, 'feature') });
    await sim.push('acme', 'small', { branch: 'main', commits: newCommits(1, 'main last') });
    const { rows: jobs } = await admin.query(
      `select j.key, j.payload from graphile_worker._private_jobs j
         join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = 'sync_pushes'`,
    );
    assert.deepEqual(jobs, [
      { key: `pushes:${tenantId}:${uuid}`, payload: { tenantId, repositoryUuid: uuid } },
    ]);
    const waiting = async () =>
      (
        await admin.query(
          `select count(*)::int as n from webhook_deliveries where event = 'repo:push' and processed_at is null`,
        )
      ).rows[0].n as number;
    assert.equal(await waiting(), 10);

    const logged = b.app.logs.length;
    const requested = sim.requestLog.length;
    worker = await startIngestWorker(b.app, { bitbucket: FAST_RETRY });
    await waitIdle(b);
    assert.equal(await waiting(), 0);
    await assertMatchesSimulator(b, [truthOf(sim, 'small')], {
      namedRefs: ['branch:main', 'branch:feature/x'],
    });
    const syncs = b.app.logs
      .slice(logged)
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'pushes synced');
    assert.deepEqual(
      syncs.map((s) => s.deliveries),
      [10],
    );
    // Two refs: at most a listing and a head lookup each, where ten syncs would list ten times.
    const listings = sim.requestLog.slice(requested).filter((r) => r.path.endsWith('/commits'));
    assert.ok(listings.length <= 4, `${listings.length} commit listings`);
  });
});
