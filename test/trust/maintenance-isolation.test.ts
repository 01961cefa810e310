import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { TenantStore } from '../../src/db/tenant-store';
import {
  FAILED_TENANT_RETRY_SECONDS,
  PERSONAL_DATA_REPORT_TASK,
  RETENTION_PURGE_TASK,
  runPersonalDataReport,
  runRetentionPurge,
} from '../../src/ingest/maintenance';
import type { JobDeps } from '../../src/ingest/tasks';
import { createLogger } from '../../src/platform/logger';
import { SecretBox } from '../../src/platform/secret-box';
import { confirmAsBitbucket, installPayload, newWorkspace, type Workspace } from '../support/bitbucket';
import { newPerson, seedTenant, startReportingHarness, type ReportingHarness } from './fixtures';

const DAY = 86_400_000;

/**
 * Cron-style loops go tenant by tenant, and one tenant's failure is its own: it is logged and recorded in
 * maintenance_failures, and every other tenant is still reported or purged in the same run.
 */
describe('maintenance loops: each tenant’s failure is its own', () => {
  let h: ReportingHarness;
  let deps: JobDeps;
  let tenants: TenantStore;
  const box = new SecretBox([randomBytes(32)]);
  const start = Date.UTC(2026, 2, 2, 12);
  let offset = 0;
  const clock = () => new Date(start + offset);
  const logs: Record<string, unknown>[] = [];
  const ids: Record<string, string> = {};

  const installed = async (ws: Workspace, people = [newPerson('Ann Example')]) => {
    offset += 1000; // install order is report order
    const tenant = (await tenants.saveInstallation(installPayload(ws), { trusted: false }))!;
    await confirmAsBitbucket(tenants, ws.clientKey);
    ids[ws.clientKey] = tenant.id;
    h.api.secrets.set(ws.clientKey, ws.sharedSecret);
    await seedTenant(h.db, tenant.id, people);
    return tenant.id;
  };
  const failures = async () =>
    (
      await h.admin.query(
        'select tenant_id, task, error, failures from maintenance_failures order by first_failed_at, tenant_id',
      )
    ).rows;
  const setSecret = (ws: Workspace, sealed: string) =>
    h.admin.query('update tenants set shared_secret_enc = $1 where client_key = $2', [sealed, ws.clientKey]);

  before(async () => {
    h = await startReportingHarness();
    const logger = createLogger(
      'debug',
      new Writable({
        write(chunk, _enc, done) {
          logs.push(JSON.parse(String(chunk)) as Record<string, unknown>);
          done();
        },
      }),
    );
    tenants = new TenantStore(h.db, box, clock, logger);
    deps = { db: h.db, tenants, logger, requestsPerHour: 950, now: clock };
  });
  after(() => h.close());

  it('personal data reporting: a non-2xx answer or an unreadable secret fails that tenant alone', async () => {
    const [before1, failing, unreadable, after1] = [
      newWorkspace(),
      newWorkspace(),
      newWorkspace(),
      newWorkspace(),
    ];
    const closed = newPerson('Closed Account');
    await installed(before1);
    await installed(failing);
    await installed(unreadable);
    await installed(after1, [closed, newPerson('Stays Here')]);
    h.api.failing.set(failing.clientKey, 500);
    h.api.statuses.set(closed.accountId, 'closed');
    await setSecret(
      unreadable,
      new SecretBox([randomBytes(32)]).seal(unreadable.sharedSecret, unreadable.clientKey),
    );

    offset = 10_000;
    const first = await runPersonalDataReport(deps, h.client);
    assert.equal(first.ran, true);
    assert.deepEqual(
      first.failed.map((f) => f.tenantId),
      [ids[failing.clientKey], ids[unreadable.clientKey]],
    );
    assert.deepEqual(
      [...new Set(h.api.requests.map((r) => r.clientKey))],
      [before1.clientKey, after1.clientKey],
      'the tenants after the failing ones are reported in the same run',
    );
    const { rows: erased } = await h.admin.query(
      `select count(*)::int as n from audit_log where tenant_id = $1 and action = 'personal_data.erased'`,
      [ids[after1.clientKey]],
    );
    assert.equal(erased[0].n, 1, 'a closed account after the failing tenant is erased');
    assert.equal(first.nextRunAt.getTime(), start + 10_000 + FAILED_TENANT_RETRY_SECONDS * 1000);
    const { rows: state } = await h.admin.query(
      'select next_run_at, last_result from personal_data_reporting',
    );
    assert.equal(state[0].next_run_at.getTime(), first.nextRunAt.getTime(), 'progress saved');
    assert.deepEqual(state[0].last_result.failed, [ids[failing.clientKey], ids[unreadable.clientKey]]);

    const recorded = new Map((await failures()).map((r) => [r.tenant_id, r]));
    assert.equal(recorded.size, 2);
    assert.deepEqual(recorded.get(ids[failing.clientKey]), {
      tenant_id: ids[failing.clientKey],
      task: PERSONAL_DATA_REPORT_TASK,
      error: 'personal data report answered HTTP 500',
      failures: 1,
    });
    assert.match(recorded.get(ids[unreadable.clientKey]).error, /no configured key opens this secret/);
    const logged = logs.filter((l) => l.msg === 'maintenance task failed for a tenant; the others go on');
    assert.deepEqual(
      logged.map((l) => [l.level, l.tenantId, l.task]),
      [
        [50, ids[failing.clientKey], PERSONAL_DATA_REPORT_TASK],
        [50, ids[unreadable.clientKey], PERSONAL_DATA_REPORT_TASK],
      ],
    );

    // Within the hour, once both are fixed: only what is still due goes out, and the records clear.
    h.api.failing.clear();
    await setSecret(unreadable, box.seal(unreadable.sharedSecret, unreadable.clientKey));
    const sent = h.api.requests.length;
    offset = 10_000 + FAILED_TENANT_RETRY_SECONDS * 1000;
    const second = await runPersonalDataReport(deps, h.client);
    assert.equal(second.ran, true);
    assert.deepEqual(second.failed, []);
    assert.deepEqual(
      h.api.requests.slice(sent).map((r) => r.clientKey),
      [failing.clientKey, unreadable.clientKey],
    );
    assert.deepEqual(await failures(), []);
    assert.equal(second.nextRunAt.getTime(), clock().getTime() + 604_800_000, 'back to the cycle');
  });

  it('retention purge: a tenant whose purge fails stays, recorded; the others are purged', async () => {
    const [first, stuck, last] = [newWorkspace(), newWorkspace(), newWorkspace()];
    for (const ws of [first, stuck, last]) {
      await installed(ws);
      await tenants.markUninstalled(ws.clientKey);
    }
    // A real fault in the database, for one tenant only: its commits refuse to be deleted.
    await h.admin.query(`
      create function refuse_purge() returns trigger language plpgsql as $$
      begin
        if old.tenant_id = '${ids[stuck.clientKey]}' then raise exception 'commits of this tenant are stuck'; end if;
        return old;
      end $$;
      create trigger refuse_purge before delete on commits for each row execute function refuse_purge()`);

    offset += 61 * DAY;
    const purged = await runRetentionPurge(deps);
    assert.deepEqual(
      purged.map((p) => p.clientKey),
      [first.clientKey, last.clientKey],
    );
    const { rows: left } = await h.admin.query('select id from tenants where client_key = any($1)', [
      [first.clientKey, stuck.clientKey, last.clientKey],
    ]);
    assert.deepEqual(left, [{ id: ids[stuck.clientKey] }]);
    const recorded = await failures();
    assert.deepEqual(
      recorded.map((r) => [r.tenant_id, r.task, r.failures]),
      [[ids[stuck.clientKey], RETENTION_PURGE_TASK, 1]],
    );
    assert.match(recorded[0].error, /commits of this tenant are stuck/);

    await h.admin.query('drop trigger refuse_purge on commits; drop function refuse_purge()');
    offset += 3_600_000;
    assert.deepEqual(
      (await runRetentionPurge(deps)).map((p) => p.clientKey),
      [stuck.clientKey],
    );
    assert.deepEqual(await failures(), [], 'the record goes with the tenant');
  });
});
