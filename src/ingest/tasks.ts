import type { JobHelpers, Task, TaskList } from 'graphile-worker';
import { z } from 'zod';
import { APPLY_ANALYTICS_CHANGES_TASK, runApplyAnalyticsChanges } from '../analytics/change-queue';
import { REBUILD_ROLLUPS_TASK, runRollupRebuild } from '../analytics/rollup-rebuild';
import type { RetryPolicy } from '../bitbucket/client';
import type { RequestBudget } from '../bitbucket/budget';
import type { Database } from '../db/database';
import { HOUR_MS, PostgresRequestBudget, prepaidChunk } from '../db/request-budget-store';
import type { TenantStore } from '../db/tenant-store';
import type { Logger } from '../platform/logger';
import {
  backfillCommits,
  backfillDiffstats,
  backfillTenant,
  DEFAULT_TUNING,
  markRepositoryFailed,
  type BackfillContext,
  type BackfillTuning,
} from './backfill-jobs';
import { VERIFY_INSTALLATION_TASK, verifyInstallation } from './install-verification';
import { startDeadWorkerSweeper, withJobLease } from './job-lease';
import { BACKFILL_TASKS } from './scheduler';
import { processWebhook, syncPushes } from './sync/process-webhook';
import { backfillPullRequests } from './sync/pull-request-sync';
import { syncPushDiffstats } from './sync/push-diffstats';
import { SYNC_TASKS } from './sync/scheduling';

/** What every job needs; built once per worker process in src/main. */
export interface JobDeps {
  db: Database;
  tenants: TenantStore;
  logger: Logger;
  requestsPerHour: number;
  now: () => Date;
  /** The budget's window; an hour unless a benchmark scales time down. */
  requestWindowMs?: number;
  /** Backfill step sizes (tests and benchmarks). */
  backfill?: Partial<BackfillTuning>;
  /** Bitbucket client behaviour (tests use short retry delays). */
  bitbucket?: {
    retry?: Partial<RetryPolicy>;
    timeoutMs?: number;
    maxBudgetWaitMs?: number;
    credentialsRetryMs?: number;
  };
}

/** The per-tenant request budget shared by every job and worker process. */
export function createRequestBudget(deps: JobDeps): RequestBudget & PostgresRequestBudget {
  return new PostgresRequestBudget(
    deps.db,
    { limit: deps.requestsPerHour, windowMs: deps.requestWindowMs ?? HOUR_MS },
    deps.now,
  );
}

const tenantPayload = z.object({ tenantId: z.uuid() });
const repositoryPayload = tenantPayload.extend({ repositoryId: z.number().int().positive() });
const webhookPayload = tenantPayload.extend({ requestUuid: z.string().min(1).max(128) });
const pushesPayload = tenantPayload.extend({ repositoryUuid: z.string().min(1).max(100) });
const pushDiffstatsPayload = repositoryPayload.extend({
  hashes: z.array(z.string().regex(/^[0-9a-f]{40}$/)).max(100_000),
});

/**
 * Wraps a job body: validates the payload (a malformed one is logged and dropped, never retried forever), holds
 * the job's lease (src/ingest/job-lease.ts), and on the last failed attempt lets `onGiveUp` record the failure.
 */
function task<P>(
  name: string,
  schema: z.ZodType<P>,
  deps: JobDeps,
  body: (payload: P) => Promise<void>,
  onGiveUp?: (payload: P, error: unknown) => Promise<void>,
): Task {
  return async (raw: unknown, helpers: JobHelpers) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      deps.logger.error(
        { task: name, jobId: helpers.job.id, issues: parsed.error.issues },
        'job payload rejected',
      );
      return;
    }
    await withJobLease(
      deps.db,
      helpers.job,
      async () => {
        try {
          await body(parsed.data);
        } catch (error) {
          const lastAttempt = helpers.job.attempts >= helpers.job.max_attempts;
          deps.logger.warn({ task: name, jobId: helpers.job.id, err: error, lastAttempt }, 'job failed');
          if (lastAttempt && onGiveUp) await onGiveUp(parsed.data, error);
          throw error;
        }
      },
      deps.logger,
    );
  };
}

/** Backfill and sync jobs. */
export function ingestTasks(deps: JobDeps): TaskList {
  const budget = createRequestBudget(deps);
  const ctx: BackfillContext = {
    db: deps.db,
    logger: deps.logger.child({ component: 'backfill' }),
    now: deps.now,
    sessions: {
      tenants: deps.tenants,
      budget,
      logger: deps.logger,
      maxPrepaid: prepaidChunk({
        limit: deps.requestsPerHour,
        windowMs: deps.requestWindowMs ?? HOUR_MS,
      }),
      ...deps.bitbucket,
    },
    tuning: { ...DEFAULT_TUNING, ...deps.backfill },
    requestBudget: { limit: deps.requestsPerHour, windowMs: deps.requestWindowMs ?? HOUR_MS },
  };
  startDeadWorkerSweeper(
    deps.db,
    [
      ...Object.values(BACKFILL_TASKS),
      ...Object.values(SYNC_TASKS),
      REBUILD_ROLLUPS_TASK,
      APPLY_ANALYTICS_CHANGES_TASK,
      VERIFY_INSTALLATION_TASK,
    ],
    deps.logger,
  );
  const giveUp = (payload: z.infer<typeof repositoryPayload>, error: unknown) =>
    markRepositoryFailed(ctx, payload, error);
  return {
    // The one job a pending tenant gets (src/ingest/install-verification.ts).
    [VERIFY_INSTALLATION_TASK]: task(VERIFY_INSTALLATION_TASK, tenantPayload, deps, async (p) => {
      await verifyInstallation(ctx.sessions, p);
    }),
    [BACKFILL_TASKS.tenant]: task(BACKFILL_TASKS.tenant, tenantPayload, deps, (p) => backfillTenant(ctx, p)),
    [BACKFILL_TASKS.commits]: task(
      BACKFILL_TASKS.commits,
      repositoryPayload,
      deps,
      (p) => backfillCommits(ctx, p),
      giveUp,
    ),
    [BACKFILL_TASKS.diffstats]: task(
      BACKFILL_TASKS.diffstats,
      repositoryPayload,
      deps,
      (p) => backfillDiffstats(ctx, p),
      giveUp,
    ),
    // Live sync (src/ingest/sync/).
    [SYNC_TASKS.webhook]: task(SYNC_TASKS.webhook, webhookPayload, deps, (p) => processWebhook(ctx, p)),
    [SYNC_TASKS.pushes]: task(SYNC_TASKS.pushes, pushesPayload, deps, (p) => syncPushes(ctx, p)),
    [SYNC_TASKS.pushDiffstats]: task(SYNC_TASKS.pushDiffstats, pushDiffstatsPayload, deps, (p) =>
      syncPushDiffstats(ctx, p),
    ),
    [SYNC_TASKS.pullRequests]: task(SYNC_TASKS.pullRequests, repositoryPayload, deps, (p) =>
      backfillPullRequests(ctx, p),
    ),
    // Analytics: facts and rollups of what ingest changed (src/analytics/change-queue.ts), and rebuilt after a
    // settings change (src/analytics/rollup-rebuild.ts).
    [APPLY_ANALYTICS_CHANGES_TASK]: task(APPLY_ANALYTICS_CHANGES_TASK, tenantPayload, deps, async (p) => {
      const ready = await runApplyAnalyticsChanges(deps.db, p, ctx.tuning.stepMs, ctx.now);
      for (const repositoryId of ready)
        deps.logger.info({ tenantId: p.tenantId, repositoryId }, 'repository backfill complete');
    }),
    [REBUILD_ROLLUPS_TASK]: task(
      REBUILD_ROLLUPS_TASK,
      tenantPayload.extend({ repositoryId: z.number().int().positive().optional() }),
      deps,
      (p) => runRollupRebuild(deps.db, p),
    ),
  };
}
