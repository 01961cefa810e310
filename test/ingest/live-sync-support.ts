import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { ExportCommit, PushCommit, Simulator } from '../../src/simulator/index';
import { mulberry32 } from '../../src/simulator/util';
import { deliver } from '../support/webhooks';
import {
  FAST_RETRY,
  repositoryStatus,
  startIngestWorker,
  waitForReady,
  waitIdle,
  type Backfill,
} from './backfill-harness';

export { waitIdle };

/**
 * Live-sync test helpers on top of the backfill harness: waiting until the queue is idle, the simulator's truth of
 * a repository, the exact comparison of what Tally stored with it, and resending captured webhooks.
 */

const author = { name: 'Ada Live', email: 'ada.live@example.com' };

/** Runs a worker until every repository is ready and the queue idle, then stops it: deliveries from then on wait. */
export async function backfillThenStop(b: Backfill, repositories = 1): Promise<void> {
  const worker = await startIngestWorker(b.app, { bitbucket: FAST_RETRY });
  try {
    await waitForReady(b, repositories);
    await waitIdle(b);
  } finally {
    await worker.stop();
  }
}

/** Commits for `sim.push`, each touching one file with known line counts. */
export function newCommits(count: number, label: string): PushCommit[] {
  return Array.from({ length: count }, (_, i) => ({
    author,
    message: `${label} ${i}\n`,
    files: [{ path: `live/${label}.txt`, added: i + 1, removed: i % 3 }],
  }));
}

/** A small history of its own for a repository created during a test. */
export function smallHistory(count: number): {
  commits: ExportCommit[];
  refs: { branches: Record<string, string>; mainbranch: string };
} {
  const commits: ExportCommit[] = [];
  for (let i = 0; i < count; i++) {
    const hash = createHash('sha1').update(`tools ${i}`).digest('hex');
    commits.push({
      hash,
      parents: i === 0 ? [] : [commits[i - 1]!.hash],
      author: { name: 'Tool Smith', email: 'tools@example.com' },
      date: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
      message: `tools ${i}\n`,
      files: [{ path: 'tool.sh', added: 10 + i, removed: i }],
    });
  }
  return { commits, refs: { branches: { main: commits.at(-1)!.hash }, mainbranch: 'main' } };
}

export interface RepositoryTruth {
  uuid: string;
  slug: string;
  name: string;
  /** Reachable commits (from every branch and tag) with their line counts (binary files count 0). */
  reachable: Map<string, { added: number; removed: number }>;
  /** `branch:<name>` / `tag:<name>` → head hash. */
  refs: Map<string, string>;
}

export function truthOf(sim: Simulator, slug: string): RepositoryTruth {
  const repo = sim.repository('acme', slug);
  const seen = repo.graph.reach(repo.refTips());
  const reachable = new Map<string, { added: number; removed: number }>();
  for (let id = 0; id < seen.length; id++) {
    if (!seen[id]) continue;
    const files = repo.commit(id).files;
    reachable.set(repo.graph.hashOf(id), {
      added: files.reduce((s, f) => s + (f.added ?? 0), 0),
      removed: files.reduce((s, f) => s + (f.removed ?? 0), 0),
    });
  }
  const refs = new Map<string, string>();
  for (const [name, id] of repo.branches) refs.set(`branch:${name}`, repo.graph.hashOf(id));
  for (const [name, id] of repo.tags) refs.set(`tag:${name}`, repo.graph.hashOf(id));
  return { uuid: repo.uuid, slug: repo.slug, name: repo.name, reachable, refs };
}

/**
 * What Tally stored equals the simulator's truth: for each live repository its names, exactly its reachable
 * commits counted (with their line counts; the others marked unreachable), counters, and named refs at their real
 * heads; deleted repositories out of the graphs and the API; workspace rollups equal to the truth's sums.
 */
export async function assertMatchesSimulator(
  b: Backfill,
  live: RepositoryTruth[],
  options: { deletedUuids?: string[]; namedRefs?: string[] } = {},
): Promise<void> {
  const { admin, tenantId } = b;
  let commits = 0;
  let added = 0;
  let removed = 0;
  for (const truth of live) {
    const { rows: repos } = await admin.query(
      'select id, full_name, slug, name, deleted_at from repositories where tenant_id = $1 and uuid = $2',
      [tenantId, truth.uuid],
    );
    assert.equal(repos.length, 1, `repository ${truth.slug} stored once`);
    const repo = repos[0];
    assert.deepEqual(
      { full_name: repo.full_name, slug: repo.slug, name: repo.name, deleted: repo.deleted_at !== null },
      { full_name: `acme/${truth.slug}`, slug: truth.slug, name: truth.name, deleted: false },
    );
    const { rows } = await admin.query(
      `select hash, lines_added, lines_removed, unreachable_since is null as reachable
         from commits where tenant_id = $1 and repository_id = $2`,
      [tenantId, repo.id],
    );
    const counted = rows.filter((r) => r.reachable);
    const missing = [...truth.reachable.keys()].filter((h) => !counted.some((r) => r.hash === h));
    const extra = counted.filter((r) => !truth.reachable.has(r.hash)).map((r) => r.hash);
    assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, { missing: [], extra: [] });
    assert.equal(counted.length, truth.reachable.size);
    const wrongLines = counted.filter((r) => {
      const t = truth.reachable.get(r.hash)!;
      return r.lines_added !== t.added || r.lines_removed !== t.removed;
    });
    assert.deepEqual(wrongLines.slice(0, 3), [], `${truth.slug}: line counts of reachable commits`);
    for (const t of truth.reachable.values()) {
      commits++;
      added += t.added;
      removed += t.removed;
    }

    const { rows: refs } = await admin.query(
      'select kind, name, head from branches where tenant_id = $1 and repository_id = $2',
      [tenantId, repo.id],
    );
    for (const ref of refs)
      assert.equal(
        truth.refs.get(`${ref.kind}:${ref.name}`),
        ref.head,
        `${truth.slug} ${ref.kind} ${ref.name}`,
      );
    const stored = new Set(refs.map((r) => `${r.kind}:${r.name}`));
    for (const key of options.namedRefs ?? []) {
      if (truth.refs.has(key)) assert.ok(stored.has(key), `${truth.slug}: ${key} recorded`);
      else assert.ok(!stored.has(key), `${truth.slug}: ${key} removed`);
    }
  }

  const listed = await repositoryStatus(b);
  assert.deepEqual(listed.map((r) => r.uuid).sort(), live.map((t) => t.uuid).sort());
  const { rows: counters } = await admin.query(
    `select r.uuid, r.commits_known, r.commits_with_lines,
            (select count(*)::int from commits c where c.tenant_id = r.tenant_id and c.repository_id = r.id) as known,
            (select count(lines_added)::int from commits c where c.tenant_id = r.tenant_id and c.repository_id = r.id) as with_lines
       from repositories r where r.tenant_id = $1 and r.deleted_at is null`,
    [tenantId],
  );
  for (const c of counters)
    assert.deepEqual(
      [c.commits_known, c.commits_with_lines],
      [c.known, c.with_lines],
      `counters of ${c.uuid}`,
    );

  for (const uuid of options.deletedUuids ?? []) {
    const { rows } = await admin.query(
      `select r.deleted_at, (select count(*)::int from rollups_hourly h where h.tenant_id = r.tenant_id and h.repository_id = r.id) as rollups
         from repositories r where r.tenant_id = $1 and r.uuid = $2`,
      [tenantId, uuid],
    );
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0].deleted_at, null, `repository ${uuid} marked deleted`);
    assert.equal(rows[0].rollups, 0, `deleted repository ${uuid} left the graphs`);
  }

  const { rows: sums } = await admin.query(
    `select coalesce(sum(commits), 0)::int as commits, coalesce(sum(lines_added_all), 0)::int as added,
            coalesce(sum(lines_removed_all), 0)::int as removed
       from workspace_rollups_daily where tenant_id = $1`,
    [tenantId],
  );
  assert.deepEqual(sums[0], { commits, added, removed }, 'workspace rollups equal the truth');
}

/** Every stored row live sync decides, as text (reachability as a flag: its timestamp is when it happened). */
export async function syncSnapshot(admin: pg.Client, tenantId: string): Promise<string> {
  const parts: unknown[][] = [];
  for (const sql of [
    `select repository_id, hash, lines_added, lines_removed, files_changed, unreachable_since is null as reachable
       from commits where tenant_id = $1 order by 1, 2`,
    'select repository_id, kind, name, head from branches where tenant_id = $1 order by 1, 2, 3',
    'select repository_id, hash, left_at is null as tip from unnamed_heads where tenant_id = $1 order by 1, 2',
    'select uuid, full_name, slug, name, deleted_at is null as live from repositories where tenant_id = $1 order by 1',
    'select * from workspace_rollups_daily where tenant_id = $1 order by bucket, is_merge, is_bot',
  ])
    parts.push((await admin.query(sql, [tenantId])).rows);
  return JSON.stringify(parts);
}

export interface CapturedDelivery {
  id: string;
  event: string;
  url: string;
  body: unknown;
}

/** The simulator's webhook deliveries so far (not lifecycle calls). */
export function capturedWebhooks(sim: Simulator): CapturedDelivery[] {
  return sim.deliveries
    .filter((d) => d.kind === 'webhook')
    .map((d) => ({ id: d.id, event: d.event, url: d.url, body: d.body }));
}

/** A seeded Fisher–Yates shuffle: the same seed gives the same order on every run. */
export function shuffled<T>(items: T[], seed: number): T[] {
  const random = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Sends captured deliveries again, signed like Bitbucket, each `times` times with a fresh X-Request-UUID (so
 * they are stored and processed again, not deduplicated), the whole lot in a seeded shuffled order.
 */
export async function resend(b: Backfill, deliveries: CapturedDelivery[], times: number, seed: number) {
  const copies = deliveries.flatMap((d) => Array.from({ length: times }, () => d));
  const ws = { slug: 'acme', uuid: '', clientKey: b.clientKey, sharedSecret: b.sharedSecret };
  for (const d of shuffled(copies, seed)) {
    const res = await deliver(b.app.url, ws, new URL(d.url).pathname, d.event, JSON.stringify(d.body));
    assert.equal(res.status, 204, `resent ${d.event}: ${res.body}`);
  }
}
