import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Runner } from 'graphile-worker';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import { enqueueRepositoryStep } from '../../src/ingest/scheduler';
import {
  EXPRESS_EXPORT,
  exportTotals,
  snapshot,
  startBackfill,
  startIngestWorker,
  storedTotals,
  waitForReady,
  waitIdle,
  type Backfill,
} from './backfill-harness';

/**
 * The experimental fast path for line counts (workspace setting `line_counts_from_patches`, issue 17): with it on,
 * the backfill of the express history counts lines from patch series, and every contributor's totals and every
 * file's row equal the export and the diffstat path's, in a fraction of the requests. Off, phase 2 is the diffstat
 * path again.
 */
describe('line counts from patch series on the express history', () => {
  let b: Backfill;
  let worker: Runner | undefined;
  const jobErrors: string[] = [];
  let fromPatches: string;

  before(async () => {
    b = await startBackfill();
  });
  after(async () => {
    await worker?.stop();
    await b?.close();
  });

  const token = (page: 'workspace' | 'configure') =>
    createSessionToken({
      appKey: 'tally',
      clientKey: b.clientKey,
      secret: b.sharedSecret,
      page,
      scope: scopeForPage(page, {}),
    });
  const settings = async (page: 'workspace' | 'configure', body?: object) => {
    const res = await fetch(`${b.app.url}/api/v1/settings`, {
      method: body ? 'PUT' : 'GET',
      headers: { authorization: `JWT ${token(page)}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const requestsTo = (kind: 'patch' | 'diffstat', from = 0) =>
    b.sim.requestLog.slice(from).filter((r) => r.path.includes(`/${kind}/`) && r.status === 200).length;

  async function runWorker(): Promise<void> {
    worker = await startIngestWorker(b.app);
    worker.events.on('job:error', ({ job, error }) =>
      jobErrors.push(`${job.task_identifier}: ${error instanceof Error ? error.message : String(error)}`),
    );
    await waitForReady(b);
    await waitIdle(b);
    await worker.stop();
    worker = undefined;
  }

  it('is off by default, and only the configure page (admins) turns it on', async () => {
    assert.equal((await settings('workspace')).body.line_counts_from_patches, false);
    // The workspace analytics page reads the whole workspace, but changes need the configure page.
    const refused = await settings('workspace', { line_counts_from_patches: true });
    assert.equal(refused.status, 403);
    assert.equal((await settings('configure', { line_counts_from_patches: 'yes' })).status, 400);
    const on = await settings('configure', { line_counts_from_patches: true });
    assert.equal(on.status, 200, 'no rebuild: where counts come from is not what they are');
    assert.equal(on.body.line_counts_from_patches, true);
    assert.equal((await settings('workspace')).body.line_counts_from_patches, true);
  });

  it('on: every total and every file equals the export, for a fraction of the requests', async (t) => {
    await runWorker();
    assert.deepEqual(jobErrors, []);
    const totals = await storedTotals(b.admin, b.tenantId);
    const expected = exportTotals();
    assert.deepEqual(totals.withoutMerges, expected.withoutMerges, 'per author, merges excluded');
    assert.deepEqual(totals.withMerges, expected.withMerges, 'per author, merges included');
    assert.equal(totals.files, expected.files);

    // File by file against the export (binary files count 0 lines and are marked).
    const { rows } = await b.admin.query(
      `select hash, path, old_path, lines_added, lines_removed, is_binary from commit_files where tenant_id = $1`,
      [b.tenantId],
    );
    const stored = new Map(rows.map((r) => [`${r.hash} ${r.path}`, r]));
    for (const line of gunzipSync(readFileSync(EXPRESS_EXPORT)).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      const c = JSON.parse(line) as {
        hash: string;
        files: { path: string; old_path?: string; added: number | null; removed: number | null }[];
      };
      for (const f of c.files) {
        const binary = f.added === null || f.removed === null;
        assert.deepEqual(
          stored.get(`${c.hash} ${f.path}`),
          {
            hash: c.hash,
            path: f.path,
            old_path: f.old_path ?? null,
            lines_added: binary ? 0 : f.added,
            lines_removed: binary ? 0 : f.removed,
            is_binary: binary,
          },
          `${c.hash} ${f.path}`,
        );
      }
    }

    const patches = requestsTo('patch');
    const diffstats = requestsTo('diffstat');
    const merges = Object.values(expected.withMerges).reduce((s, a) => s + a.commits, 0) - totals.commits;
    assert.ok(patches > 0, 'patch series were read');
    // Diffstats for the merges (536), the binary commits, the root and commits between merges; far fewer in all.
    assert.ok(
      patches + diffstats < expected.commits / 4,
      `${patches} series and ${diffstats} diffstats for ${expected.commits} commits (${merges})`,
    );
    t.diagnostic(`${patches} patch series and ${diffstats} diffstats for ${expected.commits} commits`);
    fromPatches = await snapshot(b.admin, b.tenantId);
  });

  it('off: phase 2 goes back to diffstats, and the diffstat path stores the very same rows', async () => {
    assert.equal((await settings('configure', { line_counts_from_patches: false })).status, 200);
    // Every commit's line counts forgotten, as if phase 2 had not run yet.
    await b.admin.query('begin');
    await b.admin.query(`select set_config('app.tenant_id', $1, true)`, [b.tenantId]);
    await b.admin.query('delete from commit_files where tenant_id = $1', [b.tenantId]);
    await b.admin.query(
      'update commits set lines_added = null, lines_removed = null, files_changed = null where tenant_id = $1',
      [b.tenantId],
    );
    const { rows } = await b.admin.query(
      `update repositories set sync_state = 'diffstats', commits_with_lines = 0
        where tenant_id = $1 returning id`,
      [b.tenantId],
    );
    await b.admin.query('commit');
    await enqueueRepositoryStep(b.app.runtime.db.knex, b.tenantId, rows[0].id, 'diffstats');
    const before = b.sim.requestLog.length;
    await runWorker();
    assert.deepEqual(jobErrors, []);
    assert.equal(requestsTo('patch', before), 0, 'no patch series once the opt-in is off');
    assert.equal(requestsTo('diffstat', before), exportTotals().commits);
    assert.equal(await snapshot(b.admin, b.tenantId), fromPatches, 'every commit and file row is identical');
  });
});
