import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Runner } from 'graphile-worker';
import {
  exportTotals,
  repositoryStatus,
  startBackfill,
  startIngestWorker,
  storedTotals,
  waitFor,
  waitForReady,
  waitIdle,
  type Backfill,
} from './backfill-harness';
import { BACKFILL_TASKS } from '../../src/ingest/scheduler';
import { SYNC_TASKS } from '../../src/ingest/sync/scheduling';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';

describe('backfill of the express history', () => {
  let b: Backfill;
  let worker: Runner;
  const jobErrors: string[] = [];
  before(async () => {
    b = await startBackfill();
    worker = await startIngestWorker(b.app);
    worker.events.on('job:error', ({ job, error }) =>
      jobErrors.push(`${job.task_identifier}: ${error instanceof Error ? error.message : String(error)}`),
    );
  });
  after(async () => {
    await worker?.stop();
    await b?.close();
  });

  it('is ready only when its numbers are right: from that moment every answer equals the export, and says so', async () => {
    await waitForReady(b);
    // No waiting past `ready`: these requests go out the moment it is reported.
    const token = createSessionToken({
      appKey: 'tally',
      clientKey: b.clientKey,
      secret: b.sharedSecret,
      scope: scopeForPage('workspace', {}),
    });
    const get = async (path: string) => {
      const res = await fetch(`${b.app.url}/api/v1${path}?bots=include&exclusions=ignore`, {
        headers: { authorization: `JWT ${token}` },
      });
      assert.equal(res.status, 200, path);
      return (await res.json()) as Record<string, unknown> & { complete: boolean; pending_commits: number };
    };
    const [contributors, activity, punch] = await Promise.all([
      get('/stats/contributors'),
      get('/stats/activity'),
      get('/stats/punchcard'),
    ]);
    const expected = exportTotals().withoutMerges;
    const all = Object.values(expected).reduce(
      (t, a) => ({
        commits: t.commits + a.commits,
        added: t.added + a.added,
        removed: t.removed + a.removed,
      }),
      { commits: 0, added: 0, removed: 0 },
    );
    type Person = { emails: string[]; commits: number; lines_added: number; lines_removed: number };
    const people = contributors.contributors as Person[];
    const wrong = people.filter((c) => {
      const want = c.emails
        .map((e) => expected[e.toLowerCase()])
        .reduce<{ commits: number; added: number; removed: number }>(
          (t, a) => ({
            commits: t.commits + (a?.commits ?? 0),
            added: t.added + (a?.added ?? 0),
            removed: t.removed + (a?.removed ?? 0),
          }),
          { commits: 0, added: 0, removed: 0 },
        );
      return want.commits !== c.commits || want.added !== c.lines_added || want.removed !== c.lines_removed;
    });
    assert.deepEqual(wrong, [], 'every contributor equals the export');
    assert.equal(
      people.reduce((n, c) => n + c.commits, 0),
      all.commits,
    );
    const series = activity.series as { commits: number; lines_added: number; lines_removed: number }[];
    assert.deepEqual(
      {
        commits: series.reduce((n, p) => n + p.commits, 0),
        added: series.reduce((n, p) => n + p.lines_added, 0),
        removed: series.reduce((n, p) => n + p.lines_removed, 0),
      },
      all,
    );
    assert.equal(
      (punch.counts as number[][]).flat().reduce((n, c) => n + c, 0),
      all.commits,
    );
    for (const answer of [contributors, activity, punch]) {
      assert.equal(answer.complete, true);
      assert.equal(answer.pending_commits, 0);
      assert.equal(answer.commits_without_lines, 0);
      assert.equal(answer.lines_counted_share, 1);
      assert.equal(answer.lines_complete_eta_seconds, null);
    }
  });

  it('stores exactly the totals of the export: commits, files, lines per author email with and without merges', async () => {
    const [repo] = await waitForReady(b);
    const expected = exportTotals();
    assert.equal(expected.commits, 6413);
    const stored = await storedTotals(b.admin, b.tenantId);
    assert.equal(stored.commits, expected.commits);
    assert.equal(stored.files, expected.files);
    assert.deepEqual(stored.withoutMerges, expected.withoutMerges);
    assert.deepEqual(stored.withMerges, expected.withMerges);
    assert.equal(repo!.full_name, 'acme/express');
    assert.equal(repo!.commits_known, 6413);
    assert.equal(repo!.commits_with_lines, 6413);
    assert.equal(repo!.eta_seconds, null, 'null once done');
  });

  it('spends about one request per commit: the listing, ceil(n/100) commit pages and one diffstat each', async () => {
    const [repo] = await repositoryStatus(b);
    // The install's verification (one signed GET with pagelen=1, src/ingest/install-verification.ts) comes first.
    const isVerification = (r: { path: string; query: string }) =>
      /^\/2\.0\/repositories\/[^/]+$/.test(r.path) && /(^|&)pagelen=1(&|$)/.test(r.query);
    assert.equal(b.sim.requestLog.filter(isVerification).length, 1, 'one verification request');
    // Pull requests have their own pass (src/ingest/sync); everything else is the commit backfill.
    const log = b.sim.requestLog.filter((r) => !r.path.includes('/pullrequests') && !isVerification(r));
    const pullRequests = b.sim.requestLog.filter((r) => r.path.includes('/pullrequests')).length;
    const pages = log.filter((r) => r.path.endsWith('/commits'));
    const diffstats = log.filter((r) => r.path.includes('/diffstat/'));
    assert.equal(pages.length, Math.ceil(6413 / 100));
    assert.equal(diffstats.length, 6413);
    assert.equal(new Set(diffstats.map((r) => r.path)).size, 6413, 'no diffstat fetched twice');
    assert.equal(log.length, 1 + pages.length + diffstats.length, 'nothing else was requested');
    assert.equal(repo!.requests_used, pages.length + diffstats.length + pullRequests);
    assert.ok(log.length / 6413 <= 1.011);
  });

  it('runs the pull-request pass beside the listing, and no job fails (their writes never deadlock)', async () => {
    await waitIdle(b);
    const at = (r: { at: string }) => Date.parse(r.at);
    const pages = b.sim.requestLog.filter((r) => r.path.endsWith('/commits'));
    const pullRequests = b.sim.requestLog.filter((r) => r.path.includes('/pullrequests'));
    assert.ok(at(pullRequests[0]!) <= at(pages.at(-1)!), 'the pull requests did not wait for the listing');
    const details = pullRequests.filter((r) => /\/pullrequests\/\d+$/.test(r.path));
    assert.equal(new Set(details.map((r) => r.path)).size, details.length, 'no pull request fetched twice');
    assert.deepEqual(jobErrors, []);
  });

  it('the graphs follow: once the queued analytics changes are applied, totals equal the export', async () => {
    await waitIdle(b);
    const { rows } = await b.admin.query('select count(*)::int as n from analytics_changes');
    assert.equal(rows[0].n, 0, 'nothing left to apply');
    const token = createSessionToken({
      appKey: 'tally',
      clientKey: b.clientKey,
      secret: b.sharedSecret,
      scope: scopeForPage('workspace', {}),
    });
    const res = await fetch(`${b.app.url}/api/v1/stats/contributors?bots=include&exclusions=ignore`, {
      headers: { authorization: `JWT ${token}` },
    });
    assert.equal(res.status, 200);
    const { contributors } = (await res.json()) as {
      contributors: { commits: number; lines_added: number; lines_removed: number }[];
    };
    const sum = (pick: (c: { commits: number; added: number; removed: number }) => number) =>
      Object.values(exportTotals().withoutMerges).reduce((n, t) => n + pick(t), 0);
    assert.deepEqual(
      {
        commits: contributors.reduce((n, c) => n + c.commits, 0),
        added: contributors.reduce((n, c) => n + c.lines_added, 0),
        removed: contributors.reduce((n, c) => n + c.lines_removed, 0),
      },
      { commits: sum((t) => t.commits), added: sum((t) => t.added), removed: sum((t) => t.removed) },
    );
  });
});

describe('a repository whose pull requests come in after its line counts', () => {
  let b: Backfill;
  let worker: Runner | undefined;
  before(async () => {
    b = await startBackfill();
  });
  after(async () => {
    await worker?.stop();
    await b?.close();
  });

  it('is ready only once its pull requests have been read as well', async () => {
    // A worker without the pull-request task: the commit backfill runs alone to its end.
    worker = await startIngestWorker(b.app, {}, 4, [SYNC_TASKS.pullRequests]);
    const commitSteps = `'${BACKFILL_TASKS.tenant}', '${BACKFILL_TASKS.commits}', '${BACKFILL_TASKS.diffstats}'`;
    await waitFor(async () => {
      const { rows } = await b.admin.query(
        `select count(*)::int as n from graphile_worker.jobs
          where task_identifier in (${commitSteps}) and run_at < now() + interval '1 minute'`,
      );
      return rows[0].n === 0 && (await repositoryStatus(b))[0]?.commits_with_lines === 6413;
    }, 'the line counts of every commit');
    const [waiting] = await repositoryStatus(b);
    assert.equal(waiting!.state, 'diffstats', 'not ready while the pull requests are missing');
    assert.equal(waiting!.commits_known, 6413);
    await worker.stop();

    worker = await startIngestWorker(b.app);
    const [ready] = await waitForReady(b);
    assert.equal(ready!.commits_with_lines, 6413);
    const { rows } = await b.admin.query('select count(*)::int as n from pull_requests');
    assert.equal(rows[0].n, b.sim.repository('acme', 'express').pullRequests.size);
  });
});
