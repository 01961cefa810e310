import type { Database, Trx } from '../db/database';
import { enqueueJob } from '../db/job-queue';
import { rebuildRollups } from './rollups';

/**
 * Settings changes (exclusions, bot patterns) rebuild facts and rollups in a job, not in the request: at a million
 * commits a rebuild takes tens of seconds. The job is enqueued in the transaction that saves the settings, so it
 * exists exactly when the change does. Until it has run, graphs show the previous settings' figures.
 *
 * Jobs of a tenant run one at a time (one queue per tenant); a change made while a rebuild of the same scope is
 * still waiting replaces it (job key per tenant and scope), so a burst of changes costs one rebuild, and a change
 * made while one runs gets a rebuild after it.
 */

export const REBUILD_ROLLUPS_TASK = 'rebuild_rollups';

export interface RebuildPayload {
  tenantId: string;
  /** Only this repository's facts (its own exclusions changed); the whole tenant when absent. */
  repositoryId?: number;
}

export async function enqueueRollupRebuild(trx: Trx, payload: RebuildPayload): Promise<void> {
  const scope = payload.repositoryId === undefined ? '' : `:${payload.repositoryId}`;
  await enqueueJob(
    trx,
    REBUILD_ROLLUPS_TASK,
    { ...payload },
    {
      queueName: `rollups:${payload.tenantId}`,
      jobKey: `${REBUILD_ROLLUPS_TASK}:${payload.tenantId}${scope}`,
      jobKeyMode: 'replace',
    },
  );
}

/** The job's body: one transaction, so a rebuild that fails (and is retried) leaves nothing half-done. */
export async function runRollupRebuild(db: Database, payload: RebuildPayload): Promise<void> {
  await db.withTenant(payload.tenantId, (trx) => rebuildRollups(trx, payload.repositoryId));
}

/** Whether a rebuild of the tenant is waiting or running (one that failed for good is not). */
export async function rebuildPending(trx: Trx, tenantId: string): Promise<boolean> {
  const { rows } = await trx.raw(
    `select exists (
       select 1 from graphile_worker._private_jobs j
         join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = ? and j.payload->>'tenantId' = ? and j.attempts < j.max_attempts
     ) as pending`,
    [REBUILD_ROLLUPS_TASK, tenantId],
  );
  return rows[0].pending as boolean;
}

/**
 * Rebuilds (queued) for the repositories whose Bitbucket project changed since their facts were counted
 * (repositories.project_id ≠ rollups_project_id): their facts and project rollups follow them. Called after
 * repositories are written (listing, repo:updated); a rebuild already waiting is replaced, so calling it again is
 * harmless. Until the rebuild has run, project filters touching such a repository read per-repository rollups.
 */
export async function enqueueProjectMoves(trx: Trx, tenantId: string): Promise<number> {
  const moved = (await trx('repositories').select('id').whereRaw('project_id <> rollups_project_id')) as {
    id: number;
  }[];
  for (const { id } of moved) await enqueueRollupRebuild(trx, { tenantId, repositoryId: Number(id) });
  return moved.length;
}
