import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it, mock } from 'node:test';
import { withinScope } from '../../src/api/viewer-scope';
import { REFUSAL_COOLDOWN_MS } from '../../src/bitbucket/user-permissions';
import { startSimulator, type Account, type Simulator } from '../../src/simulator/index';
import { ForgeSimulator } from '../../src/simulator/forge';
import { startTestApp, type TestApp } from '../support/app';
import { installForge } from '../support/forge';
import { loadExport, readExport } from '../support/load-export';

/**
 * Issue 16, item 4: with the user token (`x-forge-oauth-user`), a Forge viewer's workspace and "My contributions"
 * pages read the repositories Bitbucket says the viewer may read: the public ones plus those the viewer has a
 * permission in, private ones included. Bitbucket is the simulator (user tokens bound to its accounts, per-user
 * repository permissions); Forge is the simulator's Forge (RS256 invocation tokens, its JWKS).
 */

const PERMISSIONS_PATH = /^\/ex\/bitbucket\/[^/]+\/2\.0\/user\/workspaces\/[^/]+\/permissions\/repositories$/;

describe('Forge viewer permissions from the user token', () => {
  let sim: Simulator;
  let forge: ForgeSimulator;
  let app: TestApp;
  let dev: Account;
  let workspaceUuid = '';
  /** As Forge gives it: the API under a gateway-style path prefix (the simulator serves one). */
  let apiBaseUrl = '';
  const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
  /** A and B are private (dev may read A), C is public. */
  const repo = { A: '', B: '', C: '' };
  const commits = readExport();
  const counts = { A: 200, B: 150, C: 100 };
  /** Dev's commits per repository. */
  const devCounts = { A: 0, B: 0, C: 0 };

  before(async () => {
    sim = await startSimulator({ rateLimitPerHour: Infinity });
    sim.addWorkspace({ slug: 'acme' });
    workspaceUuid = sim.workspace('acme').uuid;
    apiBaseUrl = `${sim.apiUrl}/ex/bitbucket/${workspaceUuid.slice(1, -1)}`;
    repo.A = sim.addRepository('acme', { slug: 'a-private' }).uuid;
    repo.B = sim.addRepository('acme', { slug: 'b-private' }).uuid;
    repo.C = sim.addRepository('acme', { slug: 'c-public', isPrivate: false }).uuid;
    dev = sim.addUser({ display_name: 'Dev', emails: ['dev@acme.example.com'] });
    sim.setRepositoryPermission('acme', 'a-private', dev.account_id, 'read');
    forge = await ForgeSimulator.start();
    app = await startTestApp({ env: { FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl } });
    await installForge(app, forge, { installationId, workspaceUuid, apiBaseUrl });
    const tenant = (await app.runtime.tenants.findByClientKey(installationId))!;
    // Dev's commits: every commit by the first author of the A slice counts as Dev's (account id).
    const devEmail = commits[0]!.author.email;
    let offset = 0;
    for (const key of ['A', 'B', 'C'] as const) {
      const slice = commits
        .slice(offset, offset + counts[key])
        .map((c, i) => (i < 10 ? { ...c, author: { ...c.author, email: devEmail } } : c));
      offset += counts[key];
      devCounts[key] = slice.filter((c) => c.author.email === devEmail).length;
      await loadExport({
        db: app.runtime.db,
        tenantId: tenant.id,
        commits: slice,
        repository: { uuid: repo[key], fullName: `acme/${key}` },
        accountOf: (email) => (email === devEmail ? dev.account_id : null),
      });
    }
    await app.runtime.db.withTenant(tenant.id, (trx) =>
      trx('repositories').update({ is_private: false }).where({ uuid: repo.C }),
    );
  });
  after(async () => {
    await app?.close();
    await forge?.close();
    await sim?.close();
  });

  const invocation = (principal: string, moduleType: string) =>
    forge.invocationToken({
      installationId,
      workspaceUuid,
      apiBaseUrl,
      principal,
      context: { workspaceId: workspaceUuid, extension: { type: moduleType } },
    });
  const call = async (
    path: string,
    who: { principal: string; userToken?: string; module?: string },
  ): Promise<Response> =>
    fetch(`${app.url}/api/v1${path}`, {
      headers: {
        authorization: `Bearer ${await invocation(who.principal, who.module ?? 'bitbucket:workspaceGlobalPage')}`,
        ...(who.userToken ? { 'x-forge-oauth-user': who.userToken } : {}),
      },
    });
  const json = async <T>(path: string, who: Parameters<typeof call>[1]): Promise<T> => {
    const res = await call(path, who);
    const text = await res.text();
    assert.equal(res.status, 200, `${path}: ${text}`);
    return JSON.parse(text) as T;
  };
  const listed = async (who: Parameters<typeof call>[1]) =>
    (await json<{ repositories: { uuid: string }[] }>('/repositories', who)).repositories
      .map((r) => r.uuid)
      .sort();
  const topCounts = async (who: Parameters<typeof call>[1], path = '/stats/top') =>
    Object.fromEntries(
      (
        await json<{ repositories: { uuid: string; commits: number }[] }>(
          `${path}?merges=include&bots=include&since=2000-01-01`,
          who,
        )
      ).repositories.map((r) => [r.uuid, r.commits]),
    );
  const permissionCalls = () => sim.requestLog.filter((r) => PERMISSIONS_PATH.test(r.path));

  it('without a user token a member reads public repositories only', async () => {
    assert.deepEqual(await listed({ principal: dev.account_id }), [repo.C]);
    const me = await json<{ scope: Record<string, unknown> }>('/me', { principal: dev.account_id });
    assert.equal(me.scope.visibility, 'public_only');
    assert.equal(permissionCalls().length, 0, 'no user token, no call');
  });

  it("with the user token the workspace page reads the viewer's private repositories too, and no others", async () => {
    const userToken = sim.issueUserToken('acme', dev.account_id);
    const who = { principal: dev.account_id, userToken };
    assert.deepEqual(await listed(who), [repo.A, repo.C].sort());
    assert.deepEqual(await topCounts(who), { [repo.A]: counts.A, [repo.C]: counts.C });
    const me = await json<{ scope: Record<string, unknown> }>('/me', who);
    assert.deepEqual(me.scope.repositories, [repo.A, repo.C].sort());
    assert.equal(me.scope.admin, false);
    // A repository the viewer cannot read is a 403, whatever the route.
    for (const path of ['/stats/top', '/stats/activity', '/export/commits', '/pull-requests/stats']) {
      const res = await call(`${path}?repository=${encodeURIComponent(repo.B)}`, who);
      assert.equal(res.status, 403, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'outside_scope');
    }
    // Admin data stays closed: a member's page is not the settings page.
    assert.equal((await call('/settings', who)).status, 403);
    // Bitbucket was asked once, with the user token, GET only, at the invocation's apiBaseUrl.
    const calls = permissionCalls();
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.method, 'GET');
    assert.equal(calls[0]!.status, 200);
    // The token itself is never logged.
    assert.ok(!app.logs.some((line) => line.includes(userToken)), 'user token in a log line');
  });

  it('"My contributions" (the personal settings page) reads the viewer\'s own commits, private ones with the user token', async () => {
    const module = 'bitbucket:workspacePersonalSettingsPage';
    const without = { principal: dev.account_id, module };
    const me = await json<{ scope: Record<string, unknown> }>('/me', without);
    assert.equal(me.scope.kind, 'profile');
    assert.equal(me.scope.contributor, `a:${dev.account_id}`);
    assert.deepEqual(await topCounts(without), { [repo.C]: devCounts.C });
    const withToken = { ...without, userToken: sim.issueUserToken('acme', dev.account_id) };
    assert.deepEqual(await topCounts(withToken), { [repo.A]: devCounts.A, [repo.C]: devCounts.C });
    // Someone else's contributions, and pull requests, are not part of this page.
    const other = await call(
      `/stats/activity?contributor=${encodeURIComponent('a:someone-else')}`,
      withToken,
    );
    assert.equal(other.status, 403, await other.clone().text());
    assert.equal((await call('/pull-requests/stats', withToken)).status, 403);
  });

  it('the user token widens nothing on a repository page or the settings page', async () => {
    const userToken = sim.issueUserToken('acme', dev.account_id);
    const repositoryPage = await forge.invocationToken({
      installationId,
      workspaceUuid,
      apiBaseUrl,
      principal: dev.account_id,
      context: {
        workspaceId: workspaceUuid,
        extension: { type: 'bitbucket:repoMainMenuPage', repository: { uuid: repo.C } },
      },
    });
    const res = await fetch(`${app.url}/api/v1/repositories`, {
      headers: { authorization: `Bearer ${repositoryPage}`, 'x-forge-oauth-user': userToken },
    });
    assert.deepEqual(
      ((await res.json()) as { repositories: { uuid: string }[] }).repositories.map((r) => r.uuid),
      [repo.C],
    );
    const calls = permissionCalls().length;
    const settings = { principal: dev.account_id, userToken, module: 'bitbucket:workspaceSettingsMenuPage' };
    assert.deepEqual(await listed(settings), [repo.A, repo.B, repo.C].sort());
    assert.equal(permissionCalls().length, calls, 'neither page asked Bitbucket');
  });

  it('permissions are cached per viewer for at most 15 minutes', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const carol = sim.addUser({ display_name: 'Carol', emails: ['carol@acme.example.com'] });
      sim.setRepositoryPermission('acme', 'b-private', carol.account_id, 'write');
      const who = () => ({
        principal: carol.account_id,
        userToken: sim.issueUserToken('acme', carol.account_id),
      });
      const before = permissionCalls().length;
      assert.deepEqual(await listed(who()), [repo.B, repo.C].sort());
      await listed(who());
      await topCounts(who());
      assert.equal(permissionCalls().length - before, 1, 'one call for three requests');
      // Bitbucket takes the permission away: within 15 minutes the cached answer stands, after them it is gone.
      sim.setRepositoryPermission('acme', 'b-private', carol.account_id, null);
      mock.timers.tick(14 * 60_000);
      assert.deepEqual(await listed(who()), [repo.B, repo.C].sort());
      mock.timers.tick(60_000 + 1000);
      assert.deepEqual(await listed(who()), [repo.C]);
      assert.equal(permissionCalls().length - before, 2);
      const refused = await call(`/stats/top?repository=${encodeURIComponent(repo.B)}`, who());
      assert.equal(refused.status, 403);
    } finally {
      mock.timers.reset();
    }
  });

  it("a refused, malformed or someone else's user token is a 401; Bitbucket failing leaves public repositories", async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const erin = sim.addUser({ display_name: 'Erin', emails: ['erin@acme.example.com'] });
      const frank = sim.addUser({ display_name: 'Frank', emails: ['frank@acme.example.com'] });
      sim.setRepositoryPermission('acme', 'b-private', frank.account_id, 'read');
      const status = async (userToken: string) =>
        (await call('/repositories', { principal: erin.account_id, userToken })).status;
      assert.equal(await status('not-a-token-bitbucket-knows'), 401);
      // Each refusal holds the viewer back 30 s (the flood test below); past that, the next token is asked about.
      mock.timers.tick(REFUSAL_COOLDOWN_MS);
      assert.equal(
        await status(sim.issueUserToken('acme', frank.account_id)),
        401,
        "Frank's token, Erin's page",
      );
      mock.timers.tick(REFUSAL_COOLDOWN_MS);
      const expired = sim.issueUserToken('acme', erin.account_id, -1);
      assert.equal(await status(expired), 401);
      const badForm = await fetch(`${app.url}/api/v1/repositories`, {
        headers: {
          authorization: `Bearer ${await invocation(erin.account_id, 'bitbucket:workspaceGlobalPage')}`,
          'x-forge-oauth-user': 'short',
        },
      });
      assert.equal(badForm.status, 401);
      // Failures are not cached: once the cooldown is over, Erin's own token works.
      mock.timers.tick(REFUSAL_COOLDOWN_MS);
      sim.setRepositoryPermission('acme', 'a-private', erin.account_id, 'admin');
      assert.deepEqual(
        await listed({ principal: erin.account_id, userToken: sim.issueUserToken('acme', erin.account_id) }),
        [repo.A, repo.C].sort(),
      );
    } finally {
      mock.timers.reset();
    }
    // Bitbucket down: the page still works, with public repositories only (and nothing cached).
    const gina = sim.addUser({ display_name: 'Gina', emails: ['gina@acme.example.com'] });
    sim.setRepositoryPermission('acme', 'a-private', gina.account_id, 'read');
    sim.setKnobs({ faultRate: 1 });
    try {
      const who = { principal: gina.account_id, userToken: sim.issueUserToken('acme', gina.account_id) };
      assert.deepEqual(await listed(who), [repo.C]);
    } finally {
      sim.setKnobs({ faultRate: 0 });
    }
    assert.deepEqual(
      await listed({ principal: gina.account_id, userToken: sim.issueUserToken('acme', gina.account_id) }),
      [repo.A, repo.C].sort(),
    );
  });

  it('a flood of made-up user tokens asks Bitbucket once per viewer per 30 s; a genuine one then waits that long', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const hank = sim.addUser({ display_name: 'Hank', emails: ['hank@acme.example.com'] });
      const ida = sim.addUser({ display_name: 'Ida', emails: ['ida@acme.example.com'] });
      sim.setRepositoryPermission('acme', 'a-private', hank.account_id, 'read');
      const before = permissionCalls().length;
      const made = (i: number) => ({ principal: hank.account_id, userToken: `made-up-user-token-${i}` });
      assert.equal((await call('/repositories', made(0))).status, 401, 'the first is refused by Bitbucket');
      // The rest fall back to public repositories, as without a user token, and Bitbucket hears nothing of them.
      for (let i = 1; i <= 20; i++) assert.deepEqual(await listed(made(i)), [repo.C]);
      assert.equal(permissionCalls().length - before, 1, 'one call for 21 tokens');
      // Another viewer is not held back.
      assert.equal((await call('/repositories', { ...made(21), principal: ida.account_id })).status, 401);
      assert.equal(permissionCalls().length - before, 2);
      // Hank's genuine token within the 30 s: public repositories only; after them, his private ones.
      const genuine = { principal: hank.account_id, userToken: sim.issueUserToken('acme', hank.account_id) };
      mock.timers.tick(REFUSAL_COOLDOWN_MS - 1000);
      assert.deepEqual(await listed(genuine), [repo.C]);
      assert.equal(permissionCalls().length - before, 2);
      mock.timers.tick(1000);
      assert.deepEqual(await listed(genuine), [repo.A, repo.C].sort());
      assert.equal(permissionCalls().length - before, 3);
    } finally {
      mock.timers.reset();
    }
  });

  it('an explicit scope that names no repository reads nothing, never the whole workspace', () => {
    const filters = withinScope(
      { kind: 'workspace', admin: false, repositories: [] },
      { repositories: [], merges: 'include', bots: 'include', exclusions: 'apply' },
    );
    assert.deepEqual([filters.repositories, filters.limited], [[], true]);
  });
});
