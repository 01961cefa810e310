import http from 'node:http';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jsonwebtoken from 'jsonwebtoken';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import { startTestApp, type TestApp } from '../support/app';
import { install, installPayload, lifecycleJwt, newWorkspace, pageUrl, postJson } from '../support/bitbucket';

describe('API and page authentication', () => {
  let app: TestApp;
  const ws = newWorkspace('acme');
  before(async () => {
    app = await startTestApp();
    assert.equal((await install(app, ws)).status, 204);
  });
  after(() => app.close());

  const me = (token?: string) =>
    fetch(`${app.url}/api/v1/me`, { headers: token === undefined ? {} : { authorization: `JWT ${token}` } });
  const session = (overrides: Partial<Parameters<typeof createSessionToken>[0]> = {}) =>
    createSessionToken({
      appKey: 'tally',
      clientKey: ws.clientKey,
      secret: ws.sharedSecret,
      viewer: 'acc-1',
      scope: scopeForPage('workspace', {}),
      ...overrides,
    });

  it('GET /api/v1/me answers the tenant and viewer for a valid session token, with no-store', async () => {
    const res = await me(session());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), {
      clientKey: ws.clientKey,
      workspace: 'acme',
      accountId: 'acc-1',
      scope: {
        page: null,
        kind: 'workspace',
        admin: true,
        repositories: null,
        contributor: null,
        visibility: 'all',
      },
    });
  });

  it('refuses every bad token with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const none =
      Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url') +
      '.' +
      Buffer.from(JSON.stringify({ iss: 'tally', aud: [ws.clientKey], exp: now + 600 })).toString(
        'base64url',
      ) +
      '.';
    const other = newWorkspace();
    await install(app, other);
    const cases: Record<string, string | undefined> = {
      'no token': undefined,
      garbage: 'not.a.jwt',
      expired: session({ now: new Date(Date.now() - 16 * 60_000) }),
      'wrong secret': session({ secret: 'x'.repeat(64) }),
      'alg none': none,
      'wrong aud': session({ clientKey: other.clientKey }),
      'unknown clientKey': session({ clientKey: 'ari:cloud:bitbucket::app/{nobody}/tally' }),
      'not a session token (iss is the client)': jsonwebtoken.sign(
        { iss: ws.clientKey, aud: [ws.clientKey], exp: now + 600 },
        ws.sharedSecret,
      ),
      HS512: jsonwebtoken.sign({ iss: 'tally', aud: [ws.clientKey], exp: now + 600 }, ws.sharedSecret, {
        algorithm: 'HS512',
      }),
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await me(token);
      assert.equal(res.status, 401, name);
      assert.equal(typeof (await res.json()).error.code, 'string');
    }
    const plain = await fetch(`${app.url}/api/v1/me`, { headers: { authorization: 'Bearer abc' } });
    assert.equal(plain.status, 401);
  });

  it('refuses a token of an uninstalled tenant', async () => {
    const gone = newWorkspace();
    await install(app, gone);
    const token = createSessionToken({
      appKey: 'tally',
      clientKey: gone.clientKey,
      secret: gone.sharedSecret,
      scope: scopeForPage('workspace', {}),
    });
    assert.equal((await me(token)).status, 200);
    const body = { ...installPayload(gone), eventType: 'uninstalled' };
    await postJson(`${app.url}/uninstalled`, body, {
      authorization: `JWT ${lifecycleJwt(gone.clientKey, gone.sharedSecret, '/uninstalled')}`,
    });
    assert.equal((await me(token)).status, 401);
  });

  it('iframe pages verify the page JWT with a real qsh and hand out a session token', async () => {
    const good = pageUrl(
      app.url,
      '/pages/repository?repoUuid=%7B6f9619ff-8b86-d011-b42d-00c04fc964ff%7D&repoPath=acme%2Fweb',
      ws,
      'viewer-7',
    );
    const res = await fetch(good);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'self' https:\/\/bitbucket\.org/);
    assert.ok(res.headers.get('strict-transport-security'));
    const html = await res.text();
    const token = /name="tally-token" content="([^"]+)"/.exec(html)?.[1];
    assert.ok(token);
    const claims = jsonwebtoken.verify(token, ws.sharedSecret) as jsonwebtoken.JwtPayload;
    assert.equal(claims.iss, 'tally');
    assert.deepEqual(claims.aud, [ws.clientKey]);
    assert.equal(claims.sub, 'viewer-7');
    assert.equal(claims.exp! - claims.iat!, 15 * 60);
    assert.equal((await me(token)).status, 200);

    // The same token on a tampered query no longer matches its qsh.
    const tampered = good.replace('repoPath=acme%2Fweb', 'repoPath=acme%2Fother');
    assert.equal((await fetch(tampered)).status, 401);
    assert.equal((await fetch(`${app.url}/pages/repository`)).status, 401);
    const expired = pageUrl(app.url, '/pages/configure', ws, 'v', { exp: Math.floor(Date.now() / 1000) - 5 });
    assert.equal((await fetch(expired)).status, 401);
  });

  it('webhooks must be signed for their own path', async () => {
    const body = { event: 'repo:push', data: {} };
    assert.equal((await postJson(`${app.url}/webhooks/repo-push`, body)).status, 401);
    const wrongPath = lifecycleJwt(ws.clientKey, ws.sharedSecret, '/webhooks/repo-updated');
    assert.equal(
      (await postJson(`${app.url}/webhooks/repo-push`, body, { authorization: `JWT ${wrongPath}` })).status,
      401,
    );
  });

  it('admin-only actions need a session token minted by the configure page', async () => {
    const post = (page?: string) =>
      fetch(`${app.url}/api/v1/support/consent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `JWT ${session({ page })}` },
        body: JSON.stringify({ days: 2, reason: 'ticket 42' }),
      });
    assert.equal((await post()).status, 403);
    assert.equal((await post('repository')).status, 403);
    assert.ok((await post('configure')).status < 300);
    // The configure page itself hands out such a token; the repository page does not.
    const html = await (await fetch(pageUrl(app.url, '/pages/configure', ws, 'admin-1'))).text();
    const token = /name="tally-token" content="([^"]+)"/.exec(html)![1]!;
    assert.equal((jsonwebtoken.decode(token) as { tally_page?: string }).tally_page, 'configure');
  });

  it('GET /healthz checks the database', async () => {
    const res = await fetch(`${app.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('keeps idle connections open longer than clients and proxies do (they close first, no reset race)', async () => {
    const keepAlive = await new Promise<unknown>((resolve, reject) => {
      http
        .get(`${app.url}/healthz`, { agent: new http.Agent({ keepAlive: true }) }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers['keep-alive']));
        })
        .on('error', reject);
    });
    assert.equal(keepAlive, 'timeout=65');
  });
});
