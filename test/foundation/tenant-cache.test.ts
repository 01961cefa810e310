import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TenantStore } from '../../src/db/tenant-store';
import { startTestApp, type TestApp } from '../support/app';
import { install, newWorkspace } from '../support/bitbucket';

/**
 * Every signed request needs its tenant and shared secret. They are cached for seconds, refreshed in the background
 * before they expire, and concurrent lookups share one query: a burst of webhooks never queues behind the registry.
 */
describe('tenant and secret cache for signed requests', () => {
  let app: TestApp;
  const ws = newWorkspace('cache');
  let now = Date.parse('2026-06-01T12:00:00Z');
  let store: TenantStore;
  let queries = 0;

  before(async () => {
    app = await startTestApp();
    await install(app, ws);
    store = new TenantStore(app.runtime.db, app.runtime.box, () => new Date(now));
    // Reads of the registry that have completed (not merely been sent): a busy machine never skews the count.
    app.runtime.db.knex.on('query-response', (_rows: unknown, q: { sql: string }) => {
      if (/from "tenants"/.test(q.sql)) queries++;
    });
  });
  after(() => app.close());

  const burst = () => Promise.all(Array.from({ length: 20 }, () => store.findWithSecret(ws.clientKey)));
  /** Waits for the background refresh's read to complete (no fixed delay: a busy machine may take longer). */
  const refreshed = async (expected: number) => {
    for (let waited = 0; queries < expected && waited < 10_000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setImmediate(resolve));
  };

  it('reads the registry once for concurrent lookups, then serves from memory', async () => {
    const found = await burst();
    assert.equal(queries, 1);
    assert.ok(found.every((f) => f?.secret === ws.sharedSecret && f.tenant.clientKey === ws.clientKey));
    now += 1000;
    await burst();
    assert.equal(queries, 1);
  });

  it('refreshes an entry past half its life in the background, once, while it still serves', async () => {
    now += 2000;
    const found = await burst();
    assert.ok(found.every((f) => f?.secret === ws.sharedSecret));
    await refreshed(2);
    assert.equal(queries, 2);
  });

  it('after expiry, concurrent lookups wait for one shared read', async () => {
    now += 60_000;
    await burst();
    assert.equal(queries, 3);
  });

  it("this process's own uninstall is seen at once, and a fresh lookup always reads again", async () => {
    await store.markUninstalled(ws.clientKey);
    const [found] = await burst();
    assert.equal(found?.tenant.state, 'uninstalled');
    const before = queries;
    await store.findWithSecret(ws.clientKey, { fresh: true });
    assert.equal(queries, before + 1);
  });
});

/**
 * Every Forge UI call names its installation; an installed one seen moments ago needs no registry read, while a
 * changed apiBaseUrl, another workspace or the sweep's uninstall still goes to the registry.
 */
describe('Forge installations seen moments ago', () => {
  let app: TestApp;
  let now = Date.parse('2026-06-01T12:00:00Z');
  let store: TenantStore;
  let queries = 0;
  const installation = {
    installationId: 'ari:cloud:ecosystem::installation/6f1c3a52-0d6e-4b8e-9a57-3c1f2d9e8b41',
    apiBaseUrl: 'https://api.atlassian.com/ex/bitbucket/{3a1e5c7d-2b4f-4d6a-8c9e-0f1a2b3c4d5e}',
    workspaceUuid: '{3a1e5c7d-2b4f-4d6a-8c9e-0f1a2b3c4d5e}',
  };

  before(async () => {
    app = await startTestApp();
    store = new TenantStore(app.runtime.db, app.runtime.box, () => new Date(now));
    app.runtime.db.knex.on('query-response', (_rows: unknown, q: { sql: string }) => {
      if (/from "tenants"/.test(q.sql)) queries++;
    });
  });
  after(() => app.close());

  it('reads the registry again only when the entry is old or the invocation differs', async () => {
    const first = await store.saveForgeInstallation(installation);
    assert.equal(first?.state, 'installed');
    const afterInstall = queries;
    now += 1000;
    const again = await store.saveForgeInstallation({ ...installation, workspaceUuid: null });
    assert.equal(again?.id, first?.id);
    assert.equal(queries, afterInstall, 'served from memory');
    await store.saveForgeInstallation({ ...installation, apiBaseUrl: 'https://api.bitbucket.org' });
    assert.equal(queries, afterInstall + 1, 'another apiBaseUrl is read');
    now += 60_000;
    await store.saveForgeInstallation(installation);
    assert.equal(queries, afterInstall + 2, 'an old entry is read');
  });
});
