import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  fetchUserRepositoryPermissions,
  MAX_PERMISSION_PAGES,
  REFUSAL_COOLDOWN_MS,
  UserTokenMismatchError,
  ViewerPermissionsCache,
  type UserPermissionsQuery,
} from '../../src/bitbucket/user-permissions';
import { BitbucketApiError } from '../../src/bitbucket/client';

/**
 * The user-permission reader against a Bitbucket that misbehaves: `next` links that leave the endpoint or the host,
 * endless paging, someone else's permissions, a workspace the user is not in. Nothing may be requested outside the
 * endpoint under apiBaseUrl, and nothing but a verified list may come back.
 */

type Answer = (req: IncomingMessage, base: string) => { status: number; body: unknown };

async function host(answer: Answer): Promise<{ server: Server; base: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    const { status, body } = answer(req, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const WS = '{11111111-1111-4111-8111-111111111111}';
const repo = (n: number) => `{00000000-0000-4000-8000-${String(n).padStart(12, '0')}}`;
const entry = (n: number, permission = 'read', accountId = 'acc-1') => ({
  type: 'repository_permission',
  permission,
  user: { type: 'user', account_id: accountId, uuid: '{22222222-2222-4222-8222-222222222222}' },
  repository: { type: 'repository', uuid: repo(n).toUpperCase(), full_name: `ws/r${n}` },
});

describe('reading a viewer’s repository permissions', () => {
  const servers: Server[] = [];
  let other: Awaited<ReturnType<typeof host>>;
  before(async () => {
    other = await host(() => ({ status: 200, body: { values: [entry(99, 'admin')] } }));
    servers.push(other.server);
  });
  after(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

  const start = async (answer: Answer) => {
    const h = await host(answer);
    servers.push(h.server);
    const query: UserPermissionsQuery = {
      apiBaseUrl: `${h.base}/ex/bitbucket/${WS.slice(1, -1)}`,
      workspaceUuid: WS,
      userToken: 'user-token-secret',
      accountId: 'acc-1',
    };
    return { ...h, query };
  };

  it('follows the pages of the endpoint under apiBaseUrl, with the user token, and keeps what grants access', async () => {
    const bb = await start((req, base) => {
      const page = new URL(req.url!, base).searchParams.get('page') ?? '1';
      return page === '1'
        ? {
            status: 200,
            body: {
              values: [entry(1), entry(2, 'none')],
              next: `${base}${req.url!.split('?')[0]}?pagelen=100&page=2`,
            },
          }
        : { status: 200, body: { values: [entry(3, 'admin'), entry(1, 'write')] } };
    });
    assert.deepEqual((await fetchUserRepositoryPermissions(bb.query)).sort(), [repo(1), repo(3)]);
    assert.equal(bb.seen.length, 2);
    for (const line of bb.seen)
      assert.match(
        line,
        /^GET \/ex\/bitbucket\/[0-9a-f-]+\/2\.0\/user\/workspaces\/%7B[0-9a-f-]+%7D\/permissions\/repositories\?pagelen=100(&page=2)? Bearer user-token-secret$/,
      );
  });

  it('refuses a next link to another host or another endpoint, without requesting it', async () => {
    for (const next of [
      (_base: string) => `${other.base}/ex/bitbucket/x/2.0/user/workspaces/x/permissions/repositories`,
      (base: string) => `${base}/ex/bitbucket/x/2.0/repositories/ws`,
      (base: string) => `${base}/2.0/user/workspaces/x/permissions/repositories`,
    ]) {
      const bb = await start((_req, base) => ({
        status: 200,
        body: { values: [entry(1)], next: next(base) },
      }));
      await assert.rejects(fetchUserRepositoryPermissions(bb.query), BitbucketApiError);
      assert.equal(bb.seen.length, 1);
    }
    assert.equal(other.seen.length, 0, 'the other host was never asked');
  });

  it(`stops after ${MAX_PERMISSION_PAGES} pages`, async () => {
    const bb = await start((req, base) => ({
      status: 200,
      body: { values: [entry(1)], next: `${base}${req.url!.split('?')[0]}?page=${Math.random()}` },
    }));
    await assert.rejects(fetchUserRepositoryPermissions(bb.query), /more than 100 pages/);
    assert.equal(bb.seen.length, MAX_PERMISSION_PAGES);
  });

  it("refuses someone else's permissions; a workspace the user is not in is no permission; 401 and junk are errors", async () => {
    const theirs = await start(() => ({ status: 200, body: { values: [entry(1, 'read', 'acc-2')] } }));
    await assert.rejects(fetchUserRepositoryPermissions(theirs.query), UserTokenMismatchError);
    const outsider = await start(() => ({ status: 403, body: { type: 'error' } }));
    assert.deepEqual(await fetchUserRepositoryPermissions(outsider.query), []);
    const refused = await start(() => ({ status: 401, body: { type: 'error' } }));
    const cache = new ViewerPermissionsCache();
    assert.deepEqual(await cache.lookup('t1', refused.query), { refused: 'Bitbucket refused it' });
    const junk = await start(() => ({
      status: 200,
      body: { values: [{ permission: 'read', repository: {} }] },
    }));
    assert.ok('unavailable' in (await cache.lookup('t2', junk.query)));
  });

  it('caches per viewer for the TTL only, bounded, sharing concurrent misses and never a failure', async () => {
    let now = 0;
    let calls = 0;
    let fail = false;
    const cache = new ViewerPermissionsCache(
      async () => {
        calls++;
        if (fail) throw new Error('down');
        return [repo(calls)];
      },
      { ttlMs: 1000, maxEntries: 2, now: () => now },
    );
    const q = (accountId: string): UserPermissionsQuery => ({
      apiBaseUrl: 'http://127.0.0.1:1',
      workspaceUuid: WS,
      userToken: 'user-token-secret',
      accountId,
    });
    const [a, b] = await Promise.all([cache.readable('t', q('a')), cache.readable('t', q('a'))]);
    assert.deepEqual([a, b, calls], [[repo(1)], [repo(1)], 1]);
    now = 999;
    assert.deepEqual(await cache.readable('t', q('a')), [repo(1)]);
    now = 1000;
    assert.deepEqual(await cache.readable('t', q('a')), [repo(2)], 'expired after the TTL');
    await cache.readable('other-tenant', q('a'));
    await cache.readable('t', q('b'));
    assert.equal(calls, 4, 'the tenant is part of the key');
    await cache.readable('t', q('a'));
    assert.equal(calls, 5, 'the least recently used went first (two entries at most)');
    fail = true;
    assert.ok('unavailable' in (await cache.lookup('t', q('c'))));
    fail = false;
    assert.deepEqual(await cache.readable('t', q('c')), [repo(7)], 'a failure is not cached');
  });

  it('after a refusal the viewer falls back for 30 s without a call: made-up tokens cost one call per viewer', async () => {
    let now = 0;
    const genuine = 'genuine-user-token';
    const h = await start((req) =>
      req.headers.authorization === `Bearer ${genuine}`
        ? { status: 200, body: { values: [entry(1)] } }
        : req.headers.authorization === 'Bearer theirs-token'
          ? { status: 200, body: { values: [entry(1, 'read', 'acc-2')] } }
          : { status: 401, body: { type: 'error' } },
    );
    const cache = new ViewerPermissionsCache(undefined, { now: () => now });
    const as = (userToken: string, accountId = 'acc-1') => ({ ...h.query, userToken, accountId });
    assert.deepEqual(await cache.lookup('t', as('made-up-0')), { refused: 'Bitbucket refused it' });
    for (let i = 1; i <= 50; i++) assert.ok('unavailable' in (await cache.lookup('t', as(`made-up-${i}`))));
    assert.equal(h.seen.length, 1, 'one call for 51 tokens');
    // Another account, or the same one in another tenant, is asked about as usual.
    assert.ok('refused' in (await cache.lookup('t', as('made-up-x', 'acc-3'))));
    assert.ok('refused' in (await cache.lookup('t2', as('made-up-y'))));
    assert.equal(h.seen.length, 3);
    // The genuine token within the cooldown: the fallback, no call; at its end, the answer.
    now = REFUSAL_COOLDOWN_MS - 1;
    assert.ok('unavailable' in (await cache.lookup('t', as(genuine))));
    assert.equal(h.seen.length, 3);
    now = REFUSAL_COOLDOWN_MS;
    assert.deepEqual(await cache.lookup('t', as(genuine)), { readable: [repo(1)] });
    assert.equal(h.seen.length, 4);
    // Someone else's token starts a cooldown too.
    assert.ok('refused' in (await cache.lookup('t3', as('theirs-token'))));
    assert.ok('unavailable' in (await cache.lookup('t3', as(genuine))));
    assert.equal(h.seen.length, 5);
  });
});
