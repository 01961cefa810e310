import { after, before, describe, it } from 'node:test';
import type { Runner } from 'graphile-worker';
import { FAST_RETRY, startBackfill, startIngestWorker, type Backfill } from './backfill-harness';
import {
  assertMatchesSimulator,
  backfillThenStop,
  capturedWebhooks,
  newCommits,
  resend,
  truthOf,
  waitIdle,
} from './live-sync-support';

describe('live sync: deliveries out of order', () => {
  let b: Backfill;
  let worker: Runner | undefined;
  before(async () => {
    b = await startBackfill();
    await backfillThenStop(b);
  });
  after(async () => {
    await worker?.stop();
    await b?.close();
  });

  it('converges exactly when every delivery is processed three times in a shuffled order', async () => {
    const { sim } = b;
    const repo = sim.repository('acme', 'express');
    const masterAt = (steps: number) => {
      let id = repo.branches.get('master')!;
      for (let i = 0; i < steps; i++) id = repo.graph.firstParentOf(id);
      return repo.graph.hashOf(id);
    };
    // With no worker running, every delivery is stored and queued in the order it happened.
    await sim.push('acme', 'express', { branch: 'master', commits: newCommits(8, 'master-a') });
    await sim.createBranch('acme', 'express', { branch: 'topic', from: masterAt(2) });
    const topic = await sim.push('acme', 'express', { branch: 'topic', commits: newCommits(4, 'topic') });
    await sim.createTag('acme', 'express', { tag: 'topic-mark', target: topic.commits[1]! });
    const rewritten = newCommits(3, 'topic-rewritten');
    rewritten[0] = { ...rewritten[0]!, parents: [masterAt(5)] };
    await sim.push('acme', 'express', { branch: 'topic', commits: rewritten, forced: true });
    await sim.deleteBranch('acme', 'express', { branch: 'req.is' });
    await sim.push('acme', 'express', { branch: 'master', commits: newCommits(2, 'master-b') });
    await sim.forcePush('acme', 'express', { branch: 'master', to: masterAt(1) });
    await sim.createBranch('acme', 'express', { branch: 'req.is', from: topic.commits[3]! });

    // Replace the queue's arrival order by a shuffled one, each delivery three times.
    await b.admin.query(
      `delete from graphile_worker._private_jobs
        where task_id in (select id from graphile_worker._private_tasks
                           where identifier in ('process_webhook', 'sync_pushes'))`,
    );
    await resend(b, capturedWebhooks(sim), 3, 7);
    worker = await startIngestWorker(b.app, { bitbucket: FAST_RETRY });
    await waitIdle(b);
    await assertMatchesSimulator(b, [truthOf(sim, 'express')], {
      namedRefs: ['branch:master', 'branch:topic', 'tag:topic-mark', 'branch:req.is'],
    });
  });
});
