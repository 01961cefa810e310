import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import jsonwebtoken from 'jsonwebtoken';
import type { AddressInfo } from 'node:net';
import { recordPullRequestChanges } from '../../src/analytics/pull-request-facts';
import { apiRouter, type ApiDeps } from '../../src/api/api-router';
import { OPENAPI_FILE } from '../../src/api/openapi-routes';
import { ROUTE_ACCESS, routeAccess, type Access } from '../../src/api/route-access';
import {
  apiClient,
  load,
  startAnalyticsApp,
  tokenClient,
  type AnalyticsFixture,
  type ApiClient,
} from '../analytics/helpers';
import { pageUrl } from '../support/bitbucket';
import { readExport, syntheticAccount } from '../support/load-export';
import { operationsOf, routesOf } from '../support/routes';

/**
 * Issue 13: every session token carries the scope of the page that minted it, and every route enforces it. Every
 * operation of docs/openapi.json is tried with every kind of token, so a route without an access decision fails.
 */

/** The four pages' session tokens, and an API token (`Authorization: Bearer tly_…`, issue 18). */
type Kind = 'repository' | 'workspace' | 'configure' | 'profile' | 'api-token';
const KINDS: Kind[] = ['repository', 'workspace', 'configure', 'profile', 'api-token'];

type Outcome = 'ok' | 'outside_scope' | 'admin_only';

/** What each access level gives each kind of token: `ok`, or the 403's error code. */
const EXPECTED: Record<Access, Record<Kind, Outcome>> = {
  public: { repository: 'ok', workspace: 'ok', configure: 'ok', profile: 'ok', 'api-token': 'ok' },
  session: { repository: 'ok', workspace: 'ok', configure: 'ok', profile: 'ok', 'api-token': 'ok' },
  scoped: { repository: 'ok', workspace: 'ok', configure: 'ok', profile: 'ok', 'api-token': 'ok' },
  'scoped-repositories': {
    repository: 'ok',
    workspace: 'ok',
    configure: 'ok',
    profile: 'outside_scope',
    'api-token': 'ok',
  },
  'admin-page': {
    repository: 'outside_scope',
    workspace: 'ok',
    configure: 'ok',
    profile: 'outside_scope',
    'api-token': 'admin_only',
  },
  configure: {
    repository: 'admin_only',
    workspace: 'admin_only',
    configure: 'ok',
    profile: 'admin_only',
    'api-token': 'admin_only',
  },
};

const PERSON = '{0e5ca1ab-0000-4000-8000-000000000001}';

interface Sample {
  /** Who may call it, stated here independently of src/api/route-access.ts (SECURITY.md, "Who sees what"). */
  access: Access;
  path: string;
  body?: unknown;
  /** The status when access is granted (the request is built to change nothing). */
  status: number;
}

describe('viewer scope: every route, every token kind', () => {
  let f: AnalyticsFixture;
  const repo = { A: '', B: '', C: '' };
  let account = '';
  const clients = {} as Record<Kind, ApiClient>;
  const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as {
    paths: Record<string, Record<string, { parameters?: { $ref?: string }[] }>>;
  };

  /** One request per operation and its access decision; a new operation needs both here (the test says so). */
  const samples = (): Record<string, Sample> => ({
    'GET /openapi.json': { access: 'public', path: '/openapi.json', status: 200 },
    'GET /me': { access: 'session', path: '/me', status: 200 },
    'GET /repositories': { access: 'scoped', path: '/repositories', status: 200 },
    'GET /audit': { access: 'admin-page', path: '/audit', status: 200 },
    // The wrong confirmation: access is granted, nothing is deleted.
    'POST /data/delete': {
      access: 'configure',
      path: '/data/delete',
      body: { confirm: 'not-this-workspace' },
      status: 400,
    },
    'GET /support/consent': { access: 'admin-page', path: '/support/consent', status: 200 },
    'POST /support/consent': {
      access: 'configure',
      path: '/support/consent',
      body: { days: 1, reason: 'scope test' },
      status: 201,
    },
    'DELETE /support/consent': { access: 'configure', path: '/support/consent', status: 200 },
    'GET /stats/contributors': { access: 'scoped', path: '/stats/contributors', status: 200 },
    'GET /stats/activity': { access: 'scoped', path: '/stats/activity', status: 200 },
    'GET /stats/punchcard': { access: 'scoped', path: '/stats/punchcard', status: 200 },
    'GET /stats/calendar': { access: 'scoped', path: '/stats/calendar', status: 200 },
    'GET /stats/top': { access: 'scoped', path: '/stats/top', status: 200 },
    // A person's page may ask for its person's own pull requests (pull-request-people.test.ts: nothing else).
    'GET /pull-requests/stats': {
      access: 'scoped',
      path: `/pull-requests/stats?author=${encodeURIComponent(PERSON)}`,
      status: 200,
    },
    'GET /export/commits': { access: 'scoped', path: '/export/commits', status: 200 },
    'GET /commits': { access: 'scoped', path: '/commits', status: 200 },
    'GET /export/pull-requests': {
      access: 'scoped-repositories',
      path: '/export/pull-requests',
      status: 200,
    },
    'GET /settings': { access: 'admin-page', path: '/settings', status: 200 },
    'PUT /settings': { access: 'configure', path: '/settings', body: {}, status: 200 },
    'GET /settings/repositories/{uuid}': {
      access: 'admin-page',
      path: `/settings/repositories/${encodeURIComponent(repo.A)}`,
      status: 200,
    },
    'PUT /settings/repositories/{uuid}': {
      access: 'configure',
      path: `/settings/repositories/${encodeURIComponent(repo.A)}`,
      body: { path_exclusions: [] },
      status: 200,
    },
    'GET /identities': { access: 'admin-page', path: '/identities', status: 200 },
    // Nobody of these names exists: access is granted, nothing is merged.
    'POST /identities/merge': {
      access: 'configure',
      path: '/identities/merge',
      body: { into: 'e:nobody@example.com', from: ['e:no-one@example.com'] },
      status: 404,
    },
    'DELETE /identities/merge/{key}': {
      access: 'configure',
      path: `/identities/merge/${encodeURIComponent('e:nobody@example.com')}`,
      status: 404,
    },
    'GET /tokens': { access: 'admin-page', path: '/tokens', status: 200 },
    'POST /tokens': { access: 'configure', path: '/tokens', body: { name: 'scope test' }, status: 201 },
    // No such token: access is granted, nothing is revoked.
    'DELETE /tokens/{id}': { access: 'configure', path: '/tokens/999999', status: 404 },
    'GET /teams': { access: 'admin-page', path: '/teams', status: 200 },
    // A control character in the name: access is granted, nothing is created.
    'POST /teams': {
      access: 'configure',
      path: '/teams',
      body: { name: 'a\u0007b', members: [] },
      status: 400,
    },
    // No such team: access is granted, nothing changes.
    'PUT /teams/{id}': {
      access: 'configure',
      path: '/teams/999999',
      body: { name: 'scope test', members: [] },
      status: 404,
    },
    'DELETE /teams/{id}': { access: 'configure', path: '/teams/999999', status: 404 },
  });

  before(async () => {
    f = await startAnalyticsApp();
    const commits = readExport();
    repo.A = (await load(f, commits.slice(0, 300), { repository: { fullName: 'acme/a-private' } })).uuid;
    repo.B = (await load(f, commits.slice(300, 600), { repository: { fullName: 'acme/b-private' } })).uuid;
    repo.C = (await load(f, commits.slice(600, 900), { repository: { fullName: 'acme/c-public' } })).uuid;
    // The person: someone with a Bitbucket account who committed to both A (private) and C (public).
    const accounts = (slice: typeof commits) =>
      new Set(slice.map((c) => syntheticAccount(c.author.email)).filter((a) => a !== null));
    const inC = accounts(commits.slice(600, 900));
    account = [...accounts(commits.slice(0, 300))].find((a) => inC.has(a))!;
    assert.ok(account, 'someone committed to both A and C');
    await f.app.runtime.db.withTenant(f.tenantId, async (trx) => {
      await trx('repositories').update({ is_private: false }).where({ uuid: repo.C });
      await trx('contributors').update({ user_uuid: PERSON }).where({ account_id: account });
      // Two pull requests in A, one in B.
      const ids = Object.fromEntries(
        (await trx('repositories').select('id', 'uuid')).map((r: { id: number; uuid: string }) => [
          r.uuid,
          r.id,
        ]),
      );
      const pr = (uuid: string, id: number) => ({
        tenant_id: f.tenantId,
        repository_id: ids[uuid],
        id,
        title: `PR ${id}`,
        state: 'OPEN',
        author_uuid: PERSON,
        author_name: 'Someone',
        created_on: new Date('2024-01-02T09:00:00Z'),
        updated_on: new Date('2024-01-02T09:00:00Z'),
      });
      await trx('pull_requests').insert([pr(repo.A, 1), pr(repo.A, 2), pr(repo.B, 1)]);
      await recordPullRequestChanges(trx, ids[repo.A]!, [1, 2]);
      await recordPullRequestChanges(trx, ids[repo.B]!, [1]);
    });
    clients.repository = apiClient(f.app.url, f.ws, 'repository', { repoUuid: repo.A });
    clients.workspace = f.api;
    clients.configure = f.admin;
    clients.profile = apiClient(f.app.url, f.ws, 'profile', { user: PERSON });
    const created = await f.admin.send('POST', '/tokens', { name: 'viewer scope test' });
    clients['api-token'] = tokenClient(f.app.url, ((await created.json()) as { token: string }).token);
  });
  after(() => f.app.close());

  const send = (client: ApiClient, method: string, sample: Sample) =>
    method === 'GET' ? client.get(sample.path) : client.send(method, sample.path, sample.body ?? {});

  it('every documented operation and every mounted route has an access decision', () => {
    const deps = {
      db: f.app.runtime.db,
      tenants: f.app.runtime.tenants,
      appKey: 'tally',
      now: () => new Date(),
    };
    const mounted = routesOf(apiRouter(deps as ApiDeps)).map((r) =>
      r.replace(/^\S+/, (m) => m.toUpperCase()),
    );
    for (const operation of [...operationsOf(doc), ...mounted])
      assert.ok(ROUTE_ACCESS[operation], `${operation} has an entry in ROUTE_ACCESS`);
  });

  it('answers every operation for every token kind as its access decision says', async () => {
    const all = samples();
    for (const operation of operationsOf(doc)) {
      const sample = all[operation];
      assert.ok(sample, `${operation} has a sample request in this test`);
      const method = operation.split(' ')[0]!;
      for (const kind of KINDS) {
        const expected: Outcome = EXPECTED[sample.access][kind];
        const res = await send(clients[kind], method, sample);
        const text = await res.text();
        const where = `${operation} with a ${kind} token: ${text.slice(0, 200)}`;
        if (expected === 'ok') assert.equal(res.status, sample.status, where);
        else assert.deepEqual([res.status, JSON.parse(text).error.code], [403, expected], where);
      }
    }
  });

  it("a repository page's token never reaches another repository", async () => {
    const mine = clients.repository;
    const scoped = operationsOf(doc).filter(
      (op) =>
        op.startsWith('GET ') &&
        Object.values(doc.paths[op.slice(4)]!.get!.parameters ?? []).some(
          (p) => p.$ref === '#/components/parameters/repository',
        ),
    );
    assert.ok(scoped.length >= 8, scoped.join());
    for (const op of scoped) {
      const path = op.slice(4);
      const refused = await mine.get(path, { repository: repo.B });
      assert.deepEqual([refused.status, (await refused.json()).error.code], [403, 'outside_scope'], op);
      const both = await mine.get(path, { repository: [repo.A, repo.B] });
      assert.equal(both.status, 403, `${op} with A and B`);
      assert.equal((await mine.get(path, { repository: repo.A })).status, 200, `${op} with A`);
    }

    const listed = await mine.json<{ repositories: { uuid: string }[] }>('/repositories');
    assert.deepEqual(
      listed.repositories.map((r) => r.uuid),
      [repo.A],
    );
    const everything = await f.api.json<{ repositories: { uuid: string }[] }>('/repositories');
    assert.equal(everything.repositories.length, 3);

    // Without a repository parameter, the answers are repository A's, exactly as the workspace page sees A.
    const onlyA = { repository: repo.A, merges: 'include', bots: 'include' };
    const open = { merges: 'include', bots: 'include' };
    for (const path of ['/stats/contributors', '/stats/activity', '/stats/punchcard', '/pull-requests/stats'])
      assert.deepEqual(await mine.json(path, open), await f.api.json(path, onlyA), path);
    const top = await mine.json<{ repositories: { uuid: string; commits: number }[] }>('/stats/top', open);
    assert.deepEqual(
      top.repositories.map((r) => r.uuid),
      [repo.A],
    );

    const lines = async (client: ApiClient, path: string, params = {}) =>
      (
        await (
          await client.get(path, { ...params, format: 'jsonl', merges: 'include', bots: 'include' })
        ).text()
      )
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { repository_uuid: string; author_key?: string });
    const commits = await lines(mine, '/export/commits');
    assert.ok(commits.length > 0);
    assert.ok(commits.every((c) => c.repository_uuid === repo.A));
    assert.equal(commits.length, (await lines(f.api, '/export/commits', { repository: repo.A })).length);
    assert.ok((await lines(f.api, '/export/commits')).length > commits.length);
    // The drill-down lists the same commits, newest first, and nothing of another repository.
    type Listed = { commits: { hash: string; repository: { uuid: string } }[]; next_cursor: string | null };
    const listedA = await mine.json<Listed>('/commits', { merges: 'include', bots: 'include', limit: '200' });
    assert.equal(listedA.commits.length, Math.min(200, commits.length));
    assert.ok(listedA.commits.every((c) => c.repository.uuid === repo.A));
    const refusedB = await mine.get('/commits', { repository: repo.B });
    assert.deepEqual([refusedB.status, (await refusedB.json()).error.code], [403, 'outside_scope']);
    const pulls = await lines(mine, '/export/pull-requests');
    assert.deepEqual(
      pulls.map((p) => p.repository_uuid),
      [repo.A, repo.A],
    );
  });

  it("a profile page's token reads its person's contributions in public repositories only", async () => {
    const profile = clients.profile;
    const me = await profile.json<{ scope: Record<string, unknown> }>('/me');
    assert.deepEqual(me.scope, {
      page: 'profile',
      kind: 'profile',
      admin: false,
      repositories: null,
      contributor: PERSON,
      visibility: 'public_only',
    });
    const listed = await profile.json<{ repositories: { uuid: string }[] }>('/repositories');
    assert.deepEqual(
      listed.repositories.map((r) => r.uuid),
      [repo.C],
    );

    type Totals = { contributors: { key: string; commits: number }[] };
    const all = { merges: 'include', bots: 'include' };
    const seen = await profile.json<Totals>('/stats/contributors', all);
    const key = `a:${account}`;
    const inC = (
      await f.api.json<Totals>('/stats/contributors', { ...all, repository: repo.C })
    ).contributors.find((c) => c.key === key)!;
    const inA = (
      await f.api.json<Totals>('/stats/contributors', { ...all, repository: repo.A })
    ).contributors.find((c) => c.key === key)!;
    assert.ok(inA.commits > 0, 'the person has private commits, which must not count');
    assert.deepEqual(
      seen.contributors.map((c) => [c.key, c.commits]),
      [[key, inC.commits]],
    );
    type Series = { series: { commits: number }[] };
    const activity = await profile.json<Series>('/stats/activity', { ...all, interval: 'month' });
    const activityC = await f.api.json<Series>('/stats/activity', {
      ...all,
      interval: 'month',
      contributor: PERSON,
      repository: repo.C,
    });
    assert.deepEqual(activity, activityC);
    assert.equal(
      activity.series.reduce((sum, p) => sum + p.commits, 0),
      inC.commits,
    );

    // A private repository asked for matches nothing (its existence is not confirmed); another person is refused.
    const privateA = await profile.json<{ series: unknown[] }>('/stats/activity', {
      ...all,
      repository: repo.A,
    });
    assert.deepEqual(privateA.series, []);
    const other = await profile.get('/stats/activity', { contributor: 'e:someone-else@example.com' });
    assert.deepEqual([other.status, (await other.json()).error.code], [403, 'outside_scope']);
    const exported = (await (await profile.get('/export/commits', { ...all, format: 'jsonl' })).text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { repository_uuid: string; author_key: string });
    assert.equal(exported.length, inC.commits);
    assert.ok(exported.every((c) => c.repository_uuid === repo.C && c.author_key === key));
    // The drill-down: the same person's public commits only, whoever else is asked for.
    type Listed = { commits: { repository: { uuid: string }; author_key: string }[] };
    const drilled = await profile.json<Listed>('/commits', { ...all, limit: '200' });
    assert.equal(drilled.commits.length, Math.min(200, inC.commits));
    assert.ok(drilled.commits.every((c) => c.repository.uuid === repo.C && c.author_key === key));
    assert.deepEqual((await profile.json<Listed>('/commits', { ...all, repository: repo.A })).commits, []);
    const someoneElse = await profile.get('/commits', { contributor: 'e:someone-else@example.com' });
    assert.equal(someoneElse.status, 403);
  });

  it('pages mint the scope from their signed query; a page that names nothing valid mints no token', async () => {
    const tokenOf = async (pathAndQuery: string) => {
      const res = await fetch(pageUrl(f.app.url, pathAndQuery, f.ws, 'viewer-1'));
      const html = await res.text();
      const token = /name="tally-token" content="([^"]+)"/.exec(html)?.[1];
      return {
        status: res.status,
        claims: token ? (jsonwebtoken.decode(token) as Record<string, unknown>) : null,
      };
    };
    const upper = repo.A.toUpperCase().replace(/[{}]/g, '');
    const repository = await tokenOf(`/pages/repository?repoUuid=${upper}&repoPath=acme%2Fa-private`);
    assert.equal(repository.status, 200);
    assert.deepEqual(repository.claims!.tally_scope, {
      kind: 'repository',
      admin: false,
      repositories: [repo.A],
    });
    const profile = await tokenOf(`/pages/profile?user=${encodeURIComponent(PERSON)}`);
    assert.deepEqual(profile.claims!.tally_scope, {
      kind: 'profile',
      admin: false,
      repositories: null,
      contributor: PERSON,
      publicOnly: true,
    });
    for (const page of ['workspace?workspace=acme', 'configure'])
      assert.deepEqual((await tokenOf(`/pages/${page}`)).claims!.tally_scope, {
        kind: 'workspace',
        admin: true,
        repositories: null,
      });
    for (const bad of [
      '/pages/repository',
      '/pages/repository?repoUuid=&repoPath=x',
      '/pages/repository?repoUuid=not-a-uuid',
      `/pages/repository?repoUuid=${encodeURIComponent(repo.A)}&repoUuid=${encodeURIComponent(repo.B)}`,
      '/pages/profile',
      '/pages/profile?user=someone',
    ])
      assert.deepEqual(await tokenOf(bad), { status: 400, claims: null }, bad);
  });

  it('a session token without a valid scope is a 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>) =>
      jsonwebtoken.sign(
        { iss: 'tally', aud: [f.ws.clientKey], sub: 'v', iat: now, exp: now + 600, ...claims },
        f.ws.sharedSecret,
      );
    const cases: Record<string, Record<string, unknown>> = {
      'no scope': { tally_page: 'workspace' },
      'a string': { tally_scope: 'workspace' },
      'unknown kind': { tally_scope: { kind: 'everything', admin: true, repositories: null } },
      'repository scope naming none': { tally_scope: { kind: 'repository', admin: false, repositories: [] } },
      'admin repository scope': { tally_scope: { kind: 'repository', admin: true, repositories: [repo.A] } },
      'profile without a person': { tally_scope: { kind: 'profile', admin: false, repositories: null } },
      'an unknown field': { tally_scope: { kind: 'workspace', admin: true, repositories: null, all: true } },
      'not a uuid': { tally_scope: { kind: 'repository', admin: false, repositories: ['acme/b-private'] } },
    };
    for (const [name, claims] of Object.entries(cases)) {
      const res = await fetch(`${f.app.url}/api/v1/repositories`, {
        headers: { authorization: `JWT ${sign(claims)}` },
      });
      assert.deepEqual([res.status, (await res.json()).error.code], [401, 'unauthenticated'], name);
    }
  });

  it('a route mounted without an access decision answers 404 to every token', async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.locals.viewer = {
        tenant: {} as never,
        page: 'configure',
        scope: { kind: 'workspace', admin: true, repositories: null },
      };
      next();
    });
    app.use(routeAccess({ 'GET /decided': 'session' }));
    app.get('/decided', (_req, res) => void res.json({ ok: true }));
    app.get('/forgotten', (_req, res) => void res.json({ ok: true }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      assert.equal((await fetch(`${base}/decided`)).status, 200);
      assert.equal((await fetch(`${base}/forgotten`)).status, 404);
    } finally {
      server.close();
    }
  });
});
