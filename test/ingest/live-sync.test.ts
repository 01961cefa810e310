import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Runner } from 'graphile-worker';
import {
  FAST_RETRY,
  startBackfill,
  startIngestWorker,
  waitForReady,
  type Backfill,
} from './backfill-harness';
import {
  assertMatchesSimulator,
  capturedWebhooks,
  newCommits,
  resend,
  smallHistory,
  syncSnapshot,
  truthOf,
  waitIdle,
} from './live-sync-support';

/** The commit `steps` first parents below a ref's head, as the simulator has it. */
function firstParentAncestor(b: Backfill, slug: string, branch: string, steps: number): string {
  const repo = b.sim.repository('acme', slug);
  let id = repo.branches.get(branch)!;
  for (let i = 0; i < steps; i++) id = repo.graph.firstParentOf(id);
  return repo.graph.hashOf(id);
}

describe('live sync: pushes and repository events against the simulator', () => {
  let b: Backfill;
  let worker: Runner;
  let toolsUuid: string;
  const refsTouched = [
    'branch:master',
    'branch:feature/live',
    'tag:v-live',
    'branch:ci-workflows',
    'tag:0.14.1',
    'branch:4.x',
  ];

  before(async () => {
    b = await startBackfill();
    worker = await startIngestWorker(b.app, { bitbucket: FAST_RETRY });
    await waitForReady(b);
    await waitIdle(b);
  });
  after(async () => {
    await worker?.stop();
    await b?.close();
  });

  it('applies a push of 12 commits, a new branch and tag, branch and tag deletions and force pushes exactly', async () => {
    const { sim } = b;
    const master = await sim.push('acme', 'express', { branch: 'master', commits: newCommits(12, 'master') });
    assert.equal(
      (master.delivery!.body as { data: { push: { changes: { truncated: boolean }[] } } }).data.push
        .changes[0]!.truncated,
      true,
    );
    await sim.createBranch('acme', 'express', { branch: 'feature/live', from: 'master' });
    const feature = await sim.push('acme', 'express', {
      branch: 'feature/live',
      commits: newCommits(7, 'feature'),
    });
    await sim.createTag('acme', 'express', { tag: 'v-live', target: feature.commits[3]! });
    await sim.deleteBranch('acme', 'express', { branch: 'ci-workflows' });
    await sim.deleteTag('acme', 'express', { tag: '0.14.1' });
    await sim.forcePush('acme', 'express', { branch: 'feature/live', to: feature.commits[1]! });
    await sim.forcePush('acme', 'express', {
      branch: '4.x',
      to: firstParentAncestor(b, 'express', '4.x', 3),
    });
    await waitIdle(b);

    const truth = truthOf(sim, 'express');
    assert.ok(truth.reachable.has(master.head) && truth.reachable.has(feature.commits[3]!));
    assert.ok(
      !truth.reachable.has(feature.commits[6]!),
      'the force push orphaned the newest feature commits',
    );
    await assertMatchesSimulator(b, [truth], { namedRefs: refsTouched });
    const { rows } = await b.admin.query(
      `select count(*)::int as n from commits where tenant_id = $1 and unreachable_since is not null`,
      [b.tenantId],
    );
    // feature commits 4–6, ci-workflows' own commits, 0.14.1's, and 4.x's three: kept, but no longer counted.
    assert.ok(rows[0].n >= 3 + 3 + 1, `orphaned commits are marked, got ${rows[0].n}`);
  });

  it('keeps data across a rename, backfills a repository first seen in a push, drops a deleted one from the graphs', async () => {
    const { sim } = b;
    await sim.renameRepository('acme', 'express', 'Express Renamed');
    const created = await sim.createRepository('acme', { slug: 'tools', history: smallHistory(10) });
    toolsUuid = created.repository.uuid;
    await sim.push('acme', 'tools', { branch: 'main', commits: newCommits(3, 'tools') });
    await waitIdle(b);
    await assertMatchesSimulator(b, [truthOf(sim, 'express-renamed'), truthOf(sim, 'tools')], {
      namedRefs: refsTouched,
    });

    await sim.deleteRepository('acme', 'tools');
    await waitIdle(b);
    await assertMatchesSimulator(b, [truthOf(sim, 'express-renamed')], { deletedUuids: [toolsUuid] });
  });

  it('converges to the same state when every webhook arrives three more times, shuffled, and as redeliveries', async () => {
    const settled = await syncSnapshot(b.admin, b.tenantId);
    const hooks = capturedWebhooks(b.sim);
    const count = async () =>
      (
        await b.admin.query('select count(*)::int as n from webhook_deliveries where tenant_id = $1', [
          b.tenantId,
        ])
      ).rows[0].n as number;
    const stored = await count();
    await resend(b, hooks, 3, 20261125);
    for (const hook of hooks) assert.equal((await b.sim.redeliver(hook.id)).status, 204);
    assert.equal(
      await count(),
      stored + hooks.length * 3,
      'redeliveries (same X-Request-UUID) are deduplicated',
    );
    await waitIdle(b);
    assert.equal(await syncSnapshot(b.admin, b.tenantId), settled);
    await assertMatchesSimulator(b, [truthOf(b.sim, 'express-renamed')], {
      deletedUuids: [toolsUuid],
      namedRefs: refsTouched,
    });
  });
});
