import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runWebhookPrune, WEBHOOK_RETENTION_DAYS } from '../../src/ingest/maintenance';
import type { JobDeps } from '../../src/ingest/tasks';
import { jobDeps } from '../../src/main/worker';
import { startTestApp, type TestApp } from '../support/app';
import { install, newWorkspace, type Workspace } from '../support/bitbucket';
import { deliver, pushData } from '../support/webhooks';

const DAY = 86_400_000;
const HASH = 'a'.repeat(40);

/** Until `check` holds (bounded: a hang fails the test instead of stalling it). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 3000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('webhook intake bounds: a tenant share of the queue, pruning after 14 days', () => {
  let app: TestApp;
  let admin: pg.Client;
  const a = newWorkspace('flood');
  const b = newWorkspace('quiet');
  const tenantIds = new Map<Workspace, string>();

  before(async () => {
    // 8 deliveries in progress at most, 2 per tenant.
    app = await startTestApp({ env: { WEBHOOK_QUEUE_LIMIT: '8' } });
    for (const ws of [a, b]) {
      assert.equal((await install(app, ws)).status, 204);
      tenantIds.set(ws, (await app.runtime.tenants.findByClientKey(ws.clientKey))!.id);
    }
    admin = new pg.Client({ connectionString: app.database.adminUrl });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  const send = (ws: Workspace, id: string = randomUUID(), signal?: AbortSignal) =>
    deliver(
      app.url,
      ws,
      '/webhooks/repo-push',
      'repo:push',
      pushData(`{${randomUUID()}}`, `${ws.slug}/web`, 'main', HASH, null),
      { 'x-request-uuid': id, 'x-request-id': id },
      signal,
    ).then((res) => ({ ...res, id }));

  /** Writes wait on this lock, so every admitted delivery stays in progress until it is released. */
  async function lockDeliveries(): Promise<() => Promise<void>> {
    const lock = new pg.Client({ connectionString: app.database.adminUrl });
    await lock.connect();
    await lock.query('begin');
    await lock.query('lock table webhook_deliveries in share mode');
    return async () => {
      await lock.query('commit');
      await lock.end();
    };
  }
  const logged = (id: string, msg: string) => app.logs.some((l) => l.includes(id) && l.includes(msg));

  it('answers 503 + Retry-After past a tenant share while another tenant is still taken in', async () => {
    const unlock = await lockDeliveries();
    type Answer = Awaited<ReturnType<typeof send>>;
    const answered: Answer[] = [];
    const track = (p: Promise<Answer>) => p.then((r) => (answered.push(r), r));
    let flood: Promise<Answer>[];
    let quiet: Promise<Answer>[];
    try {
      flood = Array.from({ length: 5 }, () => track(send(a)));
      await until(() => answered.length === 3, 'the flood past its share to be refused');
      // The flood holds its whole share; the other tenant still gets its own.
      quiet = Array.from({ length: 3 }, () => track(send(b)));
      await until(() => answered.length === 4, 'the quiet tenant past its share to be refused');
      for (const refused of answered) {
        assert.equal(refused.status, 503);
        assert.equal(refused.headers.get('retry-after'), '1');
        assert.deepEqual(JSON.parse(refused.body).error.code, 'intake_full');
      }
    } finally {
      await unlock();
    }
    const statuses = async (ps: Promise<Answer>[]) => (await Promise.all(ps)).map((r) => r.status).sort();
    assert.deepEqual(await statuses(flood), [204, 204, 503, 503, 503]);
    assert.deepEqual(await statuses(quiet), [204, 204, 503]);
    // Stored: exactly the deliveries answered 204.
    const all = await Promise.all([...flood, ...quiet]);
    const { rows } = await admin.query(
      'select request_uuid from webhook_deliveries where request_uuid = any($1::text[])',
      [all.map((r) => r.id)],
    );
    assert.deepEqual(
      rows.map((r) => r.request_uuid).sort(),
      all
        .filter((r) => r.status === 204)
        .map((r) => r.id)
        .sort(),
    );
    // Slots are given back: the flood is taken in again.
    assert.equal((await send(a)).status, 204);
  });

  it('a sender that hangs up keeps its slot until its delivery is stored', async () => {
    const unlock = await lockDeliveries();
    const ids = [randomUUID(), randomUUID()];
    const aborts = ids.map(() => new AbortController());
    try {
      const sent = ids.map((id, i) => send(a, id, aborts[i]!.signal).catch(() => 'aborted'));
      await until(
        () => ids.every((id) => logged(id, 'webhook waits to be stored')),
        'both to wait for the store',
      );
      for (const abort of aborts) abort.abort();
      assert.deepEqual(await Promise.all(sent), ['aborted', 'aborted']);
      await until(() => ids.every((id) => logged(id, '"aborted":true')), 'the server to see both hang up');
      // Their deliveries still wait for a batch: the tenant's share is still taken.
      assert.equal((await send(a)).status, 503);
    } finally {
      await unlock();
    }
    const stored = async () =>
      (
        await admin.query('select count(*)::int as n from webhook_deliveries where request_uuid = any($1)', [
          ids,
        ])
      ).rows[0].n as number;
    for (let i = 0; (await stored()) < 2 && i < 300; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await stored(), 2, 'stored although their senders hung up');
    let status = 503;
    for (let i = 0; status === 503 && i < 300; i++) status = (await send(a)).status;
    assert.equal(status, 204, 'the slots are given back once the writes are done');
  });

  it('prunes processed deliveries after 14 days, in batches, keeping unprocessed ones and recent ones', async () => {
    const now = Date.now();
    const deps: JobDeps = { ...jobDeps(app.runtime), now: () => new Date(now) };
    const seed = async (ws: Workspace, ageDays: number, processed: boolean) => {
      const id = randomUUID();
      const received = new Date(now - ageDays * DAY);
      await admin.query(
        `insert into webhook_deliveries (tenant_id, request_uuid, event, payload, received_at, processed_at)
         values ($1, $2, 'repo:push', '{}', $3, $4)`,
        [tenantIds.get(ws), id, received, processed ? received : null],
      );
      return id;
    };
    const old: string[] = [];
    const kept: string[] = [];
    for (const ws of [a, b]) {
      for (let i = 0; i < 5; i++) old.push(await seed(ws, WEBHOOK_RETENTION_DAYS + 1 + i, true));
      kept.push(await seed(ws, WEBHOOK_RETENTION_DAYS + 30, false));
      kept.push(await seed(ws, WEBHOOK_RETENTION_DAYS - 1, true));
    }
    const { deleted, failed } = await runWebhookPrune(deps, { batchSize: 2 });
    assert.deepEqual(failed, []);
    assert.deepEqual(deleted, { [tenantIds.get(a)!]: 5, [tenantIds.get(b)!]: 5 });
    const left = async (ids: string[]) =>
      (
        await admin.query('select count(*)::int as n from webhook_deliveries where request_uuid = any($1)', [
          ids,
        ])
      ).rows[0].n;
    assert.equal(await left(old), 0);
    assert.equal(await left(kept), kept.length);
    // A redelivery of a delivery still kept is recognised: answered, not stored or enqueued again.
    const recent = kept.at(-1)!;
    const jobs = async () =>
      (await admin.query(`select count(*)::int as n from graphile_worker.jobs`)).rows[0].n as number;
    const jobsBefore = await jobs();
    assert.equal((await send(b, recent)).status, 204);
    assert.equal(await left([recent]), 1);
    assert.equal(await jobs(), jobsBefore);
  });

  it('a tenant whose prune fails does not stop the others; its failure is recorded', async () => {
    const now = Date.now() + 400 * DAY;
    const deps: JobDeps = { ...jobDeps(app.runtime), now: () => new Date(now) };
    const failing = tenantIds.get(a)!;
    await admin.query(`update webhook_deliveries set processed_at = received_at where processed_at is null`);
    // A real failure in the database, for one tenant's rows only.
    await admin.query(`
      create function refuse_prune() returns trigger language plpgsql as $$
      begin
        if old.tenant_id = '${failing}' then raise exception 'injected prune failure'; end if;
        return old;
      end $$;
      create trigger refuse_prune before delete on webhook_deliveries for each row execute function refuse_prune();
    `);
    try {
      const { deleted, failed } = await runWebhookPrune(deps);
      assert.deepEqual(
        failed.map((f) => f.tenantId),
        [failing],
      );
      assert.match(failed[0]!.error, /injected prune failure/);
      assert.ok(deleted[tenantIds.get(b)!]! > 0);
    } finally {
      await admin.query('drop trigger refuse_prune on webhook_deliveries; drop function refuse_prune()');
    }
    const { rows } = await admin.query(
      'select tenant_id, count(*)::int as n from webhook_deliveries group by 1',
    );
    assert.deepEqual(
      rows.map((r) => r.tenant_id),
      [failing],
      'only the failing tenant keeps its deliveries',
    );
    const recorded = await admin.query(
      `select tenant_id, failures from maintenance_failures where task = 'prune_webhook_deliveries'`,
    );
    assert.deepEqual(recorded.rows, [{ tenant_id: failing, failures: 1 }]);
    // The next run, with the fault gone, prunes it and clears the record.
    assert.deepEqual((await runWebhookPrune(deps)).failed, []);
    assert.equal((await admin.query('select count(*)::int as n from webhook_deliveries')).rows[0].n, 0);
    assert.equal((await admin.query(`select count(*)::int as n from maintenance_failures`)).rows[0].n, 0);
  });
});
