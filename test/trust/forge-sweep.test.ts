import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { TenantStore } from '../../src/db/tenant-store';
import { runForgeSweep, runRetentionPurge } from '../../src/ingest/maintenance';
import type { JobDeps } from '../../src/ingest/tasks';
import { ForgeSimulator } from '../../src/simulator/forge';
import { startTestApp, type TestApp } from '../support/app';

const DAY = 86_400_000;

/**
 * Forge sends no uninstall event (docs/forge.md). The worker's sweep stands in for one: a Forge tenant that no
 * valid invocation has reached for 30 days and that holds no usable system token is marked uninstalled, kept 60
 * days like a Connect uninstall, then purged; any valid invocation before that brings it back with its data.
 */
describe('Forge uninstall sweep', () => {
  let app: TestApp;
  let admin: pg.Client;
  let forge: ForgeSimulator;
  let deps: JobDeps;
  const start = Date.now();
  let offset = 0;
  const clock = () => new Date(start + offset);
  const installations = {
    healthy: `ari:cloud:ecosystem::installation/${randomUUID()}`,
    refused: `ari:cloud:ecosystem::installation/${randomUUID()}`,
    tokenless: `ari:cloud:ecosystem::installation/${randomUUID()}`,
    recent: `ari:cloud:ecosystem::installation/${randomUUID()}`,
  };
  const ids: Record<string, string> = {};

  before(async () => {
    forge = await ForgeSimulator.start();
    app = await startTestApp({
      now: clock,
      env: { FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl },
    });
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
    await forge.close();
  });

  /** A valid lifecycle invocation, as Forge posts it (with a system token unless told otherwise). */
  const workspaces = new Map<string, string>();
  const invoke = async (installationId: string, systemToken: string | null = `token-${randomUUID()}`) => {
    const workspace = workspaces.get(installationId) ?? randomUUID();
    workspaces.set(installationId, workspace);
    const token = await forge.invocationToken({
      installationId,
      workspaceUuid: `{${workspace}}`,
      apiBaseUrl: `http://127.0.0.1:1/ex/bitbucket/${workspace}`,
    });
    const res = await fetch(`${app.url}/forge/installed`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(systemToken ? { 'x-forge-oauth-system': systemToken } : {}),
      },
      // Forge's documentation shows events at the top level and wrapped under `payload`: both are taken.
      body: JSON.stringify(
        installationId === installations.recent
          ? { payload: { eventType: 'avi:forge:installed:app', id: installationId } }
          : { eventType: 'avi:forge:installed:app', id: installationId },
      ),
    });
    assert.equal(res.status, 204, await res.text());
    return (await app.runtime.tenants.findByClientKey(installationId))!;
  };
  const registry = async (id: string) =>
    (await admin.query('select state, delete_after from tenants where id = $1', [id])).rows[0] as
      { state: string; delete_after: Date | null } | undefined;

  it('leaves tenants alone while they are invoked or hold a usable token', async () => {
    for (const [name, installationId] of Object.entries(installations))
      ids[name] = (await invoke(installationId, name === 'tokenless' ? null : undefined)).id;
    await app.runtime.tenants.markForgeTokenRefused(ids.refused!);
    await app.runtime.tenants.markForgeTokenRefused(ids.recent!);
    offset = 10 * DAY;
    // A UI call or event on day 10, without a new token: invoked, but its token is still the refused one. (The web
    // role records invocations by the wall clock; a store on the test's clock records this one on day 10.)
    const onTestClock = new TenantStore(app.runtime.db, app.runtime.box, clock);
    await onTestClock.recordForgeInvocation((await app.runtime.tenants.findById(ids.recent!))!, null);
    offset = 29 * DAY;
    assert.deepEqual(await runForgeSweep(deps), []);
  });

  it('after 30 silent days without a usable token: uninstalled, deletion 60 days out, audited', async () => {
    offset = 31 * DAY;
    const swept = await runForgeSweep(deps);
    assert.deepEqual(swept.map((t) => t.id).sort(), [ids.refused!, ids.tokenless!].sort());
    for (const id of [ids.refused!, ids.tokenless!]) {
      const row = await registry(id);
      assert.equal(row?.state, 'uninstalled');
      assert.equal(row?.delete_after?.getTime(), clock().getTime() + 60 * DAY);
    }
    for (const id of [ids.healthy!, ids.recent!]) assert.equal((await registry(id))?.state, 'installed');
    const audit = await admin.query(
      `select count(*)::int as n from system_audit_log
        where actor = 'tally:forge-sweep' and action = 'tenant.uninstalled'`,
    );
    assert.equal(audit.rows[0].n, 2);
    assert.deepEqual(await runForgeSweep(deps), [], 'idempotent');
  });

  it('a valid invocation within the 60 days brings the tenant back, with its data and a backfill', async () => {
    offset = (31 + 59) * DAY;
    assert.deepEqual(
      (await runRetentionPurge(deps)).map((p) => p.tenantId),
      [],
      'nothing is due yet',
    );
    const back = await invoke(installations.refused);
    assert.equal(back.id, ids.refused);
    assert.equal(back.state, 'installed');
    assert.equal(back.deleteAfter, null);
    const jobs = await admin.query(
      `select count(*)::int as n from graphile_worker._private_jobs j
         join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = 'backfill_tenant' and j.payload->>'tenantId' = $1`,
      [back.id],
    );
    assert.equal(jobs.rows[0].n, 1);
    assert.ok(await app.runtime.tenants.forgeSystemToken(back.id), 'with the new token');
  });

  it('one that stays silent is purged after its 60 days, as a Connect uninstall is', async () => {
    offset = (31 + 61) * DAY;
    const purged = await runRetentionPurge(deps);
    assert.deepEqual(
      purged.map((p) => p.tenantId),
      [ids.tokenless],
    );
    assert.equal(await registry(ids.tokenless!), undefined);
    assert.equal((await registry(ids.refused!))?.state, 'installed');
  });

  it('the hourly scheduled trigger keeps a quiet installation: its fresh token keeps the sweep away', async () => {
    const quiet = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const control = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const quietId = (await invoke(quiet)).id;
    const controlId = (await invoke(control)).id;
    for (const id of [quietId, controlId]) await app.runtime.tenants.markForgeTokenRefused(id);
    // Neither workspace pushes or shows a page; only the quiet one's trigger fires, as Forge posts it.
    const scheduled = async (body: string | undefined, token?: string) =>
      fetch(`${app.url}/forge/scheduled`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await forge.invocationToken({
            installationId: quiet,
            workspaceUuid: `{${workspaces.get(quiet)!}}`,
            apiBaseUrl: `http://127.0.0.1:1/ex/bitbucket/${workspaces.get(quiet)!}`,
          })}`,
          ...(token ? { 'x-forge-oauth-system': token } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body,
      });
    const fresh = `token-${randomUUID()}`;
    const fired = await scheduled(
      JSON.stringify({ context: { cloudId: randomUUID(), moduleKey: 'tally-keepalive' }, contextToken: 'x' }),
      fresh,
    );
    assert.equal(fired.status, 204, await fired.text());
    assert.equal((await app.runtime.tenants.forgeSystemToken(quietId))?.token, fresh);
    const bad = await scheduled(JSON.stringify({ context: 'x' }), `token-${randomUUID()}`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_request');
    assert.equal(
      (await app.runtime.tenants.forgeSystemToken(quietId))?.token,
      fresh,
      'a refused body keeps nothing',
    );
    assert.equal((await scheduled(undefined, fresh)).status, 204, 'no body at all is taken too');
    offset += 31 * DAY;
    const swept = (await runForgeSweep(deps)).map((t) => t.id);
    assert.ok(!swept.includes(quietId), 'the triggered installation stays');
    assert.ok(swept.includes(controlId), 'the one no trigger reached is swept');
    assert.equal((await registry(quietId))?.state, 'installed');
  });
});
