import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ForgeSimulator } from '../../src/simulator/forge';
import { startTestApp, type TestApp } from '../support/app';

/**
 * Issue 16, Forge events: `POST /forge/events` takes Bitbucket's events for Forge apps, authenticated by the
 * invocation token, validated, stored as webhook deliveries (deduplicated: Forge retries up to 4 times) with their
 * job, and answered 204. Event shapes: developer.atlassian.com/platform/forge/events-reference/bitbucket/.
 */

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function countingHost(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, hits: () => hits };
}

describe('Forge events: POST /forge/events', () => {
  let forge: ForgeSimulator;
  let app: TestApp;
  let admin: pg.Client;
  let elsewhere: Awaited<ReturnType<typeof countingHost>>;
  const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
  const workspaceUuid = `{${randomUUID()}}`;
  const repositoryUuid = `{${randomUUID()}}`;
  let apiBaseUrl = '';
  let tenantId = '';

  before(async () => {
    forge = await ForgeSimulator.start();
    elsewhere = await countingHost();
    app = await startTestApp({ env: { FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl } });
    admin = new pg.Client({ connectionString: app.database.adminUrl });
    await admin.connect();
    apiBaseUrl = `http://127.0.0.1:${elsewhere.port}/ex/bitbucket/${workspaceUuid.slice(1, -1)}`;
  });
  after(async () => {
    await admin.end();
    await app.close();
    await forge.close();
    await new Promise((resolve) => elsewhere.server.close(resolve));
  });

  const fit = (extra: Partial<Parameters<ForgeSimulator['invocationToken']>[0]> = {}) =>
    forge.invocationToken({ installationId, workspaceUuid, apiBaseUrl, ...extra });
  const post = async (body: unknown, token?: string, headers: Record<string, string> = {}) =>
    fetch(`${app.url}/forge/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token ?? (await fit())}`,
        'content-type': 'application/json',
        'x-forge-oauth-system': 'system-token-for-the-test',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const pushEvent = (after: string, timestamp = new Date().toISOString()) => ({
    actor: { type: 'user', accountId: '5ffed3379edf280075d75b20', uuid: `{${randomUUID()}}` },
    repository: { uuid: repositoryUuid, slug: 'repository-slug' },
    project: { uuid: `{${randomUUID()}}` },
    workspace: { uuid: workspaceUuid },
    push: {
      ref: 'main',
      mainbranch: true,
      before: 'a37e0ad81173c7f6707d6b9f74dab4ce9938064d',
      after,
      created: false,
      closed: false,
      forced: false,
      truncated: false,
      commits: [
        {
          hash: after,
          message: { value: 'A commit', truncated: false },
          date: '2026-05-12T01:40:22.000000Z',
          author: { user: { type: 'user', accountId: '5ffed3379edf280075d75b20' } },
        },
      ],
    },
    eventType: 'avi:bitbucket:push:repository',
    timestamp,
  });
  const deliveries = async () =>
    (
      await admin.query(
        `select request_uuid, event, payload from webhook_deliveries where tenant_id = $1 order by received_at`,
        [tenantId],
      )
    ).rows as { request_uuid: string; event: string; payload: Record<string, unknown> }[];
  const jobs = async () =>
    (
      await admin.query(
        `select t.identifier from graphile_worker._private_jobs j
           join graphile_worker._private_tasks t on t.id = j.task_id
          where j.payload->>'tenantId' = $1 and t.identifier in ('sync_pushes', 'process_webhook')
          order by j.id`,
        [tenantId],
      )
    ).rows.map((r: { identifier: string }) => r.identifier);

  it('a push event at the top level is stored as a push delivery with its job, and answered 204', async () => {
    const res = await post(pushEvent('b'.repeat(40)));
    assert.equal(res.status, 204, await res.text());
    const tenant = await app.runtime.tenants.findByClientKey(installationId);
    assert.ok(tenant);
    tenantId = tenant.id;
    assert.equal(tenant.platform, 'forge');
    assert.equal(tenant.workspaceUuid, workspaceUuid);
    const stored = await deliveries();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.event, 'repo:push');
    const push = stored[0]!.payload.push as {
      changes: { new: { name: string; target: { hash: string } } }[];
    };
    assert.equal(push.changes[0]!.new.name, 'main');
    assert.equal(push.changes[0]!.new.target.hash, 'b'.repeat(40));
    assert.deepEqual(await jobs(), ['sync_pushes']);
    // The event's system token was kept, sealed.
    const { rows } = await admin.query('select forge_system_token_enc from tenants where id = $1', [
      tenantId,
    ]);
    assert.match(rows[0].forge_system_token_enc as string, /^v2:/);
  });

  it('a redelivery changes nothing twice; the same event wrapped under `payload` is the same event', async () => {
    const event = pushEvent('c'.repeat(40));
    for (let attempt = 0; attempt < 5; attempt++) assert.equal((await post(event)).status, 204);
    assert.equal((await post({ payload: event, context: { attempt: 6 } })).status, 204);
    assert.equal((await deliveries()).length, 2);
    // A different event (another moment) is another delivery, coalesced into the waiting push job.
    assert.equal((await post({ payload: pushEvent('c'.repeat(40), '2030-01-01T00:00:00Z') })).status, 204);
    assert.equal((await deliveries()).length, 3);
    assert.deepEqual(await jobs(), ['sync_pushes']);
  });

  it('repository and pull-request events become the webhook deliveries the sync already handles', async () => {
    const base = {
      repository: { uuid: repositoryUuid },
      workspace: { uuid: workspaceUuid },
      timestamp: new Date().toISOString(),
    };
    const events = [
      { ...base, eventType: 'avi:bitbucket:created:repository' },
      { ...base, eventType: 'avi:bitbucket:deleted:repository' },
      {
        ...base,
        eventType: 'avi:bitbucket:fulfilled:pullrequest',
        pullrequest: {
          id: 3,
          state: 'MERGED',
          source: { branch: 'feature', commit: { hash: 'cc2758d231fc' } },
          destination: { branch: 'master', commit: { hash: 'a37e0ad81173' } },
          mergeCommit: { hash: '71e4ecfcd2ba' },
          title: { value: 'PR title', truncated: false },
        },
      },
    ];
    for (const event of events) assert.equal((await post(event)).status, 204, event.eventType);
    const stored = (await deliveries()).slice(-3);
    assert.deepEqual(
      stored.map((d) => d.event),
      ['repo:updated', 'repo:deleted', 'pullrequest:fulfilled'],
    );
    assert.deepEqual(stored[2]!.payload.pullrequest, { id: 3, state: 'MERGED', title: 'PR title' });
  });

  it('a bad body is a 400 and stores nothing', async () => {
    const before = (await deliveries()).length;
    const bad: Record<string, unknown> = {
      'not JSON': '{"eventType":',
      'unknown event': { ...pushEvent('d'.repeat(40)), eventType: 'avi:bitbucket:exploded:repository' },
      'no workspace': { ...pushEvent('d'.repeat(40)), workspace: undefined },
      'a hash that is not one': {
        ...pushEvent('d'.repeat(40)),
        push: { ...pushEvent('x').push, after: 'not-a-hash' },
      },
      'control characters': {
        ...pushEvent('d'.repeat(40)),
        repository: { uuid: `${repositoryUuid}\u0000` },
      },
      'an array': [pushEvent('d'.repeat(40))],
    };
    for (const [name, body] of Object.entries(bad)) {
      const res = await post(body);
      assert.equal(res.status, 400, name);
      assert.ok(((await res.json()) as { error: { code: string } }).error.code, name);
    }
    const header = await post(pushEvent('d'.repeat(40)), undefined, { 'x-forge-oauth-system': 'two words' });
    assert.equal(header.status, 400);
    assert.equal((await deliveries()).length, before);
  });

  it('an event naming another workspace than its installation is refused', async () => {
    const res = await post({ ...pushEvent('e'.repeat(40)), workspace: { uuid: `{${randomUUID()}}` } });
    assert.equal(res.status, 401);
  });

  it('forged or misdirected invocation tokens are 401; nothing is stored or requested', async () => {
    const before = (await deliveries()).length;
    const now = Math.floor(Date.now() / 1000);
    const valid = await fit();
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
      'wrong key': await forge.forgedToken(claims, forge.kid),
      'unknown key id': await forge.forgedToken(claims, 'no-such-kid'),
      'wrong app id': await fit({ overrides: { aud: `ari:cloud:ecosystem::app/${randomUUID()}` } }),
      expired: await fit({ overrides: { exp: now - 60, iat: now - 120, nbf: now - 120 } }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      'HS256 with the public key': hs256,
      'apiBaseUrl off the allowlist': await fit({
        apiBaseUrl: `http://localhost:${elsewhere.port}/ex/bitbucket/x`,
      }),
      garbage: 'not-a-token',
    };
    for (const [name, token] of Object.entries(forged)) {
      const res = await post(pushEvent('f'.repeat(40)), token);
      assert.equal(res.status, 401, name);
    }
    const none = await fetch(`${app.url}/forge/events`, { method: 'POST', body: '{}' });
    assert.equal(none.status, 401);
    assert.equal((await deliveries()).length, before);
    assert.equal(elsewhere.hits(), 0);
    // An unknown installation with a token off the allowlist is not created either.
    const other = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const res = await post(
      pushEvent('f'.repeat(40)),
      await fit({ installationId: other, apiBaseUrl: 'https://evil.example.com/ex/bitbucket/x' }),
    );
    assert.equal(res.status, 401);
    assert.equal(await app.runtime.tenants.findByClientKey(other), null);
  });

  it('the installed event is taken wrapped under `payload` too: its context names the workspace', async () => {
    const other = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const workspace = randomUUID();
    const res = await fetch(`${app.url}/forge/installed`, {
      method: 'POST',
      headers: {
        // A token without installation contexts: the workspace can only come from the event.
        authorization: `Bearer ${await forge.invocationToken({ installationId: other, apiBaseUrl })}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        payload: {
          eventType: 'avi:forge:installed:app',
          id: other,
          context: { installContext: `ari:cloud:bitbucket::workspace/${workspace}` },
        },
      }),
    });
    assert.equal(res.status, 204, await res.text());
    assert.equal((await app.runtime.tenants.findByClientKey(other))?.workspaceUuid, `{${workspace}}`);
  });

  it('the system token never appears in the logs', () => {
    assert.deepEqual(
      app.logs.filter((line) => line.includes('system-token-for-the-test')),
      [],
    );
  });
});
