import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Runner } from 'graphile-worker';
import { ForgeSimulator } from '../../src/simulator/forge';
import type { ForgeInstallation } from '../../src/simulator/forge-app';
import type { Tenant } from '../../src/db/tenant-store';
import {
  exportTotals,
  startBackfill,
  startIngestWorker,
  storedTotals,
  waitIdle,
  type Backfill,
} from './backfill-harness';
import { newCommits, smallHistory } from './live-sync-support';

/**
 * Issue 16, Forge ingest: a Forge installation of the simulator's workspace is backfilled through the same jobs as
 * a Connect one, its Bitbucket calls carrying the system token Forge sent (Bearer) under the token's apiBaseUrl
 * prefix; the Connect installation of the same workspace is the oracle.
 */
describe('Forge ingest: the system token', () => {
  let b: Backfill;
  let forge: ForgeSimulator;
  let worker: Runner;
  let installation: ForgeInstallation;
  let tenant: Tenant;

  before(async () => {
    forge = await ForgeSimulator.start();
    b = await startBackfill({ env: { FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl } });
    worker = await startIngestWorker(b.app, { bitbucket: { credentialsRetryMs: 300 } });
  });
  after(async () => {
    await worker?.stop();
    await b?.close();
    await forge?.close();
  });

  it('an install through Forge is backfilled with the system token: the same totals as the Connect install', async () => {
    const installed = await b.sim.installForge('acme', { forge, remoteUrl: b.app.url });
    installation = installed.installation;
    assert.equal(installed.delivery.status, 204, JSON.stringify(installed.delivery.attemptLog));
    const found = await b.app.runtime.tenants.findByClientKey(installation.installationId);
    assert.ok(found);
    tenant = found;
    assert.equal(tenant.platform, 'forge');
    assert.equal(tenant.baseApiUrl, installation.apiBaseUrl);
    await waitIdle(b);
    const viaForge = await storedTotals(b.admin, tenant.id);
    const viaConnect = await storedTotals(b.admin, b.tenantId);
    assert.equal(viaForge.commits, exportTotals().commits);
    assert.deepEqual(viaForge, viaConnect);
  });

  it('its REST calls carry Bearer and go under the apiBaseUrl prefix; GET only', () => {
    const prefix = new URL(installation.apiBaseUrl).pathname;
    const calls = b.sim.requestLog.filter((r) => r.clientKey === installation.installationId);
    assert.ok(calls.length > 100, `${calls.length} calls`);
    assert.deepEqual(
      calls.filter((r) => r.method !== 'GET' || !r.path.startsWith(`${prefix}/2.0/`)),
      [],
    );
    // The Connect tenant's calls stay on the plain host, signed as before.
    assert.ok(
      b.sim.requestLog.some((r) => r.clientKey !== installation.installationId && r.path.startsWith('/2.0/')),
    );
  });

  it('the system token is sealed at rest and never logged', async () => {
    const { rows } = await b.admin.query('select forge_system_token_enc from tenants where id = $1', [
      tenant.id,
    ]);
    const sealed = rows[0].forge_system_token_enc as string;
    assert.match(sealed, /^v2:/);
    assert.doesNotMatch(sealed, /sim-forge-system-/);
    assert.deepEqual(
      b.app.logs.filter((line) => line.includes('sim-forge-system-')),
      [],
    );
  });

  const commitCount = async (tenantId: string, repository: string) =>
    (
      await b.admin.query(
        `select count(*)::int as n, coalesce(sum(c.lines_added), 0)::int as added from commits c
           join repositories r on r.tenant_id = c.tenant_id and r.id = c.repository_id
          where c.tenant_id = $1 and r.slug = $2`,
        [tenantId, repository],
      )
    ).rows[0] as { n: number; added: number };

  it('a push reaches Tally as a Forge push event and ends with the new commits counted, once', async () => {
    const before = await commitCount(tenant.id, 'express');
    const pushed = await b.sim.push('acme', 'express', { branch: 'master', commits: newCommits(7, 'forge') });
    const events = pushed.deliveries.filter((d) => d.kind === 'forge');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.event, 'avi:bitbucket:push:repository');
    assert.equal(events[0]!.status, 204, JSON.stringify(events[0]!.attemptLog));
    // Forge retries: the same event again changes nothing twice.
    const again = await fetch(events[0]!.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await forge.invocationToken({
          installationId: installation.installationId,
          workspaceUuid: installation.workspace.uuid,
          apiBaseUrl: installation.apiBaseUrl,
        })}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(events[0]!.body),
    });
    assert.equal(again.status, 204);
    await waitIdle(b);
    const after = await commitCount(tenant.id, 'express');
    assert.equal(after.n, before.n + 7);
    assert.equal(after.added - before.added, 1 + 2 + 3 + 4 + 5 + 6 + 7);
    const stored = await b.admin.query('select hash from commits where tenant_id = $1 and hash = $2', [
      tenant.id,
      pushed.head,
    ]);
    assert.equal(stored.rows.length, 1);
    // The Connect installation of the same workspace got its webhook and counts the same.
    assert.deepEqual(await commitCount(b.tenantId, 'express'), after);
  });

  it('a created repository is backfilled; a deleted one leaves the graphs, as with Connect', async () => {
    const { repository } = await b.sim.createRepository('acme', { slug: 'tools', history: smallHistory(12) });
    await waitIdle(b);
    assert.equal((await commitCount(tenant.id, 'tools')).n, 12);
    await b.sim.deleteRepository('acme', 'tools');
    await waitIdle(b);
    const { rows } = await b.admin.query(
      'select deleted_at from repositories where tenant_id = $1 and uuid = $2',
      [tenant.id, repository.uuid],
    );
    assert.ok(rows[0].deleted_at);
  });

  it('without a usable token the jobs wait, spend nothing, and carry on once Forge sends a new one', async () => {
    b.sim.forgeApps.expireTokens(installation);
    const before = b.sim.requestLog.length;
    const refused = () =>
      b.admin.query('select forge_token_refused_at from tenants where id = $1', [tenant.id]);
    // A relisting now: the expired token is refused (401), recorded, and the job waits instead of failing.
    await b.admin.query(
      `select graphile_worker.add_job('backfill_tenant', json_build_object('tenantId', $1::text),
         queue_name => 'backfill:' || $1, job_key => 'backfill:' || $1, priority => 10)`,
      [tenant.id],
    );
    for (let i = 0; i < 100 && (await refused()).rows[0].forge_token_refused_at === null; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok((await refused()).rows[0].forge_token_refused_at, 'the refusal is recorded');
    const failed = await b.admin.query(
      `select count(*)::int as n from repositories where tenant_id = $1 and sync_state = 'failed'`,
      [tenant.id],
    );
    assert.equal(failed.rows[0].n, 0);
    // Until a new token arrives, the waiting job makes no further call with the refused one.
    await new Promise((r) => setTimeout(r, 1000));
    const refusedCalls = b.sim.requestLog
      .slice(before)
      .filter((r) => r.clientKey === null || r.clientKey === installation.installationId);
    assert.ok(refusedCalls.every((r) => r.status === 401));
    assert.ok(refusedCalls.length <= 4, `${refusedCalls.length} refused calls`);
    // The next invocation (here: an upgrade) brings a fresh token; the waiting relisting then succeeds.
    await b.sim.installForge('acme', { forge, remoteUrl: b.app.url });
    await waitIdle(b);
    assert.equal((await refused()).rows[0].forge_token_refused_at, null);
    assert.ok(
      b.sim.requestLog
        .slice(before)
        .some((r) => r.clientKey === installation.installationId && r.status === 200),
    );
  });
});
