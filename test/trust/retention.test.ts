import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import { enqueueJob } from '../../src/db/job-queue';
import { parseCrontab } from 'graphile-worker';
import {
  FORGE_SWEEP_TASK,
  maintenanceCrontab,
  maintenanceTasks,
  PERSONAL_DATA_REPORT_TASK,
  REPAIR_JOB_CHAINS_TASK,
  RETENTION_PURGE_TASK,
  runRetentionPurge,
  WEBHOOK_PRUNE_TASK,
} from '../../src/ingest/maintenance';
import type { JobDeps } from '../../src/ingest/tasks';
import { startTestApp, type TestApp } from '../support/app';
import {
  install,
  installPayload,
  lifecycleJwt,
  newWorkspace,
  postJson,
  type Workspace,
} from '../support/bitbucket';
import { newPerson, seedTenant, tenantRowCounts } from './fixtures';

const DAY = 86_400_000;

describe('retention: 60 days after uninstall, then everything goes', () => {
  let app: TestApp;
  let admin: pg.Client;
  const start = Date.now();
  let offset = 0;
  const clock = () => new Date(start + offset);
  let deps: JobDeps;

  before(async () => {
    app = await startTestApp({ now: clock });
    admin = new pg.Client({ connectionString: app.database.adminUrl });
    await admin.connect();
    deps = {
      db: app.runtime.db,
      tenants: app.runtime.tenants,
      logger: app.runtime.logger,
      requestsPerHour: 950,
      now: clock,
    };
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  async function installed(ws: Workspace): Promise<string> {
    assert.equal((await install(app, ws)).status, 204);
    const tenant = await app.runtime.tenants.findByClientKey(ws.clientKey);
    await seedTenant(app.runtime.db, tenant!.id, [newPerson('Dana Scully'), newPerson('Fox Mulder')]);
    await app.runtime.db.withTenant(tenant!.id, (trx) =>
      enqueueJob(trx, 'backfill_repository', { tenantId: tenant!.id, repositoryId: 1 }),
    );
    return tenant!.id;
  }

  const uninstall = (ws: Workspace) =>
    postJson(
      `${app.url}/uninstalled`,
      { ...installPayload(ws), eventType: 'uninstalled' },
      { authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/uninstalled')}` },
    );

  const jobsOf = async (tenantId: string) =>
    (
      await admin.query(
        `select count(*)::int as n from graphile_worker._private_jobs where payload->>'tenantId' = $1`,
        [tenantId],
      )
    ).rows[0].n as number;
  const registry = async (tenantId: string) =>
    (await admin.query('select state, delete_after from tenants where id = $1', [tenantId])).rows[0];
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

  it('keeps every row on day 59 and deletes every row, job and the registry row on day 61, audited', async () => {
    const ws = newWorkspace();
    const bystander = newWorkspace();
    const tenantId = await installed(ws);
    const otherId = await installed(bystander);
    const before = await tenantRowCounts(app.database.adminUrl, tenantId);
    assert.ok(total(before) > 20, 'seeded');
    const otherBefore = await tenantRowCounts(app.database.adminUrl, otherId);
    const jobsBefore = await jobsOf(tenantId);
    assert.ok(jobsBefore >= 1, 'a job is queued');

    offset = 0;
    assert.equal((await uninstall(ws)).status, 204);
    assert.equal((await registry(tenantId)).state, 'uninstalled');

    offset = 59 * DAY;
    assert.deepEqual(await runRetentionPurge(deps), []);
    assert.deepEqual(await tenantRowCounts(app.database.adminUrl, tenantId), before, 'day 59: all kept');
    assert.equal(await jobsOf(tenantId), jobsBefore);

    offset = 61 * DAY;
    const purged = await runRetentionPurge(deps);
    assert.deepEqual(
      purged.map((p) => p.tenantId),
      [tenantId],
    );
    const after = await tenantRowCounts(app.database.adminUrl, tenantId);
    assert.equal(total(after), 0, `day 61: nothing left (${JSON.stringify(after)})`);
    assert.equal(await jobsOf(tenantId), 0, 'queue jobs gone');
    assert.equal(await registry(tenantId), undefined, 'registry row gone');
    const { rows: audit } = await admin.query(
      `select actor, action, client_key, details from system_audit_log where subject_tenant_id = $1 and action = 'tenant.purged'`,
      [tenantId],
    );
    assert.equal(audit.length, 1);
    assert.equal(audit[0].client_key, ws.clientKey);
    assert.equal(audit[0].details.rows.commits, before.commits);
    assert.equal(audit[0].details.jobs, jobsBefore);

    assert.deepEqual(
      await tenantRowCounts(app.database.adminUrl, otherId),
      otherBefore,
      'other tenant untouched',
    );
    assert.equal(await jobsOf(otherId), jobsBefore, 'other tenant’s jobs untouched');
    assert.deepEqual(await runRetentionPurge(deps), [], 'idempotent');
  });

  it('the worker runs the maintenance tasks from its crontab: purge and chain repair every 10 minutes', () => {
    const cron = parseCrontab(maintenanceCrontab);
    const tasks = [
      PERSONAL_DATA_REPORT_TASK,
      WEBHOOK_PRUNE_TASK,
      REPAIR_JOB_CHAINS_TASK,
      RETENTION_PURGE_TASK,
      FORGE_SWEEP_TASK,
    ].sort();
    assert.deepEqual(cron.map((c) => c.task).sort(), tasks);
    const at = (min: number, hour: number) => ({ min, hour, date: 3, month: 2, dow: 4 });
    for (const task of [RETENTION_PURGE_TASK, REPAIR_JOB_CHAINS_TASK]) {
      const item = cron.find((c) => c.task === task)!;
      assert.ok(item.match(at(0, 5)) && item.match(at(50, 13)) && !item.match(at(7, 5)), task);
    }
    assert.deepEqual(Object.keys(maintenanceTasks(deps)).sort(), tasks);
  });

  it('a reinstall on day 30 keeps everything and clears the deletion schedule', async () => {
    const ws = newWorkspace();
    offset = 0;
    const tenantId = await installed(ws);
    const before = await tenantRowCounts(app.database.adminUrl, tenantId);
    const jobsBefore = await jobsOf(tenantId);
    assert.equal((await uninstall(ws)).status, 204);
    assert.notEqual((await registry(tenantId)).delete_after, null);

    offset = 30 * DAY;
    assert.equal((await install(app, ws, ws.sharedSecret)).status, 204, 'signed reinstall');
    const reinstalled = await app.runtime.tenants.findByClientKey(ws.clientKey);
    assert.equal(reinstalled!.id, tenantId, 'same tenant, same data');
    assert.equal(reinstalled!.state, 'installed');
    assert.equal(reinstalled!.deleteAfter, null);

    offset = 61 * DAY;
    await runRetentionPurge(deps);
    assert.deepEqual(await tenantRowCounts(app.database.adminUrl, tenantId), before, 'nothing deleted');
    assert.ok((await jobsOf(tenantId)) >= jobsBefore, 'its queued work is still there');
  });
});

describe('an admin deletes all data from the configure page', () => {
  let app: TestApp;
  const ws = newWorkspace('delete-me');
  let tenantId: string;

  before(async () => {
    app = await startTestApp();
    assert.equal((await install(app, ws)).status, 204);
    tenantId = (await app.runtime.tenants.findByClientKey(ws.clientKey))!.id;
    await seedTenant(app.runtime.db, tenantId, [newPerson('Walter Skinner')]);
  });
  after(() => app.close());

  const remove = (body: unknown) =>
    fetch(`${app.url}/api/v1/data/delete`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `JWT ${createSessionToken({ appKey: 'tally', clientKey: ws.clientKey, secret: ws.sharedSecret, viewer: 'acc-admin', page: 'configure', scope: scopeForPage('configure', {}) })}`,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('refuses without the right confirmation and deletes nothing', async () => {
    const before = await tenantRowCounts(app.database.adminUrl, tenantId);
    for (const body of [{}, { confirm: 'wrong' }, { confirm: 'DELETE-ME' }, 'not json', { confirm: 42 }]) {
      const res = await remove(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(typeof (await res.json()).error.code, 'string');
    }
    assert.deepEqual(await tenantRowCounts(app.database.adminUrl, tenantId), before);
  });

  it('refuses without a session token', async () => {
    const res = await fetch(`${app.url}/api/v1/data/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ confirm: ws.slug }),
    });
    assert.equal(res.status, 401);
  });

  it('with the workspace slug confirmed, deletes every row, keeps the installation and audits it', async () => {
    const res = await remove({ confirm: ws.slug });
    assert.equal(res.status, 204);
    const after = await tenantRowCounts(app.database.adminUrl, tenantId);
    for (const [table, n] of Object.entries(after)) {
      assert.equal(n, table === 'audit_log' ? 1 : 0, table);
    }
    const tenant = await app.runtime.tenants.findByClientKey(ws.clientKey);
    assert.equal(tenant!.state, 'installed');
    const audit = await fetch(`${app.url}/api/v1/audit`, {
      headers: {
        authorization: `JWT ${createSessionToken({ appKey: 'tally', clientKey: ws.clientKey, secret: ws.sharedSecret, page: 'configure', scope: scopeForPage('configure', {}) })}`,
      },
    });
    const { entries } = await audit.json();
    assert.equal(entries.length, 1);
    assert.equal(entries[0].action, 'data.deleted');
    assert.equal(entries[0].actor, 'user:acc-admin');
    assert.ok(entries[0].details.rows.commits > 0);
    const system = await app.runtime.db.withSystem('test', (trx) =>
      trx('system_audit_log').where({ subject_tenant_id: tenantId, action: 'tenant.data_deleted' }),
    );
    assert.equal(system.length, 1);
  });
});
