import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { startSimulator, type Account, type Simulator } from '../../src/simulator/index.js';
import type { Loose } from './helpers.js';

const SPEC = fileURLToPath(new URL('../fixtures/bitbucket-openapi.json', import.meta.url));

/**
 * User tokens (Forge's `x-forge-oauth-user`): an opaque bearer token acting as one account. The REST API lets it read
 * public repositories and those the account has a permission in, and lists its permissions at
 * `/2.0/user/workspaces/{workspace}/permissions/repositories` as the OpenAPI document describes.
 */
describe('simulator: user tokens and repository permissions', () => {
  let sim: Simulator;
  let dev: Account;
  let outsider: Account;
  let ajv: Ajv;
  const commits = [{ author: { name: 'Ada', email: 'ada@example.com' }, message: 'One\n' }];

  before(async () => {
    sim = await startSimulator({ rateLimitPerHour: Infinity });
    sim.addWorkspace({ slug: 'acme' });
    sim.addWorkspace({ slug: 'other' });
    for (const slug of ['open', 'secret', 'granted', 'admin-only'])
      sim.addRepository('acme', { slug, isPrivate: slug !== 'open' });
    sim.addRepository('other', { slug: 'elsewhere' });
    await Promise.all(
      ['open', 'secret', 'granted'].map((repo) => sim.push('acme', repo, { branch: 'main', commits })),
    );
    dev = sim.addUser({ display_name: 'Dev', emails: ['dev@acme.example.com'] });
    outsider = sim.addUser({ display_name: 'Outsider', emails: ['out@example.com'] });
    sim.setRepositoryPermission('acme', 'granted', dev.account_id, 'write');
    sim.setRepositoryPermission('acme', 'admin-only', dev.account_id, 'read');
    sim.setRepositoryPermission('acme', 'admin-only', dev.account_id, null);
    ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(JSON.parse(readFileSync(SPEC, 'utf8')), 'bb');
  });
  after(() => sim.close());

  const get = async (token: string, path: string) => {
    const res = await fetch(`${sim.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Loose };
  };

  it("a user token reads public repositories and its own, and nobody's private ones", async () => {
    const token = sim.issueUserToken('acme', dev.account_id);
    const list = await get(token, '/2.0/repositories/acme?pagelen=100');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.values.map((r: Loose) => r.slug).sort(), ['granted', 'open']);
    assert.equal((await get(token, '/2.0/repositories/acme/granted/commits')).status, 200);
    assert.equal((await get(token, '/2.0/repositories/acme/open/commits')).status, 200);
    for (const repo of ['secret', 'admin-only']) {
      const denied = await get(token, `/2.0/repositories/acme/${repo}/commits`);
      assert.equal(denied.status, 403, repo);
      assert.equal(denied.body.type, 'error');
    }
    // Another workspace than the one the token was issued for.
    assert.equal((await get(token, '/2.0/repositories/other')).status, 403);
    // Under a Forge gateway prefix, the prefix must name the token's workspace.
    const gateway = (slug: string) => `/ex/bitbucket/${sim.workspace(slug).uuid.slice(1, -1)}`;
    assert.equal((await get(token, `${gateway('acme')}/2.0/repositories/acme`)).status, 200);
    assert.equal((await get(token, `${gateway('other')}/2.0/repositories/acme`)).status, 401);
    const me = await get(token, '/2.0/user');
    assert.equal(me.body.account_id, dev.account_id);
  });

  it('the workspace admin reads every repository; an outsider public ones only', async () => {
    const admin = sim.issueUserToken('acme', sim.workspace('acme').admin.account_id);
    const all = await get(admin, '/2.0/repositories/acme');
    assert.equal(all.body.values.length, 4);
    const out = await get(sim.issueUserToken('acme', outsider.account_id), '/2.0/repositories/acme');
    assert.deepEqual(
      out.body.values.map((r: Loose) => r.slug),
      ['open'],
    );
  });

  it('lists the permissions of the token user, paged, per the OpenAPI document (no merely public repositories)', async () => {
    const token = sim.issueUserToken('acme', dev.account_id);
    const validate = ajv.getSchema(
      'bb#/components/schemas/paginated_repository_permissions',
    ) as ValidateFunction;
    const conforms = (body: unknown) => assert.ok(validate(body), ajv.errorsText(validate.errors));
    const ws = encodeURIComponent(sim.workspace('acme').uuid);
    const page = await get(token, `/2.0/user/workspaces/${ws}/permissions/repositories`);
    assert.equal(page.status, 200);
    conforms(page.body);
    assert.deepEqual(
      page.body.values.map((v: Loose) => [v.repository.full_name, v.permission, v.user.uuid]),
      [['acme/granted', 'write', dev.uuid]],
    );
    const deprecated = await get(token, '/2.0/user/permissions/repositories');
    assert.deepEqual(deprecated.body.values, page.body.values);

    const admin = sim.issueUserToken('acme', sim.workspace('acme').admin.account_id);
    const first = await get(admin, '/2.0/user/workspaces/acme/permissions/repositories?pagelen=2');
    conforms(first.body);
    assert.equal(first.body.values.length, 2);
    assert.equal(first.body.size, 4);
    const second = await fetch(first.body.next, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(((await second.json()) as Loose).values.length, 2);
    const filtered = await get(
      admin,
      `/2.0/user/workspaces/acme/permissions/repositories?q=${encodeURIComponent('repository.name="secret"')}`,
    );
    assert.deepEqual(
      filtered.body.values.map((v: Loose) => v.permission),
      ['admin'],
    );
    assert.equal((await get(token, '/2.0/user/workspaces/other/permissions/repositories')).status, 403);
  });

  it('unknown, revoked and expired user tokens are 401', async () => {
    assert.equal((await get('made-up', '/2.0/repositories/acme')).status, 401);
    const token = sim.issueUserToken('acme', dev.account_id);
    sim.revokeUserToken(token);
    assert.equal((await get(token, '/2.0/repositories/acme')).status, 401);
    const expired = sim.issueUserToken('acme', dev.account_id, -1);
    const res = await get(expired, '/2.0/repositories/acme');
    assert.equal(res.status, 401);
    assert.match(res.body.error.detail, /expired/);
  });
});
