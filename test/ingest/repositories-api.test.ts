import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import type pg from 'pg';
import {
  repositoryStatus,
  startBackfill,
  startIngestWorker,
  waitFor,
  waitForReady,
} from './backfill-harness';

const listingDueNow = async (admin: pg.Client) =>
  (
    await admin.query(
      `select count(*)::int as n from graphile_worker.jobs
        where task_identifier = 'backfill_tenant' and run_at < now() + interval '1 minute'`,
    )
  ).rows[0].n as number;

describe('GET /api/v1/repositories and reinstall', () => {
  it('lists the tenant’s own repositories with their progress, under exactly the documented names', async () => {
    const b = await startBackfill();
    try {
      const other = randomUUID();
      await b.admin.query(
        `insert into repositories (tenant_id, uuid, full_name, slug, name, sync_state, commits_known,
                                   commits_with_lines, requests_used, eta_seconds, deleted_at)
         values ($1, '{a}', 'acme/alive', 'alive', 'alive', 'diffstats', 10, 4, 11, 42, null),
                ($1, '{d}', 'acme/deleted', 'deleted', 'deleted', 'ready', 1, 1, 2, 0, now()),
                ($2, '{o}', 'other/repo', 'repo', 'repo', 'ready', 1, 1, 2, 0, null)`,
        [b.tenantId, other],
      );
      assert.deepEqual(await repositoryStatus(b), [
        {
          uuid: '{a}',
          full_name: 'acme/alive',
          state: 'diffstats',
          commits_known: 10,
          commits_with_lines: 4,
          requests_used: 11,
          eta_seconds: 42,
        },
      ]);
      const res = await fetch(`${b.app.url}/api/v1/repositories`);
      assert.equal(res.status, 401);
      const forged = createSessionToken({
        appKey: 'tally',
        clientKey: b.clientKey,
        secret: 'x'.repeat(64),
        scope: scopeForPage('workspace', {}),
      });
      const bad = await fetch(`${b.app.url}/api/v1/repositories`, {
        headers: { authorization: `JWT ${forged}` },
      });
      assert.equal(bad.status, 401);
    } finally {
      await b.close();
    }
  });

  it('resumes after a reinstall where it stopped: no commit listed or diffstat fetched twice', async () => {
    const b = await startBackfill();
    try {
      // Short steps, so that stopping the worker (which lets the running step finish) stops mid-way.
      let worker = await startIngestWorker(b.app, { backfill: { stepMs: 300 } });
      await waitFor(async () => ((await repositoryStatus(b))[0]?.commits_with_lines ?? 0) > 500, 'progress');
      await worker.stop(); // graceful: the running step finishes and records its progress
      const before = (await repositoryStatus(b))[0]!;
      assert.equal(before.state, 'diffstats');
      assert.equal(before.commits_known, 6413);
      const reinstalled = await b.sim.install('acme', `${b.app.url}/atlassian-connect.json`);
      assert.equal(reinstalled.status, 204);
      b.sharedSecret = reinstalled.sharedSecret;
      // The reinstall moves the tenant's listing (otherwise hours away) to now.
      await waitFor(
        async () => (await listingDueNow(b.admin)) === 1,
        'the reinstall to enqueue the backfill',
      );
      assert.deepEqual((await repositoryStatus(b))[0], before, 'the reinstall kept every counter');
      worker = await startIngestWorker(b.app);
      const [repo] = await waitForReady(b);
      await worker.stop();
      assert.equal(repo!.commits_with_lines, 6413);
      const pages = b.sim.requestLog.filter((r) => r.path.endsWith('/commits'));
      const diffstats = b.sim.requestLog.filter((r) => r.path.includes('/diffstat/'));
      assert.equal(pages.length, Math.ceil(6413 / 100));
      assert.equal(diffstats.length, 6413);
      assert.equal(new Set(diffstats.map((r) => r.path)).size, 6413);
    } finally {
      await b.close();
    }
  });
});
