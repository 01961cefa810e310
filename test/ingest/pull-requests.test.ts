import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Runner } from 'graphile-worker';
import type { PullRequest } from '../../src/simulator/index';
import { isoMicros } from '../../src/simulator/util';
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
  syncSnapshot,
  truthOf,
  waitIdle,
} from './live-sync-support';

/** Timestamps as the API writes them (microseconds, +00:00), from what PostgreSQL stored. */
const iso = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')`;

/** A pull request as Tally should store it, computed from the simulator's own model. */
function expected(pr: PullRequest) {
  const stamp = (ms: number) => isoMicros(ms, `pr:${pr.id}:${ms}`);
  const newest = (pick: (e: PullRequest['activity'][number]) => number | undefined) => {
    const dates = pr.activity.map(pick).filter((d): d is number => d !== undefined);
    return dates.length === 0 ? undefined : Math.max(...dates);
  };
  const closedMs =
    pr.state === 'OPEN'
      ? null
      : (newest((e) => (e.kind === 'update' && e.state === pr.state ? e.dateMs : undefined)) ?? pr.updatedMs);
  const reviewers = new Set(pr.reviewers.map((r) => r.uuid));
  const participants: Record<string, unknown>[] = pr.participants.map((p) => ({
    user_uuid: p.user.uuid,
    account_id: p.user.account_id,
    display_name: p.user.display_name,
    role: p.role,
    is_reviewer: reviewers.has(p.user.uuid) || p.role === 'REVIEWER',
    approved: p.approved,
    state: p.state,
    participated_on: stamp(p.participatedMs),
    approved_on: p.approved
      ? stamp(
          newest((e) => (e.kind === 'approval' && e.user.uuid === p.user.uuid ? e.dateMs : undefined)) ??
            p.participatedMs,
        )
      : null,
  }));
  for (const r of pr.reviewers) {
    if (participants.some((p) => p.user_uuid === r.uuid)) continue;
    participants.push({
      user_uuid: r.uuid,
      account_id: r.account_id,
      display_name: r.display_name,
      role: 'REVIEWER',
      is_reviewer: true,
      approved: false,
      state: null,
      participated_on: null,
      approved_on: null,
    });
  }
  return {
    id: pr.id,
    title: pr.title,
    state: pr.state,
    author_account_id: pr.author.account_id,
    author_uuid: pr.author.uuid,
    author_name: pr.author.display_name,
    source_branch: pr.source.branch,
    destination_branch: pr.destination.branch,
    created_on: stamp(pr.createdMs),
    updated_on: stamp(pr.updatedMs),
    merged_on: pr.state === 'MERGED' ? stamp(closedMs!) : null,
    closed_on: closedMs === null ? null : stamp(closedMs),
    merge_commit: pr.mergeCommit ? pr.mergeCommit.slice(0, 12) : null,
    closed_by_account_id: pr.closedBy?.account_id ?? null,
    comment_count: pr.commentCount,
    task_count: pr.taskCount,
    participants: participants.sort((a, b) => (String(a.user_uuid) < String(b.user_uuid) ? -1 : 1)),
  };
}

async function stored(b: Backfill, repositoryUuid: string) {
  const { rows: prs } = await b.admin.query(
    `select p.id, p.title, p.state, p.author_account_id, p.author_uuid, p.author_name, p.source_branch,
            p.destination_branch, ${iso('p.created_on')} as created_on, ${iso('p.updated_on')} as updated_on,
            ${iso('p.merged_on')} as merged_on, ${iso('p.closed_on')} as closed_on, p.merge_commit,
            p.closed_by_account_id, p.comment_count, p.task_count
       from pull_requests p join repositories r on r.tenant_id = p.tenant_id and r.id = p.repository_id
      where p.tenant_id = $1 and r.uuid = $2 order by p.id`,
    [b.tenantId, repositoryUuid],
  );
  const { rows: people } = await b.admin.query(
    `select pp.pull_request_id, pp.user_uuid, pp.account_id, pp.display_name, pp.role, pp.is_reviewer, pp.approved,
            pp.state, ${iso('pp.participated_on')} as participated_on, ${iso('pp.approved_on')} as approved_on
       from pull_request_participants pp join repositories r on r.tenant_id = pp.tenant_id and r.id = pp.repository_id
      where pp.tenant_id = $1 and r.uuid = $2 order by pp.pull_request_id, pp.user_uuid`,
    [b.tenantId, repositoryUuid],
  );
  return prs.map((pr) => ({
    ...pr,
    participants: people
      .filter((p) => p.pull_request_id === pr.id)
      .map(({ pull_request_id: _id, ...p }) => p),
  }));
}

async function assertPullRequestsMatch(b: Backfill) {
  const repo = b.sim.repository('acme', 'express');
  const want = [...repo.pullRequests.values()].sort((x, y) => x.id - y.id).map(expected);
  const got = await stored(b, repo.uuid);
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.deepEqual(got[i], want[i], `pull request #${want[i]!.id}`);
}

describe('pull requests: backfill and webhooks against the simulator', () => {
  let b: Backfill;
  let worker: Runner;
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

  it('backfills every pull request in every state with participants, approvals and merge times', async () => {
    const states = [...b.sim.repository('acme', 'express').pullRequests.values()].map((pr) => pr.state);
    assert.ok(states.filter((s) => s === 'MERGED').length > 300);
    assert.ok(states.includes('OPEN') && states.includes('DECLINED'));
    await assertPullRequestsMatch(b);
    const pages = b.sim.requestLog.filter((r) => r.path.endsWith('/pullrequests'));
    assert.ok(pages.length > 0 && pages.every((r) => /(^|&)pagelen=50(&|$)/.test(r.query)), 'pages of 50');
  });

  it('keeps pull requests current from webhooks: open, approve, merge, decline', async () => {
    const { sim } = b;
    const admin = sim.workspace('acme').admin;
    const reviewer = sim.addUser({ display_name: 'Rita Reviewer', emails: ['rita@example.com'] });
    const other = sim.addUser({ display_name: 'Otto Other', emails: ['otto@example.com'] });
    await sim.createBranch('acme', 'express', { branch: 'pr/merge-me', from: 'master' });
    await sim.push('acme', 'express', { branch: 'pr/merge-me', commits: newCommits(6, 'merge-me') });
    const merged = await sim.openPullRequest('acme', 'express', {
      title: 'Merge me',
      source: 'pr/merge-me',
      destination: 'master',
      author: other.account_id,
      reviewers: [reviewer.account_id, admin.account_id],
    });
    await sim.approvePullRequest('acme', 'express', merged.id, { user: reviewer.account_id });
    await sim.mergePullRequest('acme', 'express', merged.id, { actor: admin.account_id });

    await sim.createBranch('acme', 'express', { branch: 'pr/decline-me', from: 'master' });
    await sim.push('acme', 'express', { branch: 'pr/decline-me', commits: newCommits(2, 'decline-me') });
    const declined = await sim.openPullRequest('acme', 'express', {
      title: 'Decline me',
      source: 'pr/decline-me',
      reviewers: [reviewer.account_id],
    });
    await sim.declinePullRequest('acme', 'express', declined.id, { reason: 'not now' });
    await waitIdle(b);

    await assertPullRequestsMatch(b);
    const { rows } = await b.admin.query(
      `select state, merge_commit, merged_on is not null as merged, closed_on is not null as closed
         from pull_requests where tenant_id = $1 and id = any($2) order by id`,
      [b.tenantId, [merged.id, declined.id]],
    );
    assert.deepEqual(rows, [
      {
        state: 'MERGED',
        merge_commit: sim
          .repository('acme', 'express')
          .pullRequests.get(merged.id)!
          .mergeCommit!.slice(0, 12),
        merged: true,
        closed: true,
      },
      { state: 'DECLINED', merge_commit: null, merged: false, closed: true },
    ]);
    await assertMatchesSimulator(b, [truthOf(sim, 'express')], {
      namedRefs: ['branch:master', 'branch:pr/merge-me', 'branch:pr/decline-me'],
    });
  });

  it('converges when the webhooks arrive again, three times each, shuffled', async () => {
    const settled = await syncSnapshot(b.admin, b.tenantId);
    const before = await stored(b, b.sim.repository('acme', 'express').uuid);
    await resend(b, capturedWebhooks(b.sim), 3, 99);
    await waitIdle(b);
    assert.deepEqual(await stored(b, b.sim.repository('acme', 'express').uuid), before);
    assert.equal(await syncSnapshot(b.admin, b.tenantId), settled);
    await assertPullRequestsMatch(b);
  });
});
