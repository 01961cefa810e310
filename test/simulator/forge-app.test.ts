import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ForgeSimulator } from '../../src/simulator/forge';
import { FORGE_EVENT_RETRIES, type ForgeInstallation } from '../../src/simulator/forge-app';
import { apiToken, startFakeApp, startHarness, type FakeApp, type Harness } from './helpers.js';

/**
 * The simulator's Forge app (src/simulator/forge-app.ts): installing it posts Forge's lifecycle event to the
 * remote; the workspace's changes become Forge events, each attempt signed as an invocation token by the
 * simulator's Forge and carrying a system token; the REST API takes those tokens as Bearer, under the gateway
 * prefix of the installation's apiBaseUrl.
 */
describe('simulator: the Forge app', () => {
  let h: Harness;
  let forge: ForgeSimulator;
  let remote: FakeApp;
  let installation: ForgeInstallation;

  before(async () => {
    h = await startHarness();
    forge = await ForgeSimulator.start();
    remote = await startFakeApp();
  });
  after(async () => {
    await remote.close();
    await forge.close();
    await h.close();
  });

  const verify = (token: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(forge.jwksUrl)), {
      issuer: 'forge/invocation-token',
      audience: forge.appId,
      algorithms: ['RS256'],
    });
  const bearerOf = (i: number) => String(remote.requests[i]!.headers.authorization).replace(/^Bearer /, '');

  it('installing posts avi:forge:installed:app to /forge/installed, signed, with a system token', async () => {
    const installed = await h.sim.installForge('acme', { forge, remoteUrl: remote.url });
    installation = installed.installation;
    assert.equal(installed.delivery.status, 204);
    const request = remote.requests.at(-1)!;
    assert.equal(request.path, '/forge/installed');
    assert.equal((request.body as { eventType: string }).eventType, 'avi:forge:installed:app');
    const { payload } = await verify(bearerOf(remote.requests.length - 1));
    const app = payload.app as { installationId: string; apiBaseUrl: string };
    assert.equal(app.installationId, installation.installationId);
    assert.equal(app.apiBaseUrl, installation.apiBaseUrl);
    assert.match(String(request.headers['x-forge-oauth-system']), /^sim-forge-system-/);
  });

  it('a push becomes one Forge push event per ref, beside the Connect webhook', async () => {
    const before = remote.requests.length;
    const pushed = await h.sim.push('acme', 'express', {
      branch: 'master',
      commits: [{ author: { name: 'Ada', email: 'ada@example.com' }, message: 'one\n' }],
    });
    assert.deepEqual(pushed.deliveries.map((d) => d.kind).sort(), ['forge', 'webhook']);
    const event = remote.requests.slice(before).find((r) => r.path === '/forge/events')!;
    const body = event.body as {
      eventType: string;
      repository: { uuid: string; slug: string };
      workspace: { uuid: string };
      push: { ref: string; after: string; commits: { hash: string }[] };
    };
    assert.equal(body.eventType, 'avi:bitbucket:push:repository');
    assert.equal(body.repository.slug, 'express');
    assert.equal(body.workspace.uuid, h.sim.workspace('acme').uuid);
    assert.equal(body.push.ref, 'master');
    assert.equal(body.push.after, pushed.head);
    assert.deepEqual(
      body.push.commits.map((c) => c.hash),
      [pushed.head],
    );
  });

  it('retries a failed event up to 4 times, each attempt freshly signed', async () => {
    remote.script('/forge/events', [500, 503, 429]);
    const before = remote.requests.length;
    const created = await h.sim.createRepository('acme', { slug: 'tools' });
    const forgeDelivery = created.deliveries.find((d) => d.kind === 'forge')!;
    assert.equal(forgeDelivery.status, 204);
    assert.equal(forgeDelivery.attempts, 4);
    const attempts = remote.requests.slice(before).filter((r) => r.path === '/forge/events');
    assert.equal(new Set(attempts.map((r) => r.headers.authorization)).size, 4);
    remote.script('/forge/events', Array(10).fill(500));
    const failed = await h.sim.deleteRepository('acme', 'tools');
    assert.equal(failed.deliveries.find((d) => d.kind === 'forge')!.attempts, 1 + FORGE_EVENT_RETRIES);
    remote.script('/forge/events', []);
  });

  it('the REST API takes its system tokens as Bearer, under the gateway prefix of their own workspace', async () => {
    const token = h.sim.forgeApps.issueSystemToken(installation);
    const get = (url: string, authorization = `Bearer ${token}`) =>
      fetch(url, { headers: { authorization } });
    const workspace = h.sim.workspace('acme').uuid;
    const listing = `${installation.apiBaseUrl}/2.0/repositories/${encodeURIComponent(workspace)}/express/commits?pagelen=1`;
    const res = await get(listing);
    assert.equal(res.status, 200);
    const page = (await res.json()) as { next?: string };
    assert.ok(page.next?.startsWith(`${installation.apiBaseUrl}/2.0/`), 'next keeps the prefix');
    assert.equal(
      (await get(`${h.sim.apiUrl}/2.0/repositories/${encodeURIComponent(workspace)}`)).status,
      200,
    );
    const otherPrefix = listing.replace(
      /\/ex\/bitbucket\/[0-9a-f-]+/,
      `/ex/bitbucket/${crypto.randomUUID()}`,
    );
    assert.equal((await get(otherPrefix)).status, 401);
    assert.equal((await get(listing, `JWT ${apiToken(h.inst, 'GET', listing)}`)).status, 401);
    assert.equal((await get(listing, 'Bearer sim-forge-system-forged')).status, 401);
    h.sim.forgeApps.expireTokens(installation);
    assert.equal((await get(listing)).status, 401);
  });

  it('fires the hourly scheduled trigger at /forge/scheduled, signed, with a fresh system token', async () => {
    const before = remote.requests.length;
    const delivery = await h.sim.fireForgeScheduledTrigger('acme');
    assert.equal(delivery?.status, 204);
    assert.equal(delivery.event, 'scheduledTrigger');
    const request = remote.requests.at(-1)!;
    assert.equal(remote.requests.length, before + 1);
    assert.equal(request.path, '/forge/scheduled');
    assert.equal((request.body as { context: { moduleKey: string } }).context.moduleKey, 'tally-keepalive');
    const { payload } = await verify(bearerOf(remote.requests.length - 1));
    assert.equal((payload.app as { installationId: string }).installationId, installation.installationId);
    const token = String(request.headers['x-forge-oauth-system']);
    const listing = `${installation.apiBaseUrl}/2.0/repositories/${encodeURIComponent(h.sim.workspace('acme').uuid)}`;
    const res = await fetch(listing, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, 'the system token it carries works');
    await res.body?.cancel();
  });

  it('uninstalling tells the remote nothing; its tokens stop working', async () => {
    const token = h.sim.forgeApps.issueSystemToken(installation);
    const before = remote.requests.length;
    h.sim.uninstallForge('acme');
    assert.equal(remote.requests.length, before);
    const res = await fetch(`${installation.apiBaseUrl}/2.0/user`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 401);
    const pushed = await h.sim.push('acme', 'express', {
      branch: 'master',
      commits: [{ author: { name: 'Ada', email: 'ada@example.com' }, message: 'two\n' }],
    });
    assert.deepEqual(
      pushed.deliveries.map((d) => d.kind),
      ['webhook'],
    );
    assert.equal(await h.sim.fireForgeScheduledTrigger('acme'), undefined, 'no trigger once uninstalled');
  });
});
