import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REBUILD_ROLLUPS_TASK } from '../../src/analytics/rollup-rebuild';
import { startWorker } from '../../src/main/worker';
import { readExport, syntheticAccount, type ExportCommit } from '../support/load-export';
import { contributorTotals, type Semantics } from './expected';
import {
  apiClient,
  load,
  runPendingRebuilds,
  startAnalyticsApp,
  type AnalyticsFixture,
  type ApiClient,
} from './helpers';

/**
 * Settings and identity merges: changed only from the configure page (admin-only in Bitbucket); a change of what
 * counts answers at once and is applied by the rebuild_rollups job, after which figures are exact again.
 */

interface Contributor {
  key: string;
  commits: number;
  lines_added: number;
  lines_removed: number;
}

describe('analytics settings', () => {
  let f: AnalyticsFixture;
  let commits: ExportCommit[];
  let other: ExportCommit[];
  let repository: string;
  let otherRepository: string;
  const base: Semantics = { accountOf: syntheticAccount };
  const markdown = (path: string) => path.endsWith('.md');

  before(async () => {
    f = await startAnalyticsApp();
    const history = readExport();
    commits = history.slice(0, 1500);
    other = history.slice(3000, 3600);
    repository = (await load(f, commits)).uuid;
    otherRepository = (await load(f, other, { repository: { fullName: 'acme/second' } })).uuid;
  });
  after(() => f.app.close());

  const contributors = async (params: Record<string, string> = {}) =>
    new Map(
      (await f.api.json<{ contributors: Contributor[] }>('/stats/contributors', params)).contributors.map(
        (c) => [c.key, c],
      ),
    );
  const linesOf = (totals: Map<string, { lines_added: number }>) =>
    [...totals.values()].reduce((sum, t) => sum + t.lines_added, 0);
  const pendingJobs = async () =>
    (
      await f.app.runtime.db.knex.raw(
        `select j.payload from graphile_worker._private_jobs j
           join graphile_worker._private_tasks t on t.id = j.task_id
          where t.identifier = ? and j.payload->>'tenantId' = ?`,
        [REBUILD_ROLLUPS_TASK, f.tenantId],
      )
    ).rows as { payload: { tenantId: string; repositoryId?: number } }[];

  it('only a configure-page token may change settings or identities; admin pages may read them', async () => {
    const admins: ApiClient[] = [f.api, apiClient(f.app.url, f.ws, '')];
    const others: ApiClient[] = [
      apiClient(f.app.url, f.ws, 'repository', { repoUuid: repository }),
      apiClient(f.app.url, f.ws, 'profile', { user: '{6f9619ff-8b86-d011-b42d-00c04fc964ff}' }),
    ];
    const before = await (await f.admin.get('/settings')).json();
    const changes: [string, string, unknown][] = [
      ['PUT', '/settings', { bot_patterns: ['someone'] }],
      ['PUT', `/settings/repositories/${encodeURIComponent(repository)}`, { path_exclusions: ['*.md'] }],
      ['POST', '/identities/merge', { into: 'e:a@example.com', from: ['e:b@example.com'] }],
      ['DELETE', `/identities/merge/${encodeURIComponent('e:a@example.com')}`, {}],
    ];
    for (const client of [...admins, ...others]) {
      for (const [method, path, body] of changes) {
        const res = await client.send(method, path, body);
        const text = await res.text();
        assert.equal(res.status, 403, `${method} ${path}: ${text}`);
        assert.equal(JSON.parse(text).error.code, 'admin_only');
      }
      for (const path of [
        '/settings',
        `/settings/repositories/${encodeURIComponent(repository)}`,
        '/identities',
      ]) {
        const res = await client.get(path);
        if (admins.includes(client)) assert.equal(res.status, 200, path);
        else assert.deepEqual([res.status, (await res.json()).error.code], [403, 'outside_scope'], path);
      }
    }
    assert.deepEqual(await (await f.admin.get('/settings')).json(), before, 'nothing changed');
    assert.deepEqual(await pendingJobs(), []);
  });

  it('a change of what counts answers 202 at once, queues one rebuild per tenant, and the worker applies it', async () => {
    const unchanged = await contributors();
    const first = await f.admin.send('PUT', '/settings', { path_exclusions: ['*.md'] });
    assert.equal(first.status, 202);
    const body = await first.json();
    assert.deepEqual(body.path_exclusions, ['*.md']);
    assert.equal(body.rebuild_pending, true);
    // The request did not rebuild: the figures are the previous settings' until the job runs.
    assert.deepEqual(await contributors(), unchanged);
    const second = await f.admin.send('PUT', '/settings', { path_exclusions: ['*.md', 'test/'] });
    assert.equal(second.status, 202);
    const second2 = await f.admin.send('PUT', '/settings', { path_exclusions: ['*.md'] });
    assert.equal(second2.status, 202);
    assert.deepEqual(
      (await pendingJobs()).map((j) => j.payload),
      [{ tenantId: f.tenantId }],
      'repeated changes coalesce into one job',
    );
    assert.equal((await (await f.api.get('/settings')).json()).rebuild_pending, true);

    // The install queued a backfill, which would try a Bitbucket that is not there: only the rebuild runs here.
    await f.app.runtime.db.knex.raw(
      `delete from graphile_worker._private_jobs j using graphile_worker._private_tasks t
        where t.id = j.task_id and t.identifier <> ?`,
      [REBUILD_ROLLUPS_TASK],
    );
    const worker = await startWorker(f.app.runtime);
    try {
      const deadline = Date.now() + 120_000;
      while ((await (await f.api.get('/settings')).json()).rebuild_pending) {
        assert.ok(Date.now() < deadline, 'the rebuild job ran');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await worker.stop();
    }
    const all = [...commits, ...other];
    const expected = contributorTotals(all, { ...base, excluded: markdown });
    const actual = await contributors();
    assert.equal(actual.size, expected.size);
    for (const [key, e] of expected)
      assert.deepEqual(
        [actual.get(key)?.lines_added, actual.get(key)?.lines_removed],
        [e.lines_added, e.lines_removed],
        key,
      );
    assert.ok(linesOf(expected) < linesOf(contributorTotals(all, base)), 'the sample has markdown files');
  });

  it("a repository's own exclusions rebuild that repository only", async () => {
    const res = await f.admin.send('PUT', `/settings/repositories/${encodeURIComponent(otherRepository)}`, {
      path_exclusions: ['!*.md', 'lib/'],
    });
    assert.equal(res.status, 202);
    const jobs = await pendingJobs();
    assert.equal(jobs.length, 1);
    assert.equal(typeof jobs[0]!.payload.repositoryId, 'number');
    assert.equal(await runPendingRebuilds(f), 1);
    // The repository re-includes markdown and leaves out lib/; the workspace's `*.md` still applies elsewhere.
    const inOther = (path: string) => path.split('/').slice(0, -1).includes('lib');
    const expectedOther = contributorTotals(other, { ...base, excluded: inOther });
    const actualOther = await contributors({ repository: otherRepository });
    for (const [key, e] of expectedOther) assert.equal(actualOther.get(key)?.lines_added, e.lines_added, key);
    const expectedFirst = contributorTotals(commits, { ...base, excluded: markdown });
    const actualFirst = await contributors({ repository });
    for (const [key, e] of expectedFirst) assert.equal(actualFirst.get(key)?.lines_added, e.lines_added, key);
  });

  it('a time-zone change needs no rebuild: 200, nothing queued', async () => {
    const res = await f.admin.send('PUT', '/settings', { timezone: 'Europe/Berlin' });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.timezone, 'Europe/Berlin');
    assert.equal(body.rebuild_pending, false);
    assert.deepEqual(await pendingJobs(), []);
  });
});
