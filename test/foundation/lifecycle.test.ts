import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestApp, type TestApp } from '../support/app';
import { install, installPayload, lifecycleJwt, newWorkspace, postJson } from '../support/bitbucket';

describe('lifecycle', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  const tenantRow = async (clientKey: string) => {
    const client = new pg.Client({ connectionString: app.database.adminUrl });
    await client.connect();
    const { rows } = await client.query('select * from tenants where client_key = $1', [clientKey]);
    await client.end();
    return rows[0];
  };

  it('serves the descriptor with baseUrl, the exact scopes and every module', async () => {
    const res = await fetch(`${app.url}/atlassian-connect.json`);
    assert.equal(res.status, 200);
    const d = await res.json();
    assert.equal(d.key, 'tally');
    assert.equal(d.baseUrl, app.url);
    assert.deepEqual(d.authentication, { type: 'jwt' });
    assert.deepEqual(d.contexts, ['account']);
    assert.deepEqual([...d.scopes].sort(), ['account', 'email', 'pullrequest', 'repository', 'webhook']);
    assert.deepEqual(d.lifecycle, { installed: '/installed', uninstalled: '/uninstalled' });
    assert.equal(d.modules.repoPages.length, 1);
    assert.equal(d.modules.adminPages.length, 1);
    assert.equal(d.modules.configurePage.length, 1);
    assert.equal(d.modules.profileTabs.length, 1);
    assert.deepEqual(d.modules.webhooks.map((w: { event: string }) => w.event).sort(), [
      'pullrequest:created',
      'pullrequest:fulfilled',
      'pullrequest:rejected',
      'pullrequest:updated',
      'repo:deleted',
      'repo:push',
      'repo:updated',
    ]);
  });

  it('accepts an unsigned first install, refuses an unsigned reinstall, accepts a signed one', async () => {
    const ws = newWorkspace();
    assert.equal((await install(app, ws)).status, 204);
    const first = await tenantRow(ws.clientKey);
    assert.equal(first.state, 'installed');

    const unsigned = await install(app, { ...ws, sharedSecret: 'a-new-secret-from-an-attacker-0000' });
    assert.equal(unsigned.status, 401);
    assert.equal((await tenantRow(ws.clientKey)).shared_secret_enc, first.shared_secret_enc, 'unchanged');

    const wrong = await install(app, ws, 'not-the-stored-secret-0000000000');
    assert.equal(wrong.status, 401);

    const rotated = { ...ws, sharedSecret: 'rotated-secret-1234567890-abcdef' };
    const payload = installPayload(rotated);
    const signed = await postJson(`${app.url}/installed`, payload, {
      authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/installed')}`,
    });
    assert.equal(signed.status, 204);
    const after = await tenantRow(ws.clientKey);
    assert.equal(after.id, first.id, 'same tenant');
    assert.notEqual(after.shared_secret_enc, first.shared_secret_enc, 'secret rotated');
  });

  it('a signature over another path (qsh) or for another client is refused', async () => {
    const ws = newWorkspace();
    await install(app, ws);
    const badQsh = await postJson(`${app.url}/installed`, installPayload(ws), {
      authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/uninstalled')}`,
    });
    assert.equal(badQsh.status, 401);
    const other = newWorkspace();
    await install(app, other);
    const crossed = await postJson(`${app.url}/installed`, installPayload(ws), {
      authorization: `JWT ${lifecycleJwt(other.clientKey, other.sharedSecret, '/installed')}`,
    });
    assert.equal(crossed.status, 401);
  });

  it('uninstall must be signed; it keeps the data and schedules deletion 60 days out; reinstall revives it', async () => {
    const ws = newWorkspace();
    await install(app, ws);
    const body = { ...installPayload(ws), eventType: 'uninstalled', sharedSecret: undefined };
    assert.equal((await postJson(`${app.url}/uninstalled`, body)).status, 401);
    assert.equal(
      (
        await postJson(`${app.url}/uninstalled`, body, {
          authorization: `JWT ${lifecycleJwt(ws.clientKey, 'wrong-secret-0000000000000000', '/uninstalled')}`,
        })
      ).status,
      401,
    );
    assert.equal((await tenantRow(ws.clientKey)).state, 'installed');

    const res = await postJson(`${app.url}/uninstalled`, body, {
      authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/uninstalled')}`,
    });
    assert.equal(res.status, 204);
    const row = await tenantRow(ws.clientKey);
    assert.equal(row.state, 'uninstalled');
    const days = (row.delete_after.getTime() - row.uninstalled_at.getTime()) / 86_400_000;
    assert.equal(days, 60);

    // Bitbucket signs the first install after an uninstall with the previous secret.
    assert.equal((await install(app, ws)).status, 401);
    assert.equal((await install(app, ws, ws.sharedSecret)).status, 204);
    const revived = await tenantRow(ws.clientKey);
    assert.equal(revived.id, row.id);
    assert.equal(revived.state, 'installed');
    assert.equal(revived.delete_after, null);
  });

  it('refuses an install naming a host off the allowlist, without sending it a request', async () => {
    let hits = 0;
    const trap: Server = createServer((_req, res) => {
      hits += 1;
      res.end('{}');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', () => resolve()));
    const port = (trap.address() as { port: number }).port;
    try {
      for (const [baseUrl, baseApiUrl] of [
        [`http://localhost:${port}`, 'https://api.bitbucket.org'],
        ['https://bitbucket.org', `http://localhost:${port}`],
        ['https://bitbucket.org.evil.example', 'https://api.bitbucket.org'],
        ['https://user:pw@bitbucket.org', 'https://api.bitbucket.org'],
      ]) {
        const ws = newWorkspace();
        const res = await postJson(`${app.url}/installed`, installPayload(ws, baseUrl, baseApiUrl));
        assert.ok(res.status >= 400 && res.status < 500, `${baseUrl} ${baseApiUrl} → ${res.status}`);
        assert.equal(await tenantRow(ws.clientKey), undefined);
      }
      // An RS256 "signed install" would make ACE fetch a public key over the network: refused up front.
      const ws = newWorkspace();
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'x' })).toString(
        'base64url',
      );
      const claims = Buffer.from(JSON.stringify({ iss: ws.clientKey })).toString('base64url');
      const res = await postJson(`${app.url}/installed`, installPayload(ws), {
        authorization: `JWT ${header}.${claims}.sig`,
      });
      assert.equal(res.status, 401);
      assert.equal(hits, 0);
    } finally {
      trap.close();
    }
  });

  it('answers malformed lifecycle bodies with a 4xx and a short reason, never a 5xx', async () => {
    const ws = newWorkspace();
    const good = installPayload(ws);
    const bodies: unknown[] = [
      'not json at all',
      '{"clientKey": ',
      '[]',
      'null',
      '42',
      {},
      { ...good, clientKey: undefined },
      { ...good, clientKey: 123 },
      { ...good, sharedSecret: null },
      { ...good, baseUrl: 7 },
      { ...good, baseUrl: 'not a url' },
      { ...good, clientKey: 'x'.repeat(100_000) },
      { ...good, sharedSecret: 's'.repeat(5000) },
      { ...good, principal: 'team' },
      { ...good, productType: 'jira' },
      { ...good, eventType: 'uninstalled' },
      { ...good, key: 'another-app' },
    ];
    for (const body of bodies) {
      for (const path of ['/installed', '/uninstalled']) {
        const res = await postJson(`${app.url}${path}`, body);
        assert.ok(
          res.status >= 400 && res.status < 500,
          `${path} ${JSON.stringify(body).slice(0, 60)} → ${res.status}`,
        );
        const reason = JSON.parse(res.text).error.message;
        assert.equal(typeof reason, 'string');
        assert.ok(reason.length < 300);
      }
    }
    const huge = await postJson(
      `${app.url}/installed`,
      JSON.stringify({ ...good, pad: 'x'.repeat(2_000_000) }),
    );
    assert.equal(huge.status, 413);
  });
});
