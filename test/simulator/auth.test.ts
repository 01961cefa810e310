import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiToken, startFakeApp, startHarness, type Harness } from './helpers.js';

describe('API authentication (Connect JWT)', () => {
  let h: Harness;
  let url: string;

  before(async () => {
    h = await startHarness();
    url = `${h.sim.apiUrl}/2.0/repositories/acme/express/commits?include=master&pagelen=5`;
  });
  after(() => h.close());

  const call = async (target: string, authorization?: string) => {
    const res = await fetch(target, authorization ? { headers: { Authorization: authorization } } : {});
    return {
      status: res.status,
      body: (await res.json()) as { type: string; error: { message: string; detail?: string } },
    };
  };

  it('accepts a token with iss = app key, sub = clientKey and the request qsh', async () => {
    assert.equal((await call(url, `JWT ${apiToken(h.inst, 'GET', url)}`)).status, 200);
  });

  const rejects: [string, () => string | undefined][] = [
    ['no Authorization header', () => undefined],
    ['a Bearer token', () => `Bearer ${apiToken(h.inst, 'GET', url)}`],
    [
      'a token signed with the wrong secret',
      () => `JWT ${apiToken(h.inst, 'GET', url, {}, 'not-the-secret')}`,
    ],
    ['a qsh for another query', () => `JWT ${apiToken(h.inst, 'GET', `${url}&exclude=4.x`)}`],
    ['a qsh for another method', () => `JWT ${apiToken(h.inst, 'POST', url)}`],
    [
      'an expired token',
      () => `JWT ${apiToken(h.inst, 'GET', url, { exp: Math.floor(Date.now() / 1000) - 1 })}`,
    ],
    ['no exp', () => `JWT ${apiToken(h.inst, 'GET', url, { exp: undefined })}`],
    ['iss not the app key', () => `JWT ${apiToken(h.inst, 'GET', url, { iss: 'someone-else' })}`],
    [
      'an unknown clientKey in sub',
      () => `JWT ${apiToken(h.inst, 'GET', url, { sub: 'ari:cloud:bitbucket::app/{x}/tally' })}`,
    ],
    ['garbage', () => 'JWT not.a.jwt'],
  ];
  for (const [name, header] of rejects) {
    it(`401s ${name}, with an error body`, async () => {
      const res = await call(url, header());
      assert.equal(res.status, 401);
      assert.equal(res.body.type, 'error');
      assert.equal(typeof res.body.error.message, 'string');
    });
  }

  it('qsh covers the sorted query: repeated params in any order verify', async () => {
    const a = `${h.sim.apiUrl}/2.0/repositories/acme/express/commits?exclude=4.x&include=master&include=5.x`;
    const b = `${h.sim.apiUrl}/2.0/repositories/acme/express/commits?include=5.x&exclude=4.x&include=master`;
    assert.equal((await call(b, `JWT ${apiToken(h.inst, 'GET', a)}`)).status, 200);
  });

  it("forbids reading another workspace's repositories", async () => {
    h.sim.addWorkspace({ slug: 'other' });
    h.sim.addRepository('other', { slug: 'secret', history: { commits: [], refs: { branches: {} } } });
    const target = `${h.sim.apiUrl}/2.0/repositories/other/secret`;
    assert.equal((await call(target, `JWT ${apiToken(h.inst, 'GET', target)}`)).status, 403);
    const list = `${h.sim.apiUrl}/2.0/repositories/other`;
    assert.equal((await call(list, `JWT ${apiToken(h.inst, 'GET', list)}`)).status, 403);
    const missing = `${h.sim.apiUrl}/2.0/repositories/nowhere/secret`;
    assert.equal((await call(missing, `JWT ${apiToken(h.inst, 'GET', missing)}`)).status, 404);
  });

  it('resolves workspace and repository by {uuid} (URL-encoded braces)', async () => {
    const repo = h.sim.repository('acme', 'express');
    const target = `${h.sim.apiUrl}/2.0/repositories/${encodeURIComponent(repo.workspace.uuid)}/${encodeURIComponent(repo.uuid)}`;
    const res = await call(target, `JWT ${apiToken(h.inst, 'GET', target)}`);
    assert.equal(res.status, 200);
  });

  it('stops accepting the secret after uninstall, and the new one after reinstall', async () => {
    const app = await startFakeApp();
    try {
      const sim = h.sim;
      sim.addWorkspace({ slug: 'cycle' });
      const first = await sim.install('cycle', app.descriptorUrl);
      const target = `${sim.apiUrl}/2.0/user`;
      assert.equal((await call(target, `JWT ${apiToken(first, 'GET', target)}`)).status, 200);
      await sim.uninstall('cycle');
      assert.equal((await call(target, `JWT ${apiToken(first, 'GET', target)}`)).status, 401);
      const second = await sim.install('cycle', app.descriptorUrl);
      assert.equal(second.clientKey, first.clientKey);
      assert.notEqual(second.sharedSecret, first.sharedSecret);
      assert.equal((await call(target, `JWT ${apiToken(first, 'GET', target)}`)).status, 401);
      assert.equal((await call(target, `JWT ${apiToken(second, 'GET', target)}`)).status, 200);
    } finally {
      await app.close();
    }
  });

  it('answers 403 when the descriptor lacks the scope an endpoint needs', async () => {
    const app = await startFakeApp({
      descriptor: (baseUrl) => ({
        key: 'tally',
        baseUrl,
        lifecycle: { installed: '/installed' },
        scopes: ['repository'],
        modules: {},
      }),
    });
    try {
      h.sim.addWorkspace({ slug: 'narrow' });
      const inst = await h.sim.install('narrow', app.descriptorUrl);
      const emails = `${h.sim.apiUrl}/2.0/user/emails`;
      assert.equal((await call(emails, `JWT ${apiToken(inst, 'GET', emails)}`)).status, 403);
      const list = `${h.sim.apiUrl}/2.0/repositories/narrow`;
      assert.equal((await call(list, `JWT ${apiToken(inst, 'GET', list)}`)).status, 200);
    } finally {
      await app.close();
    }
  });
});
