import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jsonwebtoken from 'jsonwebtoken';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import { startTestApp, type TestApp } from '../support/app';
import { install, installPayload, lifecycleJwt, newWorkspace, pageUrl, postJson } from '../support/bitbucket';
import { deliver, pushData } from '../support/webhooks';
import { apiClient, type ApiClient } from '../analytics/helpers';

/**
 * Issue 13: NUL and other control characters in token claims, payload fields, query parameters and settings are
 * the caller's fault: 400 or 401 with the one error shape, never a 5xx (PostgreSQL refuses NUL in text: 22021).
 */
const ODD = ['\u0000', '\u0001', '\u001b', '\u007f'];

describe('control characters are refused at the edge', () => {
  let app: TestApp;
  const ws = newWorkspace('ctl');
  let admin: ApiClient;
  let viewer: ApiClient;
  before(async () => {
    app = await startTestApp();
    assert.equal((await install(app, ws)).status, 204);
    admin = apiClient(app.url, ws, 'configure');
    viewer = apiClient(app.url, ws, 'workspace');
  });
  after(() => app.close());

  const errorOf = async (res: Response) => {
    const text = await res.text();
    return { status: res.status, code: (JSON.parse(text) as { error: { code: string } }).error.code, text };
  };

  it('a validly signed session token with an odd iss, aud, sub or page claim is a 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const base = { iss: 'tally', aud: [ws.clientKey], sub: 'acc-1', iat: now, exp: now + 600 };
    for (const odd of ODD) {
      const claims: Record<string, unknown>[] = [
        { aud: [`${ws.clientKey}${odd}`] },
        { aud: `${odd}${ws.clientKey}` },
        { aud: [odd] },
        { iss: `tally${odd}` },
        { sub: `acc${odd}1` },
        { tally_page: `configure${odd}` },
      ];
      for (const overrides of claims) {
        const token = jsonwebtoken.sign({ ...base, ...overrides }, ws.sharedSecret);
        const res = await fetch(`${app.url}/api/v1/me`, { headers: { authorization: `JWT ${token}` } });
        const { status, code } = await errorOf(res);
        assert.equal(status, 401, JSON.stringify(overrides));
        assert.equal(code, 'unauthenticated');
      }
    }
    // Non-string claims are as odd.
    for (const overrides of [{ aud: [42] }, { sub: { id: 1 } }, { iss: ['tally'] }]) {
      const token = jsonwebtoken.sign({ ...base, ...overrides }, ws.sharedSecret);
      const res = await fetch(`${app.url}/api/v1/me`, { headers: { authorization: `JWT ${token}` } });
      assert.equal(res.status, 401, JSON.stringify(overrides));
    }
    // And a plain one still works.
    const fine = createSessionToken({
      appKey: 'tally',
      clientKey: ws.clientKey,
      secret: ws.sharedSecret,
      scope: scopeForPage('workspace', {}),
    });
    assert.equal(
      (await fetch(`${app.url}/api/v1/me`, { headers: { authorization: `JWT ${fine}` } })).status,
      200,
    );
  });

  it('an iframe page token with odd claims is the 401 page', async () => {
    for (const odd of ODD) {
      for (const overrides of [{ iss: `${ws.clientKey}${odd}` }, { sub: `{viewer${odd}}` }, { aud: odd }]) {
        const res = await fetch(pageUrl(app.url, '/pages/workspace?workspace=ctl', ws, 'v', overrides));
        assert.equal(res.status, 401, JSON.stringify(overrides));
        assert.match(res.headers.get('content-type') ?? '', /text\/html/);
        assert.match(await res.text(), /page-refused/);
      }
    }
    const garbage = await fetch(`${app.url}/pages/workspace?jwt=%00.%01.%02`);
    assert.equal(garbage.status, 401);
  });

  it('lifecycle calls with control characters in the payload or the token are refused', async () => {
    for (const odd of ODD) {
      const other = newWorkspace();
      const payload = { ...installPayload(other), clientKey: `${other.clientKey}${odd}` };
      const res = await postJson(`${app.url}/installed`, payload);
      assert.equal(res.status, 400, JSON.stringify(odd));
      // NUL cannot be stored at all (invalid_text); other control characters are not allowed in identifiers.
      assert.equal(JSON.parse(res.text).error.code, odd === '\u0000' ? 'invalid_text' : 'invalid_request');
      const uninstall = await postJson(
        `${app.url}/uninstalled`,
        { ...installPayload(ws), eventType: 'uninstalled' },
        {
          authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/uninstalled', { iss: `${ws.clientKey}${odd}` })}`,
        },
      );
      assert.equal(uninstall.status, 401);
    }
    // Fields Tally does not read are stored too (client_info): NUL or a lone surrogate anywhere is a 400.
    for (const extra of [{ publicKey: 'k\u0000' }, { extra: { deep: ['\u0000'] } }, { note: '\ud800' }]) {
      const res = await postJson(`${app.url}/installed`, { ...installPayload(newWorkspace()), ...extra });
      assert.equal(res.status, 400, `${JSON.stringify(extra)}: ${res.text}`);
      assert.equal(JSON.parse(res.text).error.code, 'invalid_text');
    }
    assert.equal((await viewer.get('/me')).status, 200, 'still installed');
  });

  it('webhook payload fields with control characters are a 400; odd token claims a 401', async () => {
    const repo = { uuid: '{0b7c3e1a-8f6d-4b8e-9a1c-2d3e4f5a6b7c}', name: 'acme/web' };
    const hash = 'a'.repeat(40);
    for (const odd of ODD) {
      const cases: unknown[] = [
        pushData(repo.uuid, `acme/we${odd}b`, 'main', hash, null),
        pushData(`{0b7c3e1a${odd}}`, repo.name, 'main', hash, null),
        pushData(repo.uuid, repo.name, `ma${odd}in`, hash, null),
      ];
      for (const data of cases) {
        const res = await deliver(app.url, ws, '/webhooks/repo-push', 'repo:push', data);
        assert.equal(res.status, 400, res.body);
        // NUL cannot be stored at all (invalid_text); other control characters are not allowed in identifiers.
        assert.equal(JSON.parse(res.body).error.code, odd === '\u0000' ? 'invalid_text' : 'invalid_request');
      }
      const title = await deliver(app.url, ws, '/webhooks/pullrequest-created', 'pullrequest:created', {
        repository: { type: 'repository', uuid: repo.uuid, full_name: repo.name },
        pullrequest: { id: 7, title: `fix${odd}`, state: 'OPEN' },
      });
      assert.equal(title.status, 400, title.body);
      const token = lifecycleJwt(ws.clientKey, ws.sharedSecret, '/webhooks/repo-push', { aud: `x${odd}` });
      const signed = await deliver(
        app.url,
        ws,
        '/webhooks/repo-push',
        'repo:push',
        pushData(repo.uuid, repo.name, 'main', hash, null),
        {
          authorization: `JWT ${token}`,
        },
      );
      assert.equal(signed.status, 401);
    }
    // A NUL in a field Tally does not read still cannot be stored: 400 invalid_text, not a 500.
    const extra = await deliver(app.url, ws, '/webhooks/repo-push', 'repo:push', {
      ...pushData(repo.uuid, repo.name, 'main', hash, null),
      note: 'a\u0000b',
    });
    assert.equal(extra.status, 400, extra.body);
    assert.equal(JSON.parse(extra.body).error.code, 'invalid_text');
  });

  it('settings, identity merges and consent reasons with control characters are a 400', async () => {
    for (const odd of ODD) {
      const bodies: [string, string, unknown][] = [
        ['PUT', '/settings', { bot_patterns: [`bot${odd}`] }],
        ['PUT', '/settings', { path_exclusions: [`vendor/${odd}**`] }],
        ['PUT', '/settings', { timezone: `UTC${odd}` }],
        ['POST', '/identities/merge', { into: `e:a${odd}@x.org`, from: ['e:b@x.org'] }],
        ['POST', '/identities/merge', { into: 'e:a@x.org', from: [`a:${odd}`] }],
        ['POST', '/support/consent', { days: 2, reason: `ticket ${odd}42` }],
      ];
      for (const [method, path, body] of bodies) {
        const { status, code, text } = await errorOf(await admin.send(method, path, body));
        assert.equal(status, 400, `${method} ${path} ${JSON.stringify(body)}: ${text}`);
        assert.equal(code, 'invalid_request');
      }
      const key = await admin.send(
        'DELETE',
        `/identities/merge/${encodeURIComponent(`e:x${odd}@y.org`)}`,
        {},
      );
      assert.equal(key.status, 400);
    }
    const settings = await viewer.json<{ bot_patterns: string[] }>('/settings');
    assert.deepEqual(settings.bot_patterns, []);
  });

  it('query parameters with control characters are a 400', async () => {
    for (const odd of ODD) {
      const queries: [string, Record<string, string>][] = [
        ['/stats/activity', { contributor: `e:a${odd}@x.org` }],
        ['/stats/activity', { contributor: `a:${odd}` }],
        ['/stats/contributors', { tz: `UTC${odd}` }],
        ['/stats/contributors', { since: `2024-01-0${odd}` }],
        ['/stats/top', { [`limit${odd}`]: '3' }],
        ['/audit', { before: `1${odd}` }],
        ['/export/commits', { repository: `{${odd}}` }],
      ];
      for (const [path, params] of queries) {
        const { status, code } = await errorOf(await viewer.get(path, params));
        assert.equal(status, 400, `${path} ${JSON.stringify(params)}`);
        assert.equal(code, 'invalid_request');
      }
    }
  });

  it('bodies nested too deep for JSON.stringify are a 400, not a stack overflow (found by probing)', async () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const install = JSON.stringify({ ...installPayload(newWorkspace()), extra: 'X' }).replace(
      '"X"',
      deep(30_000),
    );
    const res = await postJson(`${app.url}/installed`, install);
    assert.equal(res.status, 400, res.text);
    assert.match(JSON.parse(res.text).error.message, /nested deeper than 64 levels/);
    const body = `{"event":"repo:updated","data":{"repository":{"uuid":"{a}","full_name":"a/b"},"changes":{"x":${deep(100_000)}}}}`;
    const hook = await deliver(app.url, ws, '/webhooks/repo-updated', 'repo:updated', body);
    assert.equal(hook.status, 400, hook.body);
    // Bitbucket's own nesting passes.
    const fine = await deliver(app.url, ws, '/webhooks/repo-updated', 'repo:updated', {
      repository: { uuid: '{a}', full_name: 'a/b' },
      changes: { name: { new: 'b2', old: 'b' } },
    });
    assert.equal(fine.status, 204, fine.body);
  });
});
