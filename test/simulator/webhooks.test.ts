import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeSymmetric, SymmetricAlgorithm } from 'atlassian-jwt';
import type { PushCommit } from '../../src/simulator/index.js';
import { startHarness, walkPages, type Harness, type RecordedRequest, type Loose } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function commitsToPush(n: number, tag: string): PushCommit[] {
  return Array.from({ length: n }, (_, i) => ({
    author: { name: 'Ada Lovelace', email: 'ada@example.com' },
    date: new Date(Date.UTC(2027, 0, 1, 12, i)).toISOString(),
    message: `${tag} ${i + 1}\n`,
    files: [{ path: `lib/${tag}-${i}.js`, added: 10 + i, removed: i }],
  }));
}

describe('webhooks', () => {
  let h: Harness;
  const hookRequests = (path: string): RecordedRequest[] => h.app.requests.filter((r) => r.path === path);
  const change = (body: unknown): Record<string, Loose> =>
    (body as { data: { push: { changes: Record<string, Loose>[] } } }).data.push.changes[0]!;

  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('push of 7 commits → repo:push with the 5 newest commits, truncated, signed, with Bitbucket headers', async () => {
    const repo = h.sim.repository('acme', 'express');
    const oldHead = repo.graph.hashOf(repo.branches.get('master')!);
    const result = await h.sim.push('acme', 'express', {
      branch: 'master',
      commits: commitsToPush(7, 'feature'),
    });
    assert.equal(result.commits.length, 7);
    assert.equal(result.delivery!.status, 204);
    assert.equal(result.delivery!.attempts, 1);

    const [req] = hookRequests('/webhooks/repo');
    assert.equal(req!.headers['user-agent'], 'Bitbucket-Webhooks/2.0');
    assert.match(String(req!.headers['content-type']), /^application\/json/);
    assert.equal(req!.headers['x-event-key'], 'repo:push');
    assert.match(String(req!.headers['x-hook-uuid']), UUID);
    assert.equal(req!.headers['x-request-uuid'], result.delivery!.id);
    assert.equal(req!.headers['x-attempt-number'], '1');
    assert.match(String(req!.headers['x-event-time']), /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);

    const inst = h.sim.installation('acme')!;
    const claims = decodeSymmetric(
      String(req!.headers.authorization).slice(4),
      inst.sharedSecret,
      SymmetricAlgorithm.HS256,
    ) as Record<string, Loose>;
    assert.equal(claims.iss, inst.clientKey);
    assert.deepEqual(claims.aud, [inst.clientKey]);
    assert.equal(claims.qsh, createHash('sha256').update('POST&/webhooks/repo&').digest('hex'));
    assert.equal(claims.exp, claims.iat + 3600);

    const body = req!.body as { event: string; data: Record<string, Loose> };
    assert.equal(body.event, 'repo:push');
    assert.equal(body.data.repository.full_name, 'acme/express');
    assert.equal(body.data.actor.type, 'user');
    const c = change(body);
    assert.equal(c.created, false);
    assert.equal(c.closed, false);
    assert.equal(c.forced, false);
    assert.equal(c.truncated, true);
    assert.equal(c.old.type, 'branch');
    assert.equal(c.old.target.hash, oldHead);
    assert.equal(c.new.name, 'master');
    assert.equal(c.new.target.hash, result.head);
    assert.deepEqual(
      c.commits.map((x: { hash: string }) => x.hash),
      result.commits.slice(2).reverse(),
      '5 newest, newest first',
    );
    assert.equal(
      c.links.commits.href,
      `${h.sim.apiUrl}/2.0/repositories/acme/express/commits?include=${result.head}&exclude=${oldHead}`,
    );

    const { values } = await walkPages(h.get, c.links.commits.href);
    assert.deepEqual(
      values.map((v) => v.hash),
      [...result.commits].reverse(),
      'links.commits.href lists exactly the pushed commits',
    );
    const diff = await h.get(`/2.0/repositories/acme/express/diffstat/${result.commits[0]}`);
    assert.deepEqual(
      diff.body.values.map((d: Loose) => [d.new.path, d.lines_added, d.lines_removed]),
      [['lib/feature-0.js', 10, 0]],
    );
  });

  it('a 5xx is resent up to two more times with the same X-Request-UUID', async () => {
    h.app.script('/webhooks/repo', [500, 503]);
    const before = hookRequests('/webhooks/repo').length;
    const ok = await h.sim.push('acme', 'express', { branch: 'master', commits: commitsToPush(1, 'retry') });
    const sent = hookRequests('/webhooks/repo').slice(before);
    assert.equal(sent.length, 3);
    assert.deepEqual(
      sent.map((r) => r.headers['x-attempt-number']),
      ['1', '2', '3'],
    );
    assert.ok(sent.every((r) => r.headers['x-request-uuid'] === ok.delivery!.id));
    assert.equal(ok.delivery!.status, 204);
    assert.deepEqual(
      ok.delivery!.attemptLog.map((a) => a.status),
      [500, 503, 204],
    );

    h.app.script('/webhooks/repo', [500, 500, 500, 500]);
    const failed = await h.sim.push('acme', 'express', {
      branch: 'master',
      commits: commitsToPush(1, 'down'),
    });
    assert.equal(failed.delivery!.attempts, 3);
    assert.equal(failed.delivery!.status, 500);

    const again = await h.sim.redeliver(failed.delivery!.id);
    assert.equal(again.id, failed.delivery!.id);
    const last = hookRequests('/webhooks/repo').at(-1)!;
    assert.equal(last.headers['x-request-uuid'], failed.delivery!.id);
    assert.equal(last.headers['x-attempt-number'], '4');
    assert.equal(again.status, 500, 'the fourth scripted 500');
    h.app.script('/webhooks/repo', []);
    assert.equal((await h.sim.redeliver(failed.delivery!.id)).status, 204);
  });

  it('a 4xx is not retried', async () => {
    h.app.script('/webhooks/repo', [400]);
    const res = await h.sim.push('acme', 'express', { branch: 'master', commits: commitsToPush(1, 'bad') });
    assert.equal(res.delivery!.attempts, 1);
    assert.equal(res.delivery!.status, 400);
  });

  it('creating a branch: old null, created true; deleting it: new null, closed true, no commits/links', async () => {
    const created = await h.sim.push('acme', 'express', {
      branch: 'topic/x',
      commits: commitsToPush(2, 'topic'),
    });
    const c1 = change(created.delivery!.body);
    assert.equal(c1.old, null);
    assert.equal(c1.created, true);
    assert.equal(c1.truncated, false);
    assert.deepEqual(
      c1.commits.map((x: { hash: string }) => x.hash),
      [...created.commits].reverse(),
      'only commits no other branch has',
    );

    const deleted = await h.sim.deleteBranch('acme', 'express', { branch: 'topic/x' });
    const c2 = change(deleted.delivery!.body);
    assert.equal(c2.new, null);
    assert.equal(c2.closed, true);
    assert.equal(c2.old.name, 'topic/x');
    assert.equal('commits' in c2, false);
    assert.equal('links' in c2, false);
    assert.equal((await h.get('/2.0/repositories/acme/express/commits/topic/x')).status, 404);
  });

  it('tags carry new.type "tag"', async () => {
    const res = await h.sim.createTag('acme', 'express', { tag: 'v9.9.9', target: 'master' });
    const c = change(res.delivery!.body);
    assert.equal(c.new.type, 'tag');
    assert.equal(c.new.name, 'v9.9.9');
    assert.equal(c.created, true);
  });

  it('a force push is flagged forced; a non-fast-forward push without forced is refused', async () => {
    const repo = h.sim.repository('acme', 'express');
    const head = repo.graph.hashOf(repo.branches.get('master')!);
    const back = repo.commit(repo.branches.get('master')!).parents[0]!;
    const res = await h.sim.forcePush('acme', 'express', { branch: 'master', to: back });
    const c = change(res.delivery!.body);
    assert.equal(c.forced, true);
    assert.equal(c.old.target.hash, head);
    assert.equal(c.new.target.hash, back);
    assert.deepEqual(c.commits, []);
    // A commit on top of master's grandparent does not contain master: not a fast-forward.
    const grand = repo.commit(repo.resolve(back)!).parents[0]!;
    await assert.rejects(
      h.sim.push('acme', 'express', {
        branch: 'master',
        commits: [{ ...commitsToPush(1, 'x')[0]!, parents: [grand] }],
      }),
      /forced/,
    );
    const forced = await h.sim.push('acme', 'express', {
      branch: 'master',
      forced: true,
      commits: [{ ...commitsToPush(1, 'y')[0]!, parents: [grand] }],
    });
    assert.equal(change(forced.delivery!.body).forced, true);
  });

  it('renaming a repository sends repo:updated with changes.name and changes.full_name', async () => {
    h.sim.addRepository('acme', { slug: 'scratch', history: { commits: [], refs: { branches: {} } } });
    const res = await h.sim.renameRepository('acme', 'scratch', 'Scratch Pad');
    assert.equal(res.delivery!.event, 'repo:updated');
    const data = (res.delivery!.body as { data: Record<string, Loose> }).data;
    assert.deepEqual(data.changes.name, { new: 'Scratch Pad', old: 'scratch' });
    assert.deepEqual(data.changes.full_name, { new: 'acme/scratch-pad', old: 'acme/scratch' });
    assert.equal(data.repository.full_name, 'acme/scratch-pad');
    assert.equal((await h.get('/2.0/repositories/acme/scratch-pad')).status, 200);
  });

  it('only subscribed events are delivered, to every matching descriptor webhook', async () => {
    const before = h.sim.deliveries.length;
    const res = await h.sim.forcePush('acme', 'express', { branch: 'master', to: 'master' });
    assert.equal(res.deliveries.length, 1);
    assert.equal(h.sim.deliveries.length, before + 1);
  });
  it('commit paging survives a push between pages (the cursor resumes at the same commit)', async () => {
    const before = await walkPages(h.get, '/2.0/repositories/acme/express/commits/master?pagelen=100');
    const first = await h.get('/2.0/repositories/acme/express/commits/master?pagelen=5');
    await h.sim.push('acme', 'express', { branch: 'master', commits: commitsToPush(3, 'between') });
    const second = await h.get(first.body.next);
    const seen = [...first.body.values, ...second.body.values].map((v: { hash: string }) => v.hash);
    assert.deepEqual(
      seen,
      before.values.slice(0, 10).map((v) => v.hash),
    );
  });
});
