import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import type pg from 'pg';
import {
  repositoryListing,
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
  it('lists the tenant’s own repositories with their progress and the budget in force, under exactly the documented names', async () => {
    const b = await startBackfill();
    try {
      const other = randomUUID();
      await b.admin.query(
        `insert into repositories (tenant_id, uuid, full_name, slug, name, sync_state, commits_known,
                                   commits_with_lines, requests_used, eta_seconds, deleted_at)
         values ($1, '{a}', 'acme/alive', 'alive', 'alive', 'diffstats', 100000, 4, 11, 42, null),
                ($1, '{r}', 'acme/ready', 'ready', 'ready', 'ready', 5, 5, 6, 0, null),
                ($1, '{d}', 'acme/deleted', 'deleted', 'deleted', 'ready', 1, 1, 2, 0, now()),
                ($2, '{o}', 'other/repo', 'repo', 'repo', 'ready', 1, 1, 2, 0, null)`,
        [b.tenantId, other],
      );
      // Configured: 1,000,000 an hour, 980,000 of it for backfill; 99,996 diffstats left take 368 s.
      assert.deepEqual(await repositoryListing(b), {
        visibility: 'all',
        requests_per_hour: 1_000_000,
        requests_per_hour_source: 'configured',
        repositories: [
          {
            uuid: '{a}',
            full_name: 'acme/alive',
            project: null,
            state: 'diffstats',
            commits_known: 100000,
            commits_with_lines: 4,
            requests_used: 11,
            eta_seconds: Math.ceil(99_996 / (980_000 / 3600)),
          },
          {
            uuid: '{r}',
            full_name: 'acme/ready',
            project: null,
            state: 'ready',
            commits_known: 5,
            commits_with_lines: 5,
            requests_used: 6,
            eta_seconds: null,
          },
        ],
      });
      // A graph's freshness says how much is counted and when the rest will be (the stored ETA, kept by the backfill).
      const activity = await fetch(`${b.app.url}/api/v1/stats/activity`, {
        headers: {
          authorization: `JWT ${createSessionToken({
            appKey: 'tally',
            clientKey: b.clientKey,
            secret: b.sharedSecret,
            scope: scopeForPage('workspace', {}),
          })}`,
        },
      });
      assert.equal(activity.status, 200);
      const freshness = (await activity.json()) as Record<string, unknown>;
      assert.equal(freshness.commits_without_lines, 99_996);
      assert.equal(freshness.lines_counted_share, 0); // 9 of 100,005, to three decimals
      assert.equal(freshness.lines_complete_eta_seconds, 42);
      // Bitbucket announced 2,500 an hour for one resource, 4,000 for another: the smaller one is in force,
      // 2,450 of it for backfill, so the same work now takes 40.8 hours. Another tenant's announcement is not ours.
      await b.admin.query(
        `insert into api_rate_limits (tenant_id, resource, requests_per_hour, near_limit, announced_at)
         values ($1, 'api', 2500, false, now()), ($1, 'other', 4000, false, now()),
                ($2, 'api', 100, false, now())`,
        [b.tenantId, other],
      );
      const announced = await repositoryListing(b);
      assert.equal(announced.requests_per_hour, 2500);
      assert.equal(announced.requests_per_hour_source, 'announced');
      assert.equal(announced.repositories[0]!.eta_seconds, Math.ceil(99_996 / (2450 / 3600)));
      // An announcement older than the window has lapsed: the configured budget is back.
      await b.admin.query(`update api_rate_limits set announced_at = now() - interval '2 hours'`);
      assert.equal((await repositoryListing(b)).requests_per_hour_source, 'configured');
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

  it('follows the limit the simulator announces: the API shows it, and the backfill never draws a 429', async () => {
    // 101 paid seats: Bitbucket's scaled limit is 1,010 an hour, announced to token callers.
    const b = await startBackfill({
      sim: { rateLimitPerHour: 1000, announceToConnect: true, paidSeats: { acme: 101 } },
    });
    try {
      const worker = await startIngestWorker(b.app, { bitbucket: { maxBudgetWaitMs: 100 } });
      const repositoryRequests = () =>
        b.sim.requestLog.filter((r) => r.path.startsWith('/2.0/repositories/'));
      try {
        await waitFor(
          async () => (await repositoryListing(b)).requests_per_hour_source === 'announced',
          'announced',
        );
        // The backfill spends what the announced budget allows, then waits for the window (an hour) to slide.
        let seen = -1;
        await waitFor(async () => {
          const now = repositoryRequests().length;
          const settled = now === seen && now > 700;
          seen = now;
          if (!settled) await new Promise((resolve) => setTimeout(resolve, 1500));
          return settled;
        }, 'the backfill to spend the announced budget');
      } finally {
        await worker.stop();
      }
      const listing = await repositoryListing(b);
      assert.equal(listing.requests_per_hour, 1010);
      assert.equal(listing.requests_per_hour_source, 'announced');
      const requests = repositoryRequests();
      assert.ok(requests.length <= 1010, `${requests.length} requests`);
      assert.deepEqual(
        requests.filter((r) => r.status === 429),
        [],
      );
      // Near the limit Bitbucket said so, and that was recorded for every worker.
      const { rows } = await b.admin.query(
        'select resource, requests_per_hour, near_limit from api_rate_limits where tenant_id = $1',
        [b.tenantId],
      );
      assert.deepEqual(rows, [{ resource: 'api', requests_per_hour: 1010, near_limit: true }]);
      assert.ok(listing.repositories[0]!.eta_seconds! > 3600, 'hours of work left at 1,010 an hour');
    } finally {
      await b.close();
    }
  });
});
