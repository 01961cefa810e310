import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import { ROUTE_ACCESS } from '../../src/api/route-access';
import { ForgeSimulator } from '../../src/simulator/forge';
import { startTestApp, type TestApp } from '../support/app';

/**
 * Issue 16, first slice: the Forge door. Invocation tokens signed by the simulator's Forge (RS256, its JWKS served
 * over HTTP) are verified on every Forge-reachable route; forged ones are 401 everywhere; the installation becomes a
 * tenant; a repository page's token sees its repository only; a rotated key is picked up without a restart.
 */

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A host that counts what it is asked: apiBaseUrl must never send Tally there unless allowlisted. */
async function countingHost(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, hits: () => hits };
}

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

  /** Every route a Forge token can reach: the lifecycle endpoint and every authenticated API route. */
  const forgeRoutes = (): { method: string; path: string }[] => [
    { method: 'POST', path: '/forge/installed' },
    ...Object.keys(ROUTE_ACCESS)
      .filter((key) => key !== 'GET /openapi.json')
      .map((key) => {
        const [method, path] = key.split(' ') as [string, string];
        return { method, path: `/api/v1${path.replace(/\{\w+\}/g, 'x')}` };
      }),
  ];

  it('forged tokens get 401 on every Forge-reachable route', async () => {
    const now = Math.floor(Date.now() / 1000);
    const context = {
      workspaceId: workspaceUuid,
      extension: { type: 'bitbucket:repoMainMenuPage', repository: { uuid: repo.A } },
    };
    const valid = await repositoryPage();
    const claims = JSON.parse(Buffer.from(valid.split('.')[1]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const hs256 = (() => {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: forge.kid })}.${b64(claims)}`;
      const sig = createHmac('sha256', JSON.stringify(forge.publicJwk)).update(input).digest('base64url');
      return `${input}.${sig}`;
    })();
    const forged: Record<string, string> = {
      'wrong key (published kid)': await forge.forgedToken(claims, forge.kid),
      'unknown key id': await forge.forgedToken(claims, 'no-such-kid'),
      'wrong app id': await page(context, { overrides: { aud: `ari:cloud:ecosystem::app/${randomUUID()}` } }),
      'app.id not the audience': await page(context, {
        overrides: { app: { ...(claims.app as object), id: `ari:cloud:ecosystem::app/${randomUUID()}` } },
      }),
      'wrong issuer': await page(context, { overrides: { iss: 'someone/else' } }),
      expired: await page(context, { overrides: { exp: now - 60, iat: now - 120, nbf: now - 120 } }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      'HS256 with the public key': hs256,
      'control characters in a claim': await page(context, { principal: 'acc\u0000x' }),
      'apiBaseUrl off the allowlist': await page(context, {
        apiBaseUrl: `http://localhost:${elsewhere.port}/ex/bitbucket/x`,
      }),
      garbage: 'not-a-token',
    };
    for (const { method, path } of forgeRoutes()) {
      for (const [name, token] of Object.entries(forged)) {
        const res = await call(path, token, {
          method,
          headers: { 'content-type': 'application/json' },
          body: method === 'GET' ? undefined : '{}',
        });
        assert.equal(res.status, 401, `${name}: ${method} ${path}`);
        await res.body?.cancel();
      }
    }
    assert.equal(elsewhere.hits(), 0, 'nothing was requested from any apiBaseUrl');
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

  it('unknown key ids refetch the key set at most once every 30 s; a rotated key is picked up without a restart', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const fetched = forge.jwksRequests;
      for (let i = 0; i < 10; i++) {
        const res = await call('/api/v1/me', await forge.forgedToken({}, `kid-${i}`));
        assert.equal(res.status, 401);
      }
      assert.ok(
        forge.jwksRequests - fetched <= 1,
        `${forge.jwksRequests - fetched} fetches for 10 unknown kids`,
      );
      await forge.rotate();
      mock.timers.tick(31_000);
      const res = await call('/api/v1/me', await repositoryPage());
      assert.equal(res.status, 200, await res.text());
    } finally {
      mock.timers.reset();
    }
  });
});

describe('Forge door closed (FORGE_APP_ID unset)', () => {
  let app: TestApp;
  let forge: ForgeSimulator;
  before(async () => {
    forge = await ForgeSimulator.start();
    app = await startTestApp({ env: { FORGE_JWKS_URL: forge.jwksUrl } });
  });
  after(async () => {
    await app.close();
    await forge.close();
  });

  it('its routes answer 404 and Bearer tokens open nothing', async () => {
    const token = await forge.invocationToken({
      installationId: `ari:cloud:ecosystem::installation/${randomUUID()}`,
      apiBaseUrl: 'http://127.0.0.1:1/ex/bitbucket/x',
      context: { extension: { type: 'bitbucket:workspaceSettingsMenuPage' } },
    });
    const res = await fetch(`${app.url}/forge/installed`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 404);
    const me = await fetch(`${app.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 401);
    assert.equal(forge.jwksRequests, 0);
  });
});
