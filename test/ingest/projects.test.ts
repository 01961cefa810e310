import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Runner } from 'graphile-worker';
import { apiClient, FILTERED_ENDPOINTS, type ApiClient } from '../analytics/helpers';
import type { Workspace } from '../support/bitbucket';
import {
  FAST_RETRY,
  startBackfill,
  startIngestWorker,
  waitForReady,
  waitIdle,
  type Backfill,
} from './backfill-harness';
import { smallHistory } from './live-sync-support';

/**
 * Bitbucket projects: read from the repository object Tally already lists (no new endpoint), kept current by
 * repo:updated, shown in GET /repositories, and a `project=` filter on every stats, pull-request and export route,
 * always inside the viewer's scope.
 */

interface Listed {
  uuid: string;
  full_name: string;
  project: { uuid: string; key: string; name: string } | null;
}

const commitsOf = async (api: ApiClient, params: Record<string, string | string[]>) =>
  (
    await api.json<{ contributors: { commits: number }[] }>('/stats/contributors', params)
  ).contributors.reduce((sum, c) => sum + c.commits, 0);

describe('projects', () => {
  let b: Backfill;
  let worker: Runner;
  let api: ApiClient;
  let ws: Workspace;
  let byName: Map<string, Listed>;

  const listed = async () =>
    new Map(
      (await api.json<{ repositories: Listed[] }>('/repositories')).repositories.map((r) => [r.full_name, r]),
    );

  before(async () => {
    b = await startBackfill({
      repositories: [],
      seed: (sim) => {
        sim.addRepository('acme', {
          slug: 'web',
          history: smallHistory(6),
          project: { key: 'WEB', name: 'Web' },
        });
        sim.addRepository('acme', { slug: 'api', history: smallHistory(4) });
      },
    });
    worker = await startIngestWorker(b.app, { bitbucket: FAST_RETRY });
    await waitForReady(b, 2);
    await waitIdle(b);
    ws = { clientKey: b.clientKey, sharedSecret: b.sharedSecret } as Workspace;
    api = apiClient(b.app.url, ws);
    byName = await listed();
  });
  after(async () => {
    await worker?.stop();
    await b?.close();
  });

  it('stores each repository’s project as the simulator serves it, and lists it', () => {
    const web = b.sim.repository('acme', 'web');
    const other = b.sim.repository('acme', 'api');
    assert.notEqual(web.project.uuid, other.project.uuid);
    assert.deepEqual(byName.get('acme/web')!.project, { uuid: web.project.uuid, key: 'WEB', name: 'Web' });
    assert.deepEqual(byName.get('acme/api')!.project, {
      uuid: other.project.uuid,
      key: other.project.key,
      name: other.project.name,
    });
  });

  it('project= narrows every stats, pull-request and export answer to its repositories', async () => {
    const web = byName.get('acme/web')!.project!.uuid;
    const acme = byName.get('acme/api')!.project!.uuid;
    assert.equal(await commitsOf(api, {}), 10);
    assert.equal(await commitsOf(api, { project: web }), 6);
    assert.equal(await commitsOf(api, { project: acme }), 4);
    assert.equal(await commitsOf(api, { project: [web, acme] }), 10);
    // Braces optional, any case: the same project.
    assert.equal(await commitsOf(api, { project: web.replace(/[{}]/g, '').toUpperCase() }), 6);
    // Both filters: only repositories matching both.
    assert.equal(await commitsOf(api, { project: web, repository: byName.get('acme/api')!.uuid }), 0);
    assert.equal(await commitsOf(api, { project: '{00000000-0000-4000-8000-000000000000}' }), 0);

    const exported = await api.get('/export/commits', { project: web, format: 'jsonl' });
    const lines = (await exported.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { repository: string });
    assert.equal(lines.length, 6);
    assert.ok(lines.every((l) => l.repository === 'acme/web'));

    for (const endpoint of FILTERED_ENDPOINTS) {
      const res = await api.get(endpoint, { project: web });
      assert.equal(res.status, 200, `${endpoint}: ${await res.text()}`);
      const bad = await api.get(endpoint, { project: 'WEB' });
      assert.equal(bad.status, 400, endpoint);
      assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^project/);
    }
  });

  it("a repository page's token still sees only its repository, whatever the project", async () => {
    const other = byName.get('acme/api')!;
    const page = apiClient(b.app.url, ws, 'repository', { repoUuid: other.uuid });
    assert.equal(await commitsOf(page, {}), 4);
    assert.equal(await commitsOf(page, { project: other.project!.uuid }), 4);
    assert.equal(await commitsOf(page, { project: byName.get('acme/web')!.project!.uuid }), 0);
  });

  it('repo:updated moves a repository to its new project', async () => {
    await b.sim.moveRepository('acme', 'api', { key: 'WEB', name: 'Web' });
    await waitIdle(b);
    const now = await listed();
    assert.deepEqual(now.get('acme/api')!.project, byName.get('acme/web')!.project);
    assert.equal(await commitsOf(api, { project: byName.get('acme/web')!.project!.uuid }), 10);
  });
});
