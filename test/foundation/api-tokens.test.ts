import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  apiClient,
  load,
  startAnalyticsApp,
  tokenClient,
  type AnalyticsFixture,
  type ApiClient,
} from '../analytics/helpers';
import { install, newWorkspace } from '../support/bitbucket';
import { readExport } from '../support/load-export';

/**
 * Issue 18, item 4: read-only API tokens for scripts and BI tools. Created, listed and revoked from the configure
 * page; `Authorization: Bearer` on every read route, never on admin routes; limited and counted per token.
 */
describe('API tokens', () => {
  let f: AnalyticsFixture;
  // A clock the test moves: the rate limit counts per minute.
  let clock = new Date('2026-03-02T10:00:05Z');

  const create = async (name: string, client: ApiClient = f.admin) => {
    const res = await client.send('POST', '/tokens', { name });
    const body = await res.json();
    assert.equal(res.status, 201, JSON.stringify(body));
    return body as { id: number; name: string; token: string; created_at: string; created_by: string };
  };
  const code = async (res: Response) => [
    res.status,
    ((await res.json()) as { error: { code: string } }).error.code,
  ];
  const audit = async () =>
    (
      await f.admin.json<{ entries: { actor: string; action: string; details: Record<string, unknown> }[] }>(
        '/audit',
      )
    ).entries;

  before(async () => {
    f = await startAnalyticsApp({ now: () => clock });
    const commits = readExport();
    await load(f, commits.slice(0, 200), { repository: { fullName: 'acme/private-one' } });
    await load(f, commits.slice(200, 400), { repository: { fullName: 'acme/private-two' } });
  });
  after(() => f.app.close());

  it('creates a token shown once, stores only its SHA-256, and lists tokens without secrets', async () => {
    const created = await create('Looker');
    assert.match(created.token, /^tly_[A-Za-z0-9_-]{43}$/);
    assert.ok(!created.token.includes('.'), 'never parses as a JWT');
    assert.equal(created.name, 'Looker');
    assert.equal(created.created_by, 'user:acc-admin');

    const { keys, rows } = await f.app.runtime.db.withTenant(f.tenantId, async (trx) => {
      await trx.raw(`select set_config('app.system', 'on', true)`);
      return { keys: await trx('api_token_keys').select('*'), rows: await trx('api_tokens').select('*') };
    });
    const hash = createHash('sha256').update(created.token).digest();
    assert.ok(keys.some((k) => Buffer.compare(k.token_hash, hash) === 0 && k.token_id === created.id));
    assert.ok(!JSON.stringify([keys, rows]).includes(created.token.slice(4)), 'the secret is stored nowhere');

    const listed = await f.admin.json<{ tokens: Record<string, unknown>[] }>('/tokens');
    const mine = listed.tokens.find((t) => t.id === created.id)!;
    assert.deepEqual(Object.keys(mine).sort(), ['created_at', 'created_by', 'id', 'last_used_at', 'name']);
    assert.equal(mine.last_used_at, null);
    assert.ok(!JSON.stringify(listed).includes(created.token));

    const entry = (await audit()).find((e) => e.action === 'api_token.created')!;
    assert.deepEqual(entry.details, { token_id: created.id, name: 'Looker' });
  });

  it('reads every analytics route with the whole-workspace scope, never an admin route', async () => {
    const bi = tokenClient(f.app.url, (await create('BI')).token);
    const me = await bi.json<{ scope: Record<string, unknown>; accountId: unknown }>('/me');
    assert.deepEqual(me.scope, {
      page: null,
      kind: 'workspace',
      admin: false,
      repositories: null,
      contributor: null,
      visibility: 'all',
    });
    // The same numbers as the workspace page, private repositories included.
    const all = { merges: 'include', bots: 'include' };
    for (const path of ['/stats/contributors', '/stats/activity', '/pull-requests/stats'])
      assert.deepEqual(await bi.json(path, all), await f.api.json(path, all), path);
    assert.equal((await bi.json<{ repositories: unknown[] }>('/repositories')).repositories.length, 2);
    const csv = await bi.get('/export/commits', { format: 'csv' });
    assert.equal(csv.status, 200);
    assert.ok((await csv.text()).split('\n').length > 100);

    for (const [method, path, body] of [
      ['GET', '/settings'],
      ['GET', '/audit'],
      ['GET', '/tokens'],
      ['POST', '/tokens', { name: 'another' }],
      ['PUT', '/settings', {}],
      ['POST', '/data/delete', { confirm: f.ws.slug }],
    ] as const) {
      const res = method === 'GET' ? await bi.get(path) : await bi.send(method, path, body ?? {});
      assert.deepEqual(await code(res), [403, 'admin_only'], `${method} ${path}`);
    }
  });

  it('is managed from the configure page only', async () => {
    assert.deepEqual(await code(await f.api.send('POST', '/tokens', { name: 'x' })), [403, 'admin_only']);
    const repoPage = apiClient(f.app.url, f.ws, 'repository', {
      repoUuid: '{00000000-0000-4000-8000-000000000001}',
    });
    assert.deepEqual(await code(await repoPage.get('/tokens')), [403, 'outside_scope']);
    assert.equal((await f.api.get('/tokens')).status, 200, 'the workspace page (admins) may list');
    for (const body of [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 'a\u0000b' },
      { name: 1 },
    ]) {
      const res = await f.admin.send('POST', '/tokens', body);
      assert.deepEqual(await code(res), [400, 'invalid_request'], JSON.stringify(body));
    }
    for (const id of ['abc', '0', '-1', '1.5', '99999999999999999999'])
      assert.deepEqual(
        await code(await f.admin.send('DELETE', `/tokens/${id}`, {})),
        [400, 'invalid_request'],
        id,
      );
  });

  it('refuses malformed, unknown and JWT-shaped bearer tokens with a 401', async () => {
    const real = (await create('real')).token;
    for (const bearer of [
      'tly_short',
      `tly_${'A'.repeat(43)}`,
      `${real}x`,
      real.slice(0, -1),
      `tly_${'A'.repeat(20)}.${'B'.repeat(22)}`,
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
      'opaque',
    ]) {
      const res = await fetch(`${f.app.url}/api/v1/stats/contributors`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      assert.deepEqual(await code(res), [401, 'unauthenticated'], bearer);
    }
  });

  it('limits each token per minute (429 rate_limited with Retry-After) and counts every use in the audit log', async () => {
    clock = new Date('2026-03-02T10:07:10Z');
    const created = await create('Nightly script');
    const script = tokenClient(f.app.url, created.token);
    const other = tokenClient(f.app.url, (await create('other')).token);
    for (let i = 0; i < 120; i++) assert.equal((await script.get('/me')).status, 200, `request ${i + 1}`);
    const refused = await script.get('/stats/contributors');
    assert.deepEqual(await code(refused), [429, 'rate_limited']);
    assert.equal(refused.headers.get('retry-after'), '50');
    assert.equal((await other.get('/me')).status, 200, 'another token has its own limit');
    assert.equal((await f.api.get('/me')).status, 200, 'session tokens are not limited by it');

    const used = (await audit()).filter(
      (e) => e.action === 'api_token.used' && e.actor === `token:${created.id}`,
    );
    assert.deepEqual(
      used.map((e) => e.details),
      [{ token_id: created.id, name: 'Nightly script', minute: '2026-03-02T10:07:00.000Z', requests: 121 }],
    );

    clock = new Date('2026-03-02T10:08:00Z');
    assert.equal((await script.get('/stats/contributors')).status, 200, 'the next minute is a new window');
    const listed = await f.admin.json<{ tokens: { id: number; last_used_at: string }[] }>('/tokens');
    assert.equal(listed.tokens.find((t) => t.id === created.id)!.last_used_at, '2026-03-02T10:08:00.000Z');
    const minutes = (await audit()).filter(
      (e) => e.action === 'api_token.used' && e.actor === `token:${created.id}`,
    );
    assert.deepEqual(
      minutes.map((e) => [e.details.minute, e.details.requests]),
      [
        ['2026-03-02T10:08:00.000Z', 1],
        ['2026-03-02T10:07:00.000Z', 121],
      ],
    );
  });

  it('revokes at once; another workspace can neither use nor revoke a token', async () => {
    const created = await create('to revoke');
    const client = tokenClient(f.app.url, created.token);
    assert.equal((await client.get('/me')).status, 200);

    const other = await startOtherWorkspace();
    assert.deepEqual(await code(await other.send('DELETE', `/tokens/${created.id}`, {})), [404, 'not_found']);
    assert.ok(
      !(await other.json<{ tokens: { id: number; name: string }[] }>('/tokens')).tokens.some(
        (t) => t.name === 'to revoke',
      ),
    );
    assert.equal((await client.get('/me')).status, 200, 'still live');

    assert.equal((await f.admin.send('DELETE', `/tokens/${created.id}`, {})).status, 204);
    assert.deepEqual(await code(await client.get('/me')), [401, 'unauthenticated']);
    assert.deepEqual(await code(await f.admin.send('DELETE', `/tokens/${created.id}`, {})), [
      404,
      'not_found',
    ]);
    const listed = await f.admin.json<{ tokens: { id: number }[] }>('/tokens');
    assert.ok(!listed.tokens.some((t) => t.id === created.id));
    const entry = (await audit()).find((e) => e.action === 'api_token.revoked')!;
    assert.deepEqual(
      [entry.actor, entry.details],
      ['user:acc-admin', { token_id: created.id, name: 'to revoke' }],
    );
  });

  it("deleting the workspace's data deletes its tokens and their keys", async () => {
    const created = await create('before deletion');
    const client = tokenClient(f.app.url, created.token);
    const res = await f.admin.send('POST', '/data/delete', { confirm: f.ws.slug });
    assert.equal(res.status, 204, await res.text());
    assert.deepEqual(await code(await client.get('/me')), [401, 'unauthenticated']);
    const keys = await f.app.runtime.db.withSystem('test', (trx) =>
      trx('api_token_keys').where({ owner_tenant_id: f.tenantId }).count<{ count: number }[]>('* as count'),
    );
    assert.equal(Number(keys[0]!.count), 0);
  });

  async function startOtherWorkspace(): Promise<ApiClient> {
    const ws = newWorkspace();
    assert.equal((await install(f.app, ws)).status, 204);
    return apiClient(f.app.url, ws, 'configure');
  }
});
