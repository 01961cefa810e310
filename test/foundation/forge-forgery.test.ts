import assert from 'node:assert/strict';
import { createHmac, createPublicKey, randomUUID, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it, mock } from 'node:test';
import { OPENAPI_FILE } from '../../src/api/openapi-routes';
import { ROUTE_ACCESS } from '../../src/api/route-access';
import { ForgeSimulator } from '../../src/simulator/forge';
import { startTestApp, type TestApp } from '../support/app';
import { countingHost, installForge } from '../support/forge';
import { appRoutesUnder, operationsOf } from '../support/routes';

/**
 * Issue 16, item 6, from outside: every route Forge can reach (every `/forge/*` route the app serves and every
 * authenticated `/api/v1` operation, both listed from the app and docs/openapi.json, so a route added later is
 * covered without touching this file) answers 401 to every kind of forged invocation token, and nothing is asked
 * of a host that is not Bitbucket's. With the door closed (FORGE_APP_ID unset) the `/forge/*` routes are 404. Key
 * rotation is picked up without a restart, and unknown key ids refetch the JWKS at most once per 30 s.
 */

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** HS256 over the header and claims with `secret`: the algorithm-confusion forgery. */
function hs256(header: Record<string, unknown>, claims: unknown, secret: string): string {
  const input = `${b64({ ...header, alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

interface Route {
  method: string;
  path: string;
}

/** `METHOD /path/{param}` → a request target (parameters filled with a placeholder). */
const target = (key: string, mount = ''): Route => {
  const [method, path] = key.split(' ') as [string, string];
  return { method, path: `${mount}${path.replace(/\{\w+\}/g, 'x')}` };
};

describe('Forge door: forged invocation tokens on every remote endpoint', () => {
  let forge: ForgeSimulator;
  let closedForge: ForgeSimulator;
  let app: TestApp;
  let closed: TestApp;
  let elsewhere: Awaited<ReturnType<typeof countingHost>>;
  let routes: Route[] = [];
  let forgeRoutes: string[] = [];
  const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
  /** The installation every forgery names: no tenant may ever be created for it. */
  const forgedInstallation = `ari:cloud:ecosystem::installation/${randomUUID()}`;
  const workspaceUuid = `{${randomUUID()}}`;
  let apiBaseUrl = '';

  before(async () => {
    forge = await ForgeSimulator.start();
    closedForge = await ForgeSimulator.start();
    elsewhere = await countingHost();
    // The allowlisted test host (BITBUCKET_ALLOWED_HOSTS=127.0.0.1), with a path prefix as Forge gives it.
    apiBaseUrl = `http://127.0.0.1:${elsewhere.port}/ex/bitbucket/${workspaceUuid.slice(1, -1)}`;
    app = await startTestApp({ env: { FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl } });
    closed = await startTestApp({ env: { FORGE_JWKS_URL: closedForge.jwksUrl } });
    forgeRoutes = appRoutesUnder(app.express, '/forge');
    const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Parameters<typeof operationsOf>[0];
    const api = new Set([
      ...operationsOf(doc),
      ...appRoutesUnder(app.express, '/api/v1').map((r) => r.replace(' /api/v1', ' ')),
    ]);
    routes = [
      ...forgeRoutes.map((key) => target(key)),
      ...[...api].filter((key) => ROUTE_ACCESS[key] !== 'public').map((key) => target(key, '/api/v1')),
    ];
    // The real installation, so that a forged token naming it would find a tenant.
    await installForge(app, forge, { installationId, workspaceUuid, apiBaseUrl });
  });
  after(async () => {
    await app?.close();
    await closed?.close();
    await forge?.close();
    await closedForge?.close();
    await new Promise((resolve) => elsewhere?.server.close(resolve));
  });

  const settingsPage = (extra: Partial<Parameters<ForgeSimulator['invocationToken']>[0]> = {}) =>
    forge.invocationToken({
      installationId,
      workspaceUuid,
      apiBaseUrl,
      principal: 'acc-forge-admin',
      context: { workspaceId: workspaceUuid, extension: { type: 'bitbucket:workspaceSettingsMenuPage' } },
      ...extra,
    });
  const send = (base: string, route: Route, token: string) =>
    fetch(`${base}${route.path}`, {
      method: route.method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: route.method === 'GET' || route.method === 'HEAD' ? undefined : '{}',
    });

  it('finds the routes: the Forge lifecycle, event and scheduled endpoints and every authenticated API operation', () => {
    for (const must of ['POST /forge/installed', 'POST /forge/events', 'POST /forge/scheduled'])
      assert.ok(forgeRoutes.includes(must), `${must} in ${forgeRoutes.join()}`);
    const paths = routes.map((r) => `${r.method} ${r.path}`);
    for (const must of [
      'GET /api/v1/me',
      'GET /api/v1/stats/top',
      'PUT /api/v1/settings',
      'POST /api/v1/tokens',
    ])
      assert.ok(paths.includes(must), must);
    assert.ok(!paths.includes('GET /api/v1/openapi.json'), 'the public description takes no token');
  });

  it('a valid token opens every GET route (so the 401s below are the forgeries’ own)', async () => {
    for (const route of routes.filter((r) => r.method === 'GET')) {
      const res = await send(app.url, route, await settingsPage());
      const text = await res.text();
      assert.notEqual(res.status, 401, `${route.method} ${route.path}: ${text}`);
    }
  });

  it('every forgery is a 401 on every route, and nothing is requested from any apiBaseUrl', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = await settingsPage({ installationId: forgedInstallation });
    const claims = JSON.parse(Buffer.from(valid.split('.')[1]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const publicPem = createPublicKey({
      key: forge.publicJwk as JsonWebKey,
      format: 'jwk',
    })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const forged = (overrides: Record<string, unknown>) =>
      settingsPage({ installationId: forgedInstallation, overrides });
    const forgeries: Record<string, string> = {
      'signed with another key under the published kid': await forge.forgedToken(claims, forge.kid),
      'unknown key id': await forge.forgedToken(claims, `kid-${randomUUID()}`),
      'wrong app id (aud)': await forged({ aud: `ari:cloud:ecosystem::app/${randomUUID()}` }),
      'app.id other than the audience': await forged({
        app: { ...(claims.app as object), id: `ari:cloud:ecosystem::app/${randomUUID()}` },
      }),
      'wrong iss': await forged({ iss: 'forge/someone-else' }),
      expired: await forged({ exp: now - 60, iat: now - 120, nbf: now - 120 }),
      'not yet valid': await forged({ nbf: now + 600, exp: now + 900 }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT', kid: forge.kid })}.${b64(claims)}.`,
      'HS256 with the public JWK as secret': hs256(
        { kid: forge.kid },
        claims,
        JSON.stringify(forge.publicJwk),
      ),
      'HS256 with the public PEM as secret': hs256({ kid: forge.kid }, claims, publicPem),
      'apiBaseUrl off the allowlist': await settingsPage({
        installationId: forgedInstallation,
        apiBaseUrl: `http://localhost:${elsewhere.port}/ex/bitbucket/x`,
      }),
      'another app’s Forge signed it': await (async () => {
        const other = await ForgeSimulator.start();
        try {
          return await other.invocationToken({ installationId: forgedInstallation, apiBaseUrl, context: {} });
        } finally {
          await other.close();
        }
      })(),
      'not a JWT': 'not-a-token',
    };
    let tried = 0;
    for (const route of routes) {
      for (const [name, token] of Object.entries(forgeries)) {
        const res = await send(app.url, route, token);
        assert.equal(res.status, 401, `${name}: ${route.method} ${route.path}`);
        await res.body?.cancel();
        tried++;
      }
    }
    assert.ok(tried >= routes.length * 13);
    assert.equal(elsewhere.hits(), 0, 'nothing was requested from any apiBaseUrl');
    assert.equal(await app.runtime.tenants.findByClientKey(forgedInstallation), null, 'no forged tenant');
  });

  it('with the door closed the /forge routes are 404 and a valid invocation token opens nothing', async () => {
    const token = await closedForge.invocationToken({
      installationId,
      workspaceUuid,
      apiBaseUrl,
      context: { workspaceId: workspaceUuid, extension: { type: 'bitbucket:workspaceSettingsMenuPage' } },
    });
    for (const route of routes) {
      const res = await send(closed.url, route, token);
      assert.equal(res.status, route.path.startsWith('/forge/') ? 404 : 401, `${route.method} ${route.path}`);
      await res.body?.cancel();
    }
    assert.equal(closedForge.jwksRequests, 0, 'a closed door never fetches keys');
  });

  it('a rotated signing key is picked up without a restart; unknown key ids refetch the JWKS at most once per 30 s', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const me = async (token: string) => {
        const res = await fetch(`${app.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
        await res.body?.cancel();
        return res.status;
      };
      // Long-lived enough that only its key, not its expiry, can refuse it after the rotation.
      const oldKey = await settingsPage({ expiresInSeconds: 300 });
      assert.equal(await me(oldKey), 200);
      // Forge rotates: the new key is published, the old one withdrawn.
      await forge.rotate();
      mock.timers.tick(31_000);
      const fetched = forge.jwksRequests;
      assert.equal(await me(await settingsPage()), 200, 'the new key, no restart');
      assert.equal(forge.jwksRequests, fetched + 1, 'one refetch for the new kid');
      assert.equal(await me(oldKey), 401, 'the old key is withdrawn');
      // A flood of unknown key ids within 30 s of that fetch: no fetch at all.
      for (let i = 0; i < 10; i++) assert.equal(await me(await forge.forgedToken({}, `kid-${i}`)), 401);
      assert.equal(forge.jwksRequests, fetched + 1, 'no refetch inside the cooldown');
      // After 30 s: one refetch for the next flood, however long.
      mock.timers.tick(31_000);
      for (let i = 0; i < 10; i++) assert.equal(await me(await forge.forgedToken({}, `kid-b-${i}`)), 401);
      assert.equal(forge.jwksRequests, fetched + 2, 'one refetch per 30 s');
      assert.equal(await me(await settingsPage()), 200, 'valid tokens still pass');
    } finally {
      mock.timers.reset();
    }
  });
});
