import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { startTestApp, type TestApp } from '../support/app';
import { install, lifecycleJwt, newWorkspace } from '../support/bitbucket';
import { deliver, pushData } from '../support/webhooks';

const REPO = '{7b0c2a3e-1111-4222-8333-944445555666}';
/** A repository of its own: push jobs are one per repository while they wait. */
const newRepo = () => `{${randomUUID()}}`;
const JOB_TASKS = ['process_webhook', 'sync_pushes'];
const HASH_A = 'a'.repeat(40);
const HASH_B = 'b'.repeat(40);

describe('webhook intake', () => {
  let app: TestApp;
  let admin: pg.Client;
  const ws = newWorkspace('acme');
  before(async () => {
    app = await startTestApp();
    await install(app, ws);
    admin = new pg.Client({ connectionString: app.database.adminUrl });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  const counts = async () => {
    const d = await admin.query('select count(*)::int as n from webhook_deliveries');
    const j = await admin.query(
      `select count(*)::int as n from graphile_worker.jobs where task_identifier = any($1::text[])`,
      [JOB_TASKS],
    );

    return { deliveries: d.rows[0].n as number, jobs: j.rows[0].n as number };
  };

  it('stores a signed delivery and enqueues its job in the same transaction', async () => {
    const before = await counts();
    const id = randomUUID();
    const repo = newRepo();
    const res = await deliver(
      app.url,
      ws,
      '/webhooks/repo-push',
      'repo:push',
      pushData(repo, 'acme/web', 'main', HASH_B, HASH_A),
      {
        'x-request-uuid': id,
      },
    );
    assert.equal(res.status, 204);
    const { rows } = await admin.query('select * from webhook_deliveries where request_uuid = $1', [id]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].event, 'repo:push');
    assert.equal(rows[0].payload.push.changes[0].new.target.hash, HASH_B);
    // A push's job is its repository's sync (every push of the repository waiting joins it).
    const job = await admin.query(
      `select j.payload, q.queue_name, j.key from graphile_worker._private_jobs j
         left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
        where j.payload->>'repositoryUuid' = $1`,
      [repo],
    );
    assert.equal(job.rows.length, 1);
    assert.deepEqual(job.rows[0].payload, { tenantId: rows[0].tenant_id, repositoryUuid: repo });
    assert.equal(job.rows[0].queue_name, `webhooks:${rows[0].tenant_id}`);
    assert.equal(job.rows[0].key, `pushes:${rows[0].tenant_id}:${repo}`);
    const after = await counts();
    assert.deepEqual(after, { deliveries: before.deliveries + 1, jobs: before.jobs + 1 });
  });

  it('acknowledges a repeated delivery (Bitbucket retries) without storing or enqueueing it twice', async () => {
    const before = await counts();
    const id = randomUUID();
    const data = pushData(newRepo(), 'acme/web', 'main', HASH_A, null);
    for (const attempt of ['1', '2', '3']) {
      const res = await deliver(app.url, ws, '/webhooks/repo-push', 'repo:push', data, {
        'x-request-uuid': id,
        'x-attempt-number': attempt,
      });
      assert.equal(res.status, 204);
    }
    assert.deepEqual(await counts(), { deliveries: before.deliveries + 1, jobs: before.jobs + 1 });
  });

  it('deliveries arriving together are stored together, each under its own tenant, a repeat among them once', async () => {
    const other = newWorkspace('other');
    await install(app, other);
    const before = await counts();
    const repeated = randomUUID();
    const sends = Array.from({ length: 60 }, (_, i) => ({
      ws: i % 2 === 0 ? ws : other,
      id: i < 3 ? repeated : randomUUID(),
      data: pushData(newRepo(), 'acme/web', 'main', HASH_A, null),
    }));
    const answers = await Promise.all(
      sends.map((s) =>
        deliver(app.url, s.ws, '/webhooks/repo-push', 'repo:push', s.data, { 'x-request-uuid': s.id }),
      ),
    );
    assert.deepEqual(
      answers.map((r) => r.status),
      sends.map(() => 204),
    );
    // The repeated id came twice from the first workspace and once from the other: stored once for each tenant.
    assert.deepEqual(await counts(), { deliveries: before.deliveries + 59, jobs: before.jobs + 59 });
    const { rows } = await admin.query(
      `select t.client_key, count(*)::int as n from webhook_deliveries d join tenants t on t.id = d.tenant_id
        where d.request_uuid = any($1::text[]) group by 1`,
      [sends.map((s) => s.id)],
    );
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.client_key, r.n])), {
      [ws.clientKey]: 29,
      [other.clientKey]: 30,
    });
    const jobs = await admin.query(
      `select j.payload->>'tenantId' as tenant, q.queue_name from graphile_worker._private_jobs j
         join graphile_worker._private_job_queues q on q.id = j.job_queue_id
        where j.payload->>'repositoryUuid' = any($1::text[])`,
      [sends.map((s) => s.data.repository.uuid)],
    );
    assert.equal(jobs.rows.length, 59);
    for (const job of jobs.rows) assert.equal(job.queue_name, `webhooks:${job.tenant}`);
  });

  it('pushes to one repository share one waiting job, whichever batch they arrive in', async () => {
    const repo = newRepo();
    const other = newRepo();
    const before = await counts();
    const send = (repository: string) =>
      deliver(
        app.url,
        ws,
        '/webhooks/repo-push',
        'repo:push',
        pushData(repository, 'acme/web', 'main', HASH_B, HASH_A),
      );
    // Together (a batch holds several pushes of the repository), then one by one (the job already waits).
    const together = await Promise.all([...Array.from({ length: 20 }, () => send(repo)), send(other)]);
    const alone = [await send(repo), await send(repo)];
    assert.deepEqual(
      [...together, ...alone].map((r) => r.status),
      Array.from({ length: 23 }, () => 204),
    );
    assert.deepEqual(await counts(), { deliveries: before.deliveries + 23, jobs: before.jobs + 2 });
    const { rows } = await admin.query(
      `select j.payload->>'repositoryUuid' as repository, count(*)::int as n from graphile_worker._private_jobs j
         join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = 'sync_pushes' and j.payload->>'repositoryUuid' = any($1::text[]) group by 1`,
      [[repo, other]],
    );
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.repository, r.n])), { [repo]: 1, [other]: 1 });
  });

  it('refuses text the database cannot store with a 400; deliveries written in the same batch are stored', async () => {
    const before = await counts();
    const bad = ['acme/w\u0000eb', 'acme/\ud800web'];
    const good = Array.from({ length: 20 }, () => randomUUID());
    const send = (name: string, id: string) =>
      deliver(
        app.url,
        ws,
        '/webhooks/repo-push',
        'repo:push',
        pushData(newRepo(), name, 'main', HASH_A, null),
        {
          'x-request-uuid': id,
        },
      );
    const [rejected, accepted] = await Promise.all([
      Promise.all(bad.map((name) => send(name, randomUUID()))),
      Promise.all(good.map((id) => send('acme/web', id))),
    ]);
    for (const res of rejected) {
      assert.equal(res.status, 400);
      // NUL is refused by the payload schema (control characters), a lone surrogate by the database.
      assert.match(JSON.parse(res.body).error.message, /cannot be stored|control characters/);
    }
    assert.deepEqual(
      accepted.map((r) => r.status),
      good.map(() => 204),
    );
    assert.deepEqual(await counts(), { deliveries: before.deliveries + 20, jobs: before.jobs + 20 });
  });

  it('accepts every descriptor event on its own route', async () => {
    const pr = { id: 3, title: 't', state: 'MERGED' };
    const repository = { uuid: REPO, full_name: 'acme/web' };
    const cases: [string, string, unknown][] = [
      [
        '/webhooks/repo-updated',
        'repo:updated',
        { repository, changes: { name: { new: 'web2', old: 'web' } } },
      ],
      ['/webhooks/repo-deleted', 'repo:deleted', { repository }],
      ['/webhooks/pullrequest-created', 'pullrequest:created', { repository, pullrequest: pr }],
      ['/webhooks/pullrequest-updated', 'pullrequest:updated', { repository, pullrequest: pr }],
      ['/webhooks/pullrequest-fulfilled', 'pullrequest:fulfilled', { repository, pullrequest: pr }],
      ['/webhooks/pullrequest-rejected', 'pullrequest:rejected', { repository, pullrequest: pr }],
    ];
    for (const [path, event, data] of cases) {
      assert.equal((await deliver(app.url, ws, path, event, data)).status, 204, event);
    }
  });

  it('refuses unsigned, wrongly signed and unknown-tenant deliveries with 401, storing nothing', async () => {
    const before = await counts();
    const data = pushData(REPO, 'acme/web', 'main', HASH_A, null);
    const stranger = newWorkspace();
    const cases: Record<string, string> = {
      unsigned: '',
      'wrong secret': `JWT ${lifecycleJwt(ws.clientKey, 'x'.repeat(40), '/webhooks/repo-push')}`,
      'unknown tenant': `JWT ${lifecycleJwt(stranger.clientKey, stranger.sharedSecret, '/webhooks/repo-push')}`,
      'other path': `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/webhooks/repo-deleted')}`,
    };
    for (const [name, authorization] of Object.entries(cases)) {
      const res = await deliver(app.url, ws, '/webhooks/repo-push', 'repo:push', data, { authorization });
      assert.equal(res.status, 401, name);
    }
    assert.deepEqual(await counts(), before);
  });

  it('answers malformed deliveries with a 4xx and a short reason, storing nothing', async () => {
    const before = await counts();
    const good = pushData(REPO, 'acme/web', 'main', HASH_A, null);
    const cases: [string, Record<string, string>][] = [
      ['{not json', {}],
      ['null', {}],
      [JSON.stringify({ event: 'repo:push' }), {}],
      [JSON.stringify({ event: 'repo:push', data: {} }), {}],
      [JSON.stringify({ event: 'repo:updated', data: good }), {}],
      [JSON.stringify({ event: 'repo:push', data: { ...good, repository: { uuid: 5 } } }), {}],
      [
        JSON.stringify({
          event: 'repo:push',
          data: { ...good, push: { changes: [{ new: { hash: 'zz' } }] } },
        }),
        {},
      ],
      [JSON.stringify({ event: 'repo:push', data: good }), { 'x-event-key': 'repo:updated' }],
      [JSON.stringify({ event: 'repo:push', data: good }), { 'x-request-uuid': '' }],
      [JSON.stringify({ event: 'repo:push', data: good, pad: 'x'.repeat(300 * 1024) }), {}],
    ];
    for (const [body, headers] of cases) {
      const res = await deliver(app.url, ws, '/webhooks/repo-push', 'repo:push', body, headers);
      assert.ok(res.status >= 400 && res.status < 500, `${body.slice(0, 50)} → ${res.status}`);
      assert.ok(JSON.parse(res.body).error.message.length < 300);
    }
    assert.deepEqual(await counts(), before);
  });

  it('fuzz: 10,000 malformed requests never get a 5xx, and only 2xx answers store anything', async () => {
    const before = await counts();
    const paths = [
      '/webhooks/repo-push',
      '/webhooks/repo-updated',
      '/webhooks/pullrequest-created',
      '/webhooks/nope',
    ];
    const events = ['repo:push', 'repo:updated', 'pullrequest:created', 'x', ''];
    const request = fc.record({
      path: fc.constantFrom(...paths),
      event: fc.constantFrom(...events),
      signed: fc.boolean(),
      body: fc.oneof(
        fc.string(),
        fc.json(),
        fc.jsonValue().map((v) => JSON.stringify({ event: 'repo:push', data: v })),
        fc.anything().map((v) => JSON.stringify({ event: 'repo:push', data: { repository: v, push: v } })),
        fc.constant('\u0000\u0001'),
      ),
      requestUuid: fc.oneof(fc.uuid(), fc.string({ maxLength: 200 }), fc.constant(undefined)),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
    });
    const samples = fc.sample(request, { numRuns: 10_000, seed: 42 });
    let ok = 0;
    const statuses = new Map<number, number>();
    const send = async (r: (typeof samples)[number]) => {
      const headers: Record<string, string> = {
        'content-type': r.contentType,
        'x-event-key': r.event,
        authorization: r.signed ? `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, r.path)}` : 'JWT nope',
      };
      if (r.requestUuid !== undefined) headers['x-request-uuid'] = r.requestUuid.replace(/[^\x20-\x7e]/g, '');
      const res = await fetch(`${app.url}${r.path}`, { method: 'POST', headers, body: r.body });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 200 && res.status < 300) ok += 1;
    };
    for (let i = 0; i < samples.length; i += 16) await Promise.all(samples.slice(i, i + 16).map(send));
    const fiveHundreds = [...statuses].filter(([s]) => s >= 500);
    assert.deepEqual(fiveHundreds, [], `statuses: ${JSON.stringify([...statuses])}`);
    const after = await counts();
    assert.equal(after.deliveries - before.deliveries, ok);
  });
});
