import type { Knex } from 'knex';
import { enqueueJob } from '../../db/job-queue';
import { PROCESS_WEBHOOK_TASK, SYNC_PUSHES_TASK } from '../webhook-router';

/** Task identifiers of live sync (registered in src/ingest/tasks.ts). */
export const SYNC_TASKS = {
  webhook: PROCESS_WEBHOOK_TASK,
  pushes: SYNC_PUSHES_TASK,
  pushDiffstats: 'sync_push_diffstats',
  pullRequests: 'backfill_pull_requests',
} as const;

type Queryable = Knex | Knex.Transaction;

/** The intake's queue: a tenant's deliveries are processed one at a time, in arrival order. */
const webhookQueue = (tenantId: string) => `webhooks:${tenantId}`;
/** Diffstats of pushed commits: their own queue, so the next delivery does not wait for them. */
const pushDiffstatsQueue = (tenantId: string) => `push-diffstats:${tenantId}`;
/**
 * The pull-request pass: a queue of its own beside the commit backfill's (src/ingest/scheduler.ts), so that it
 * overlaps the commit listing and diffstats (it needs no commits) while a tenant's passes still run one at a time.
 */
const pullRequestQueue = (tenantId: string) => `backfill-prs:${tenantId}`;

/** Lower runs sooner. Pushes first; with few workers free, pull requests after listing (20), before diffstats (30). */
const PRIORITY = { webhookRetry: -10, pushDiffstats: -5, pullRequests: 25 } as const;

/** A delivery waits for the request budget: the same job again, once there is room. */
export async function enqueueWebhookRetry(
  db: Queryable,
  tenantId: string,
  requestUuid: string,
  runAt: Date,
): Promise<void> {
  await enqueueJob(
    db,
    SYNC_TASKS.webhook,
    { tenantId, requestUuid },
    {
      queueName: webhookQueue(tenantId),
      priority: PRIORITY.webhookRetry,
      runAt,
      jobKey: `webhook:${tenantId}:${requestUuid}`,
    },
  );
}

/**
 * A repository's waiting pushes synced again (more wait than one sync takes, or the request budget is spent): the
 * key and queue the intake gives push jobs (migrations/202612072001_coalesced_push_intake.ts), so pushes that
 * arrive meanwhile join this job. A job that waits keeps its run_at (a budget wait is not cut short).
 */
export async function enqueuePushSync(
  db: Queryable,
  tenantId: string,
  repositoryUuid: string,
  runAt?: Date,
): Promise<void> {
  await enqueueJob(
    db,
    SYNC_TASKS.pushes,
    { tenantId, repositoryUuid },
    {
      queueName: webhookQueue(tenantId),
      priority: PRIORITY.webhookRetry,
      runAt,
      jobKey: `pushes:${tenantId}:${repositoryUuid}`,
      jobKeyMode: 'preserve_run_at',
    },
  );
}

/** Line counts of commits a push brought, fetched at push priority. */
export async function enqueuePushDiffstats(
  db: Queryable,
  tenantId: string,
  repositoryId: number,
  hashes: string[],
  runAt?: Date,
): Promise<void> {
  if (hashes.length === 0) return;
  await enqueueJob(
    db,
    SYNC_TASKS.pushDiffstats,
    { tenantId, repositoryId, hashes },
    { queueName: pushDiffstatsQueue(tenantId), priority: PRIORITY.pushDiffstats, runAt },
  );
}

/** A pass over a repository's pull requests, in the tenant's pull-request queue (one step at a time, fair turns). */
export async function enqueuePullRequestBackfill(
  db: Queryable,
  tenantId: string,
  repositoryId: number,
  runAt?: Date,
): Promise<void> {
  await enqueueJob(
    db,
    SYNC_TASKS.pullRequests,
    { tenantId, repositoryId },
    {
      queueName: pullRequestQueue(tenantId),
      priority: PRIORITY.pullRequests,
      jobKey: `backfill-prs:${tenantId}:${repositoryId}`,
      runAt,
    },
  );
}
