import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  FAST_RETRY,
  startBackfill,
  startIngestWorker,
  waitFor,
  waitForReady,
  type Backfill,
} from './backfill-harness';
import { assertMatchesSimulator, newCommits, truthOf, waitIdle } from './live-sync-support';

const WORKER = fileURLToPath(new URL('./live-sync-worker.ts', import.meta.url));

describe('live sync: a worker killed mid-sync', () => {
  let b: Backfill;
  let child: ChildProcess | undefined;

  /** A worker in its own process, resolved once it takes jobs. */
  async function startChild(): Promise<ChildProcess> {
    const proc = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      env: {
        ...process.env,
        LIVE_SYNC_APP_URL: b.app.runtime.appUrl,
        LIVE_SYNC_KEY: b.app.runtime.config.encryptionKeys![0]!.toString('hex'),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
    return proc;
  }

  async function kill(proc: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  const requested = (match: (path: string, query: string) => boolean) => () =>
    Promise.resolve(b.sim.requestLog.some((r) => match(r.path, r.query)));

  before(async () => {
    b = await startBackfill();
    const worker = await startIngestWorker(b.app, { bitbucket: FAST_RETRY });
    await waitForReady(b);
    await waitIdle(b);
    await worker.stop();
  });
  after(async () => {
    if (child && child.exitCode === null) await kill(child);
    await b?.close();
  });

  it('is still exact after SIGKILL while listing a push and again while fetching its line counts', async () => {
    // Slow answers keep the sync in flight long enough to be killed in the middle of it.
    b.sim.setKnobs({ latencyMs: 100 });
    child = await startChild();
    const push = await b.sim.push('acme', 'express', { branch: 'big', commits: newCommits(400, 'big') });
    await waitFor(
      requested((_, query) => query.includes('include=big')),
      'the push sync to list commits',
    );
    await kill(child);
    const { rows } = await b.admin.query(
      'select count(*)::int as n from commits where tenant_id = $1 and hash = any($2)',
      [b.tenantId, push.commits],
    );
    assert.equal(rows[0].n, 0, 'killed before its transaction: nothing of the push written');

    child = await startChild();
    await waitFor(
      requested((path) => push.commits.some((hash) => path.endsWith(`/diffstat/${hash}`))),
      'line counts of pushed commits to be fetched',
    );
    await kill(child);

    b.sim.setKnobs({ latencyMs: 0 });
    child = await startChild();
    await waitIdle(b);
    await assertMatchesSimulator(b, [truthOf(b.sim, 'express')], { namedRefs: ['branch:big'] });
  });
});
