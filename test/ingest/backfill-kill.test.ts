import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  exportTotals,
  repositoryStatus,
  startBackfill,
  storedTotals,
  waitFor,
  waitForReady,
  type Backfill,
} from './backfill-harness';

const logDir = mkdtempSync(path.join(os.tmpdir(), 'tally-workers-'));
const logFiles: string[] = [];

/** `npm start -- --role=worker` as a separate process against the test app's database; warnings go to a file. */
function spawnWorker(b: Backfill): ChildProcess {
  const logFile = path.join(logDir, `worker-${logFiles.length + 1}.log`);
  logFiles.push(logFile);
  const out = openSync(logFile, 'w');
  const key = b.app.runtime.config.encryptionKeys![0]!.toString('hex');
  return spawn(process.execPath, ['--import', 'tsx', 'src/main/server.ts', '--role=worker'], {
    cwd: process.cwd(),
    stdio: ['ignore', out, out],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: b.app.database.appUrl,
      TALLY_ENCRYPTION_KEY: key,
      BITBUCKET_REQUESTS_PER_HOUR: '1000000',
      LOG_LEVEL: 'warn',
    },
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const diffstatRequests = (b: Backfill) => b.sim.requestLog.filter((r) => r.path.includes('/diffstat/'));

describe('backfill with worker processes killed at random points', () => {
  it('ends exact after several SIGKILLs and restarts, with two workers never running a step twice at once', async () => {
    const b = await startBackfill();
    const children: ChildProcess[] = [];
    try {
      const expected = exportTotals();
      // Kill points: during phase 1 (after a random number of commit pages), then at random diffstat counts.
      const pagesBeforeKill = 5 + Math.floor(Math.random() * 40);
      const diffstatsBeforeKill = [1, 2].map((i) => i * 1200 + Math.floor(Math.random() * 1000));
      const commitPages = () => b.sim.requestLog.filter((r) => r.path.endsWith('/commits')).length;

      let worker = spawnWorker(b);
      children.push(worker);
      // A worker that dies by itself (it should not) fails the test at once, with its log.
      const alive = (child: ChildProcess) => {
        if (child.exitCode !== null)
          throw new Error(
            `worker exited with ${child.exitCode}: ${readFileSync(logFiles.at(-1)!, 'utf8').slice(-1500)}`,
          );
      };
      await waitFor(async () => (alive(worker), commitPages() >= pagesBeforeKill), 'commit pages');
      await kill(worker);
      for (const target of diffstatsBeforeKill) {
        worker = spawnWorker(b);
        children.push(worker);
        await waitFor(
          async () => (alive(worker), diffstatRequests(b).length >= target),
          `${target} diffstats`,
        );
        await kill(worker);
      }
      const statusAfterKills = await repositoryStatus(b);
      assert.notEqual(statusAfterKills[0]?.state, 'ready', 'the kills interrupted the backfill');

      // Two workers finish the job together.
      const start = b.sim.requestLog.length;
      children.push(spawnWorker(b), spawnWorker(b));
      const [repo] = await waitForReady(b).catch(async (error: unknown) => {
        // What the queue and the workers were doing, for whoever reads the failure.
        const jobs = await b.admin.query(
          'select task_identifier, locked_by, locked_at, run_at, attempts, max_attempts, last_error from graphile_worker.jobs',
        );
        console.error(JSON.stringify(jobs.rows), JSON.stringify(await repositoryStatus(b)));
        for (const file of logFiles) console.error(file, readFileSync(file, 'utf8').slice(-2000));
        throw error;
      });

      const stored = await storedTotals(b.admin, b.tenantId);
      assert.equal(stored.commits, expected.commits);
      assert.equal(stored.files, expected.files);
      assert.deepEqual(stored.withoutMerges, expected.withoutMerges);
      assert.deepEqual(stored.withMerges, expected.withMerges);
      assert.equal(repo!.commits_known, expected.commits);
      assert.equal(repo!.commits_with_lines, expected.commits);

      // After the last kill, each remaining diffstat was fetched once: no step ran in both workers at once.
      const fetched = b.sim.requestLog.slice(start).filter((r) => r.path.includes('/diffstat/'));
      assert.ok(fetched.length > 0);
      assert.equal(new Set(fetched.map((r) => r.path)).size, fetched.length);
    } finally {
      await Promise.all(children.map(kill));
      await b.close();
    }
  });
});
