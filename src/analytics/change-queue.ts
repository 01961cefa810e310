import type { Knex } from 'knex';
import type { Database, Trx } from '../db/database';
import { enqueueJob } from '../db/job-queue';
import { markReadyWhereComplete } from '../db/repository-store';
import { recordPullRequestChanges } from './pull-request-facts';
import { recordCommitChanges } from './rollups';

/**
 * Analytics follow ingest one step behind. An ingest write records which commits and pull requests it changed
 * (`analytics_changes`, in its own transaction, so a change is never lost) and makes sure an
 * `apply_analytics_changes` job is waiting; the job brings their facts and rollups up to date in large batches.
 * Ingest writes stay small and fast (no rollup upkeep inside them), and the upkeep of a burst of writes is paid
 * once per batch, not once per write. Graphs lag the stored commits by a second or two.
 *
 * The job runs in the tenant's `rollups:` queue, one at a time with settings rebuilds (rollup-rebuild.ts). Applying
 * a change twice is harmless (upkeep writes differences only), so a job killed half-way simply runs again.
 *
 * Lock order: queueing locks the tenant's one waiting apply job, so an ingest transaction queues its changes after
 * it has updated `repositories` rows. Every ingest write then takes repository rows first and the job last, and two
 * of them (say a push sync and a backfill step that refreshes every repository's ETA) cannot deadlock.
 */

export const APPLY_ANALYTICS_CHANGES_TASK = 'apply_analytics_changes';

type Subject = 'commit' | 'pull_request';

/** How long changes gather before a job applies them (graphs lag writes by this, plus the queue's poll interval). */
const GATHER_MS = 1000;

/** Changes applied per transaction at most: large enough to amortise the upkeep's statements, bounded in time. */
const CHANGES_PER_TRANSACTION = 20_000;

async function queueChanges(
  trx: Trx,
  tenantId: string,
  subject: Subject,
  repositoryId: number,
  keys: string[],
): Promise<void> {
  if (keys.length === 0) return;
  await trx.raw(
    `insert into analytics_changes (tenant_id, subject, repository_id, key)
     select ?::uuid, ?, ?::bigint, k from unnest(?::text[]) k
     on conflict do nothing`,
    [tenantId, subject, repositoryId, keys],
  );
  await enqueueApply(trx, tenantId);
}

/**
 * Makes sure an apply job waits for the tenant. Changes gather for a moment, so a burst of writes is applied in a
 * few large batches: a waiting job keeps its time. `now`: at a milestone (a repository's listing or backfill is
 * complete) the waiting job runs at once. A job already running gets a successor (graphile-worker moves the key).
 */
async function enqueueApply(db: Knex | Trx, tenantId: string, now = false): Promise<void> {
  await enqueueJob(
    db,
    APPLY_ANALYTICS_CHANGES_TASK,
    { tenantId },
    {
      queueName: `rollups:${tenantId}`,
      jobKey: `${APPLY_ANALYTICS_CHANGES_TASK}:${tenantId}`,
      runAt: now ? undefined : new Date(Date.now() + GATHER_MS),
      jobKeyMode: now ? 'replace' : 'preserve_run_at',
    },
  );
}

/** In an ingest transaction that completes a milestone: what it and earlier writes queued is applied at once. */
export function applyQueuedChangesNow(trx: Trx, tenantId: string): Promise<void> {
  return enqueueApply(trx, tenantId, true);
}

/** In an ingest transaction: these commits were written or changed (metadata, line counts, reachability). */
export function queueCommitChanges(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  hashes: string[],
): Promise<void> {
  return queueChanges(trx, tenantId, 'commit', repositoryId, [...new Set(hashes)]);
}

/** In an ingest transaction: these pull requests were written or deleted. */
export function queuePullRequestChanges(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  ids: number[],
): Promise<void> {
  return queueChanges(trx, tenantId, 'pull_request', repositoryId, [...new Set(ids)].map(String));
}

/**
 * Applies waiting changes, one transaction per batch (taking a batch and applying it commit together), until none
 * wait or `deadline` (performance.now()) passes. Returns whether changes are left.
 */
export async function applyAnalyticsChanges(
  db: Database,
  tenantId: string,
  deadline = Infinity,
): Promise<boolean> {
  for (;;) {
    const taken = await db.withTenant(tenantId, async (trx) => {
      const { rows } = await trx.raw<{ rows: { subject: Subject; repository_id: number; key: string }[] }>(
        `delete from analytics_changes a
          using (select subject, repository_id, key from analytics_changes
                  where tenant_id = ? order by subject, repository_id limit ? for update skip locked) t
          where a.tenant_id = ? and a.subject = t.subject and a.repository_id = t.repository_id and a.key = t.key
          returning a.subject, a.repository_id, a.key`,
        [tenantId, CHANGES_PER_TRANSACTION, tenantId],
      );
      const groups = new Map<string, { subject: Subject; repositoryId: number; keys: string[] }>();
      for (const row of rows) {
        const id = `${row.subject}:${row.repository_id}`;
        let group = groups.get(id);
        if (!group)
          groups.set(id, (group = { subject: row.subject, repositoryId: row.repository_id, keys: [] }));
        group.keys.push(row.key);
      }
      // Repositories in a fixed order, so that concurrent upkeep locks them in the same order.
      for (const group of [...groups.values()].sort((a, b) => a.repositoryId - b.repositoryId)) {
        if (group.subject === 'commit') await recordCommitChanges(trx, group.repositoryId, group.keys);
        else await recordPullRequestChanges(trx, group.repositoryId, group.keys.map(Number));
      }
      return rows.length;
    });
    if (taken < CHANGES_PER_TRANSACTION) return false;
    if (performance.now() > deadline) return true;
  }
}

/**
 * The job: applies what waits for a bounded time, and hands the rest to a successor (fair turns in the queue).
 * Then every repository whose backfill is complete and whose changes are all applied becomes `ready` (so `ready`
 * means the numbers are right); returns the ids it marked.
 */
export async function runApplyAnalyticsChanges(
  db: Database,
  payload: { tenantId: string },
  stepMs: number,
  now: () => Date = () => new Date(),
): Promise<number[]> {
  const more = await applyAnalyticsChanges(db, payload.tenantId, performance.now() + stepMs);
  if (more) await enqueueApply(db.knex, payload.tenantId);
  return db.withTenant(payload.tenantId, (trx) => markReadyWhereComplete(trx, payload.tenantId, null, now()));
}

/** Changes of the current tenant not applied yet. */
export async function pendingAnalyticsChanges(trx: Trx): Promise<number> {
  const { rows } = await trx.raw(`select count(*)::int as n from analytics_changes`);
  return rows[0].n as number;
}
