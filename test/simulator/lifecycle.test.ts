import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createQueryStringHash, decodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { startFakeApp, type FakeApp, type RecordedRequest, type Loose } from './helpers.js';

const INSTALLED_QSH = createHash('sha256').update('POST&/installed&').digest('hex');

function claimsOf(req: RecordedRequest, secret: string): Record<string, unknown> {
  const header = String(req.headers.authorization ?? '');
  assert.match(header, /^JWT /);
  return decodeSymmetric(header.slice(4), secret, SymmetricAlgorithm.HS256) as Record<string, unknown>;
}

describe('lifecycle: install, reinstall, uninstall', () => {
  let sim: Simulator;
  let app: FakeApp;
  const lifecycle = (): RecordedRequest[] =>
    app.requests.filter((r) => r.path === '/installed' || r.path === '/uninstalled');

  before(async () => {
    sim = await startSimulator();
    sim.addWorkspace({ slug: 'acme', name: 'Acme Inc' });
    app = await startFakeApp();
  });
  after(async () => {
    await sim.close();
    await app.close();
  });

  it('first install: unsigned POST {baseUrl}/installed with the real payload shape', async () => {
    const res = await sim.install('acme', app.descriptorUrl);
    assert.equal(res.status, 204);
    const [req] = lifecycle();
    assert.equal(req!.method, 'POST');
    assert.equal(req!.headers.authorization, undefined, 'first installs are unsigned');
    assert.match(String(req!.headers['content-type']), /application\/json/);
    const body = req!.body as Record<string, Loose>;
    const ws = sim.workspace('acme');
    assert.equal(body.productType, 'bitbucket');
    assert.equal(body.eventType, 'installed');
    assert.equal(body.key, 'tally');
    assert.equal(body.clientKey, `ari:cloud:bitbucket::app/${ws.uuid}/tally`);
    assert.match(ws.uuid, /^\{[0-9a-f-]{36}\}$/);
    assert.equal(body.sharedSecret, res.sharedSecret);
    assert.ok(body.sharedSecret.length >= 32 && body.sharedSecret.length <= 128);
    assert.equal(typeof body.publicKey, 'string');
    assert.equal(body.baseUrl, sim.webUrl);
    assert.equal(body.baseApiUrl, sim.apiUrl);
    assert.deepEqual(
      {
        type: body.principal.type,
        username: body.principal.username,
        uuid: body.principal.uuid,
        display_name: body.principal.display_name,
      },
      { type: 'team', username: 'acme', uuid: ws.uuid, display_name: 'Acme Inc' },
    );
    assert.deepEqual(body.user, body.principal);
    assert.equal(body.actor.type, 'user');
    assert.equal(
      body.actor.uuid,
      ws.admin.uuid.replace(/[{}]/g, ''),
      'the captured actor uuid has no braces',
    );
    assert.equal(body.actor.account_id, ws.admin.account_id);
  });

  it('reinstall: signed with the previous secret (iss = aud = clientKey, qsh POST&/installed&, exp = iat + 3600, no sub)', async () => {
    const first = sim.installation('acme')!;
    const res = await sim.install('acme', app.descriptorUrl);
    assert.equal(res.status, 204);
    assert.notEqual(res.sharedSecret, first.sharedSecret);
    const req = lifecycle().at(-1)!;
    const claims = claimsOf(req, first.sharedSecret);
    assert.equal(claims.iss, first.clientKey);
    assert.deepEqual(claims.aud, [first.clientKey]);
    assert.equal(claims.qsh, INSTALLED_QSH);
    assert.equal(claims.qsh, createQueryStringHash(fromMethodAndUrl('POST', `${app.url}${req.url}`)));
    assert.equal(claims.exp, (claims.iat as number) + 3600);
    assert.equal(claims.sub, undefined);
    assert.throws(() => claimsOf(req, res.sharedSecret), 'not signed with the new secret');
    assert.equal((req.body as { sharedSecret: string }).sharedSecret, res.sharedSecret);
  });

  it('uninstall: POST /uninstalled signed with the current secret, eventType uninstalled, no sharedSecret', async () => {
    const current = sim.installation('acme')!;
    const res = await sim.uninstall('acme');
    assert.equal(res.status, 204);
    const req = lifecycle().at(-1)!;
    assert.equal(req.path, '/uninstalled');
    const claims = claimsOf(req, current.sharedSecret);
    assert.equal(claims.iss, current.clientKey);
    assert.equal(claims.qsh, createHash('sha256').update('POST&/uninstalled&').digest('hex'));
    const body = req.body as Record<string, unknown>;
    assert.equal(body.eventType, 'uninstalled');
    assert.equal(body.clientKey, current.clientKey);
    assert.equal('sharedSecret' in body, false);
    assert.equal(sim.installation('acme')!.active, false);
  });

  it('install after uninstall: signed with the secret from before the uninstall', async () => {
    const before = sim.installation('acme')!;
    const res = await sim.install('acme', app.descriptorUrl);
    assert.equal(res.status, 204);
    const claims = claimsOf(lifecycle().at(-1)!, before.sharedSecret);
    assert.equal(claims.iss, before.clientKey);
    assert.equal(sim.installation('acme')!.active, true);
  });

  it('a failed install callback leaves the previous secret in force', async () => {
    const before = sim.installation('acme')!.sharedSecret;
    app.script('/installed', [500]);
    const res = await sim.install('acme', app.descriptorUrl);
    assert.equal(res.status, 500);
    assert.equal(sim.installation('acme')!.sharedSecret, before);
  });

  it('records every lifecycle call as a delivery', () => {
    const calls = sim.deliveries.filter((d) => d.kind === 'lifecycle').map((d) => [d.event, d.status]);
    assert.deepEqual(calls, [
      ['installed', 204],
      ['installed', 204],
      ['uninstalled', 204],
      ['installed', 204],
      ['installed', 500],
    ]);
  });

  it('rejects a descriptor whose key is not the app key', async () => {
    const other = await startFakeApp({ key: 'someone-else' });
    try {
      await assert.rejects(sim.install('acme', other.descriptorUrl), /appKey/);
    } finally {
      await other.close();
    }
  });
});
