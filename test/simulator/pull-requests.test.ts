import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readExport, startHarness, walkPages, type ExportLine, type Harness, type Loose } from './helpers.js';

describe('pull requests', () => {
  let h: Harness;
  let byHash: Map<string, ExportLine>;
  let merges: ExportLine[];
  const prs = '/2.0/repositories/acme/express/pullrequests';

  before(async () => {
    h = await startHarness({ rateLimitPerHour: Infinity });
    const { commits } = await readExport();
    byHash = new Map(commits.map((c) => [c.hash, c]));
    merges = commits.filter(
      (c) => c.parents.length === 2 && /^Merge pull request #\d+ from /.test(c.message),
    );
  });
  after(() => h.close());

  it('synthesizes a MERGED PR for every "Merge pull request #N from owner/branch" merge commit', async () => {
    assert.equal(merges.length, 148);
    for (const m of merges.slice(0, 40)) {
      const [, id, , branch] = /^Merge pull request #(\d+) from ([^/\s]+)\/(\S+)/.exec(m.message)!;
      const res = await h.get(`${prs}/${id}`);
      assert.equal(res.status, 200, `PR #${id}`);
      const pr = res.body;
      assert.equal(pr.state, 'MERGED');
      assert.equal(pr.source.branch.name, branch);
      assert.equal(pr.merge_commit.hash, m.hash.slice(0, 12));
      assert.equal(pr.destination.commit.hash, m.parents[0]!.slice(0, 12));
      assert.equal(pr.source.commit.hash, m.parents[1]!.slice(0, 12));
      assert.equal(
        pr.author.display_name,
        byHash.get(m.parents[1]!)!.author.name,
        "author = second parent's author",
      );
      assert.equal(pr.closed_by.display_name, m.author.name);
      assert.equal(
        Date.parse(pr.updated_on),
        Date.parse((m as ExportLine & { committed: string }).committed),
      );
      assert.ok(Date.parse(pr.created_on) < Date.parse(pr.updated_on));
      assert.ok(Array.isArray(pr.participants) && Array.isArray(pr.reviewers));
    }
  });

  it('lists OPEN only by default, repeats state for several, and sorts newest first', async () => {
    const open = await walkPages(h.get, `${prs}?pagelen=50`);
    assert.ok(open.values.length > 0);
    assert.ok(open.values.every((p) => p.state === 'OPEN'));
    const closed = await walkPages(h.get, `${prs}?state=MERGED&state=DECLINED&pagelen=50`);
    const states = new Set(closed.values.map((p) => p.state));
    assert.deepEqual(states, new Set(['MERGED', 'DECLINED']));
    assert.ok(closed.values.length >= 148);
    const ids = closed.values.map((p) => p.id as number);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );
    assert.ok(
      closed.values.every((p) => !('participants' in p) && !('reviewers' in p)),
      'lists omit participants and reviewers',
    );
  });

  it('rejects pagelen over 50 with 400 "Invalid pagelen"', async () => {
    const res = await h.get(`${prs}?pagelen=100`);
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { type: 'error', error: { message: 'Invalid pagelen' } });
  });

  it('filters with q (BBQL subset) and sorts with sort', async () => {
    const res = await h.get(
      `${prs}?state=MERGED&q=${encodeURIComponent('updated_on >= 2014-01-01 AND updated_on < 2015-01-01')}&sort=updated_on&pagelen=50`,
    );
    assert.equal(res.status, 200);
    const dates = res.body.values.map((p: { updated_on: string }) => Date.parse(p.updated_on));
    assert.ok(dates.length > 0);
    assert.ok(dates.every((d: number) => d >= Date.UTC(2014, 0, 1) && d < Date.UTC(2015, 0, 1)));
    assert.deepEqual(
      dates,
      [...dates].sort((a, b) => a - b),
    );
    assert.equal((await h.get(`${prs}?q=${encodeURIComponent('nonsense')}`)).status, 400);
  });

  it('activity: newest first, ending (oldest) with the OPEN update; MERGED update and approvals agree with the PR', async () => {
    const id = /#(\d+)/.exec(merges[0]!.message)![1];
    const pr = (await h.get(`${prs}/${id}`)).body;
    const { values } = await walkPages(h.get, `${prs}/${id}/activity`);
    assert.equal(values[0].update.state, 'MERGED');
    assert.equal(values[0].update.date, pr.updated_on);
    assert.equal(values.at(-1).update.state, 'OPEN');
    const approvals = values
      .filter((v) => v.approval)
      .map((v) => v.approval.user.uuid)
      .sort();
    const approved = pr.participants
      .filter((p: { approved: boolean }) => p.approved)
      .map((p: { user: { uuid: string } }) => p.user.uuid)
      .sort();
    assert.deepEqual(approvals, approved);
    assert.equal(values.filter((v) => v.comment).length, pr.comment_count);
    assert.ok(values.every((v) => v.pull_request.id === Number(id)));
  });

  it('open → approve → merge through the mutation API, with webhooks', async () => {
    const sim = h.sim;
    await sim.push('acme', 'express', {
      branch: 'feature/pr-flow',
      commits: [
        {
          author: { name: 'Grace Hopper', email: 'grace@example.com' },
          message: 'Add flow\n',
          files: [{ path: 'lib/flow.js', added: 42, removed: 0 }],
        },
      ],
    });
    const reviewer = sim.users.add({ display_name: 'Rita Reviewer', emails: ['rita@example.com'] });
    const opened = await sim.openPullRequest('acme', 'express', {
      title: 'Add flow',
      source: 'feature/pr-flow',
      reviewers: [reviewer.account_id],
    });
    assert.equal(opened.delivery!.event, 'pullrequest:created');
    const created = (opened.delivery!.body as { data: Record<string, Loose> }).data;
    assert.equal(created.pullrequest.state, 'OPEN');
    assert.deepEqual(
      created.pullrequest.reviewers.map((r: { uuid: string }) => r.uuid),
      [reviewer.uuid],
    );
    assert.equal(created.pullrequest.participants[0].role, 'REVIEWER');
    assert.equal(created.repository.full_name, 'acme/express');

    const pushed = await sim.push('acme', 'express', {
      branch: 'feature/pr-flow',
      commits: [
        {
          author: { name: 'Grace Hopper', email: 'grace@example.com' },
          message: 'Fix flow\n',
          files: [{ path: 'lib/flow.js', added: 2, removed: 1 }],
        },
      ],
    });
    assert.deepEqual(
      pushed.deliveries.map((d) => d.event),
      ['repo:push', 'pullrequest:updated'],
    );

    const approved = await sim.approvePullRequest('acme', 'express', opened.id, { user: reviewer.uuid });
    const approval = (approved.delivery!.body as { data: Record<string, Loose> }).data;
    assert.equal(approved.delivery!.event, 'pullrequest:approved');
    assert.equal(approval.approval.user.uuid, reviewer.uuid);
    assert.equal(approval.pullrequest.participants[0].approved, true);

    const merged = await sim.mergePullRequest('acme', 'express', opened.id);
    assert.deepEqual(
      merged.deliveries.map((d) => d.event),
      ['repo:push', 'pullrequest:fulfilled'],
    );
    const push = (merged.deliveries[0]!.body as { data: Record<string, Loose> }).data.push.changes[0];
    assert.deepEqual(push.commits, [], 'PR-merge pushes carry no commits (real capture)');
    assert.equal(push.truncated, false);
    const fulfilled = (merged.deliveries[1]!.body as { data: Record<string, Loose> }).data.pullrequest;
    assert.equal(fulfilled.state, 'MERGED');
    assert.equal(fulfilled.closed_by.uuid, sim.workspace('acme').admin.uuid);
    const master = (await h.get('/2.0/repositories/acme/express/commits/master?pagelen=1')).body.values[0];
    assert.equal(master.hash.slice(0, 12), fulfilled.merge_commit.hash);
    assert.equal(master.parents.length, 2);
    const diff = await h.get(`/2.0/repositories/acme/express/diffstat/${master.hash}`);
    assert.deepEqual(
      diff.body.values.map((d: Loose) => [d.status, d.new.path, d.lines_added, d.lines_removed]),
      [['added', 'lib/flow.js', 44, 1]],
    );
    const activity = await h.get(`${prs}/${opened.id}/activity`);
    assert.equal(activity.body.values[0].update.state, 'MERGED');
  });

  it('declining sends pullrequest:rejected', async () => {
    await h.sim.push('acme', 'express', {
      branch: 'feature/nope',
      commits: [{ author: { name: 'A', email: 'a@example.com' }, message: 'nope\n' }],
    });
    const opened = await h.sim.openPullRequest('acme', 'express', { title: 'Nope', source: 'feature/nope' });
    const declined = await h.sim.declinePullRequest('acme', 'express', opened.id, { reason: 'not needed' });
    assert.equal(declined.delivery!.event, 'pullrequest:rejected');
    const pr = (declined.delivery!.body as { data: Record<string, Loose> }).data.pullrequest;
    assert.equal(pr.state, 'DECLINED');
    assert.equal(pr.reason, 'not needed');
  });
});
