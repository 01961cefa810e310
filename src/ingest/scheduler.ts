import type { Knex } from 'knex';
import { enqueueJob } from '../db/job-queue';

/** Task identifiers of the backfill (registered in src/ingest/tasks.ts). */
export const BACKFILL_TASKS = {
  tenant: 'backfill_tenant',
  commits: 'backfill_commits',
  diffstats: 'backfill_diffstats',
} as const;

/**
 * One queue per tenant: its backfill steps run one at a time, whichever worker process takes them, and tenants
 * take turns (each step re-enqueues itself behind the other tenants' waiting steps). The pull-request pass and push
 * syncs use queues of their own (src/ingest/sync/scheduling.ts); push syncs with a higher priority and the `high`
 * budget.
 */
export const backfillQueue = (tenantId: string) => `backfill:${tenantId}`;

/** graphile-worker priorities (lower runs sooner): listing before commit pages before diffstats. */
const PRIORITY = { tenant: 10, commits: 20, diffstats: 30 } as const;

/** Repositories are listed again this often, so ones created later are picked up even without a webhook. */
export const RELIST_INTERVAL_MS = 6 * 3_600_000;

export const tenantJobKey = (tenantId: string) => `backfill:${tenantId}`;
/** Commit and diffstat steps of one repository share a key: at most one of them is ever pending. */
export const repositoryJobKey = (tenantId: string, repositoryId: number) =>
  `backfill:${tenantId}:${repositoryId}`;

/** Starts (or resumes) a tenant's backfill: list its repositories, then backfill each one that is not ready. */
export async function enqueueTenantBackfill(
  db: Knex | Knex.Transaction,
  tenantId: string,
  runAt?: Date,
): Promise<void> {
  await enqueueJob(
    db,
    BACKFILL_TASKS.tenant,
    { tenantId },
    { queueName: backfillQueue(tenantId), priority: PRIORITY.tenant, jobKey: tenantJobKey(tenantId), runAt },
  );
}

/** The next step of a repository's backfill, for the phase it is in. */
export async function enqueueRepositoryStep(
  db: Knex | Knex.Transaction,
  tenantId: string,
  repositoryId: number,
  phase: 'listing' | 'diffstats',
  runAt?: Date,
): Promise<void> {
  const task = phase === 'listing' ? BACKFILL_TASKS.commits : BACKFILL_TASKS.diffstats;
  await enqueueJob(
    db,
    task,
    { tenantId, repositoryId },
    {
      queueName: backfillQueue(tenantId),
      priority: phase === 'listing' ? PRIORITY.commits : PRIORITY.diffstats,
      jobKey: repositoryJobKey(tenantId, repositoryId),
      runAt,
    },
  );
}
