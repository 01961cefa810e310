import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ForgeSimulator } from '../../src/simulator/forge';
import { startTestApp, type TestApp } from '../support/app';
import { countingHost } from '../support/forge';

/**
 * Issue 16, first slice: the Forge door. Invocation tokens signed by the simulator's Forge (RS256, its JWKS served
 * over HTTP) make the installation a tenant; a repository page's token sees its repository only. Forgeries on every
 * route, the closed door, key rotation and the JWKS refetch limit: test/foundation/forge-forgery.test.ts.
 */

describe('Forge door: invocation tokens and tenancy', () => {
  let forge: ForgeSimulator;
  let app: TestApp;
  let elsewhere: Awaited<ReturnType<typeof countingHost>>;
  const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
  const workspaceUuid = `{${randomUUID()}}`;
  const repo = { A: `{${randomUUID()}}`, B: `{${randomUUID()}}` };
  let apiBaseUrl = '';

  before(async () => {
    forge = await ForgeSimulator.start();
    elsewhere = await countingHost();
    app = await startTestApp({ env: { FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl } });
    // The allowlisted simulator host (BITBUCKET_ALLOWED_HOSTS=127.0.0.1), with a path prefix as Forge gives it.
    apiBaseUrl = `http://127.0.0.1:${elsewhere.port}/ex/bitbucket/${workspaceUuid.slice(1, -1)}`;
  });
  after(async () => {
    await app.close();
    await forge.close();
    await new Promise((resolve) => elsewhere.server.close(resolve));
  });

  const page = (
    context: Record<string, unknown>,
    extra: Partial<Parameters<ForgeSimulator['invocationToken']>[0]> = {},
  ) =>
    forge.invocationToken({
      installationId,
      workspaceUuid,
      apiBaseUrl,
      context,
      principal: 'acc-forge-1',
      ...extra,
    });
  const repositoryPage = (uuid = repo.A) =>
    page({
      workspaceId: workspaceUuid,
      extension: { type: 'bitbucket:repoMainMenuPage', repository: { uuid } },
    });
  const settingsPage = () =>
    page({ workspaceId: workspaceUuid, extension: { type: 'bitbucket:workspaceSettingsMenuPage' } });
  const call = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${app.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

  it('an installed event creates the tenant, keyed by the installation id, with its workspace', async () => {
    const token = await forge.invocationToken({ installationId, workspaceUuid, apiBaseUrl });
    const res = await call('/forge/installed', token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        eventType: 'avi:forge:installed:app',
        id: installationId,
        app: { id: forge.appId },
      }),
    });
    assert.equal(res.status, 204, await res.text());
    const tenant = await app.runtime.tenants.findByClientKey(installationId);
    assert.ok(tenant);
    assert.equal(tenant.platform, 'forge');
    assert.equal(tenant.workspaceUuid, workspaceUuid);
    assert.equal(tenant.baseApiUrl, apiBaseUrl);
    assert.equal(tenant.state, 'installed');
    // Forge tenants have no shared secret: Connect's JWT lookups never find them.
    assert.equal(await app.runtime.tenants.findWithSecret(installationId), null);
    await app.runtime.db.withTenant(tenant.id, (trx) =>
      trx('repositories').insert(
        Object.values(repo).map((uuid, i) => ({
          tenant_id: tenant.id,
          uuid,
          full_name: `ws/r${i}`,
          slug: `r${i}`,
          name: `r${i}`,
        })),
      ),
    );
  });

  it("a repository page's token sees its repository only", async () => {
    const res = await call('/api/v1/repositories', await repositoryPage());
    assert.equal(res.status, 200);
    const body = (await res.json()) as { repositories: { uuid: string }[] };
    assert.deepEqual(
      body.repositories.map((r) => r.uuid),
      [repo.A],
    );
    const other = await call(
      `/api/v1/stats/top?repository=${encodeURIComponent(repo.B)}`,
      await repositoryPage(),
    );
    assert.equal(other.status, 403);
    assert.equal(((await other.json()) as { error: { code: string } }).error.code, 'outside_scope');
    const me = (await (await call('/api/v1/me', await repositoryPage())).json()) as Record<string, unknown>;
    assert.equal(me.clientKey, installationId);
    assert.deepEqual(me.scope, {
      page: 'repository',
      kind: 'repository',
      admin: false,
      repositories: [repo.A],
      contributor: null,
      visibility: 'all',
    });
    // Admin pages' routes stay closed to it.
    assert.equal((await call('/api/v1/settings', await repositoryPage())).status, 403);
  });

  it('the workspace settings page is the admin (configure) scope; a token without a page context is no viewer', async () => {
    const me = (await (await call('/api/v1/me', await settingsPage())).json()) as {
      scope: Record<string, unknown>;
    };
    assert.equal(me.scope.kind, 'workspace');
    assert.equal(me.scope.admin, true);
    assert.equal((await call('/api/v1/settings', await settingsPage())).status, 200);
    const backend = await forge.invocationToken({ installationId, workspaceUuid, apiBaseUrl });
    assert.equal((await call('/api/v1/me', backend)).status, 401);
  });

  it('an installed event whose apiBaseUrl is off the allowlist is a 401 and creates nothing', async () => {
    const other = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const token = await forge.invocationToken({
      installationId: other,
      workspaceUuid: `{${randomUUID()}}`,
      apiBaseUrl: `http://localhost:${elsewhere.port}/ex/bitbucket/x`,
    });
    const res = await call('/forge/installed', token, { method: 'POST', body: '{}' });
    assert.equal(res.status, 401);
    assert.equal(await app.runtime.tenants.findByClientKey(other), null);
    assert.equal(elsewhere.hits(), 0);
  });

  it('a lifecycle body that is not JSON is a 400, one too large a 413, and neither creates a tenant', async () => {
    const other = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const token = await forge.invocationToken({
      installationId: other,
      workspaceUuid: `{${randomUUID()}}`,
      apiBaseUrl,
    });
    const cases: [string, number, string][] = [
      ['{"eventType":', 400, 'invalid_json'],
      [JSON.stringify({ padding: 'x'.repeat(300_000) }), 413, 'body_too_large'],
    ];
    for (const [body, status, code] of cases) {
      const res = await call('/forge/installed', token, { method: 'POST', body });
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    }
    assert.equal(await app.runtime.tenants.findByClientKey(other), null);
  });
});
