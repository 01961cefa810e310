import { performance } from 'node:perf_hooks';
import { recordCommitChanges } from '../analytics/rollups';
import { BudgetExhaustedError } from '../bitbucket/budget';
import { BitbucketApiError } from '../bitbucket/client';
import { endpoints } from '../bitbucket/endpoints';
import {
  commitSchema,
  diffstatSchema,
  repositorySchema,
  type BitbucketRepository,
} from '../bitbucket/schemas';
import {
  commitsWithoutLines,
  insertCommits,
  markCommitsGone,
  saveDiffstats,
  type CommitDiffstat,
} from '../db/commit-store';
import type { Database, Trx } from '../db/database';
import {
  findRepository,
  markMissingDeleted,
  recountCommits,
  refreshEtas,
  updateProgress,
  upsertRepositories,
  type ProgressUpdate,
  type RepositoryInput,
  type RepositoryRecord,
  type SyncState,
} from '../db/repository-store';
import type { Logger } from '../platform/logger';
import { toCommitInput, toFileChanges } from './commit-mapping';
import { enqueueRepositoryStep, enqueueTenantBackfill, RELIST_INTERVAL_MS } from './scheduler';
import { openTenantSession, type ClientFactoryDeps, type TenantSession } from './tenant-client';
import { afterCommitListing } from './sync/heads';
import { enqueuePullRequestBackfill } from './sync/scheduling';

/**
 * The backfill, as small resumable steps on the job queue:
 * - `backfill_tenant` lists the workspace's repositories and starts a backfill for each one not ready;
 * - `backfill_commits` (phase 1) pages through every commit's metadata, 100 per request, saving the `next`
 *   cursor with each page;
 * - `backfill_diffstats` (phase 2) fetches one diffstat per commit, newest first, and stores each commit's files
 *   and line counts together.
 * Each step works for a bounded time, then enqueues the next one; state lives in the database, so a step killed
 * at any point is simply run again.
 */

export interface BackfillTuning {
  /** How long one step works before handing its turn to the next job. */
  stepMs: number;
  /** Diffstat requests in flight at once within a step. */
  diffstatConcurrency: number;
  /** Commits a diffstat round takes from the database at once. */
  diffstatRound: number;
  /** Diffstats stored per transaction. */
  flushEvery: number;
}

export const DEFAULT_TUNING: BackfillTuning = {
  stepMs: 20_000,
  diffstatConcurrency: 4,
  diffstatRound: 1000,
  flushEvery: 100,
};

export interface BackfillContext {
  db: Database;
  logger: Logger;
  now: () => Date;
  sessions: ClientFactoryDeps;
  tuning: BackfillTuning;
  /** Requests per second the backfill may spend (for ETAs). */
  backfillRate: number;
}

export interface TenantPayload {
  tenantId: string;
}

export interface RepositoryPayload extends TenantPayload {
  repositoryId: number;
}

const isNotFound = (error: unknown) => error instanceof BitbucketApiError && error.status === 404;

export function toRepositoryInput(repo: BitbucketRepository): RepositoryInput {
  return {
    uuid: repo.uuid,
    fullName: repo.full_name,
    slug: repo.slug,
    name: repo.name,
    mainbranch: repo.mainbranch?.name ?? null,
    isPrivate: repo.is_private ?? true,
  };
}

/** Where a failed repository picks up again: listing while a cursor or nothing is stored, else diffstats. */
function resumePhase(repo: RepositoryRecord): SyncState {
  return repo.syncCursor !== null || repo.commitsKnown === 0 ? 'listing' : 'diffstats';
}

/** Lists the tenant's repositories (install, reinstall, and every RELIST_INTERVAL_MS) and resumes each one. */
export async function backfillTenant(ctx: BackfillContext, { tenantId }: TenantPayload): Promise<void> {
  const session = await openTenantSession(ctx.sessions, tenantId, 'low');
  if (!session) return ctx.logger.info({ tenantId }, 'backfill skipped: tenant not installed');
  const { client, tenant, workspace } = session;
  let listed: BitbucketRepository[];
  try {
    listed = await client.getAll(endpoints.repositories(tenant.baseApiUrl, workspace), repositorySchema);
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    return enqueueTenantBackfill(ctx.db.knex, tenantId, error.retryAt);
  }
  const unique = [...new Map(listed.map((r) => [r.uuid, r])).values()];
  const now = ctx.now();
  await ctx.db.withTenant(tenantId, async (trx) => {
    const repos = await upsertRepositories(trx, tenantId, unique.map(toRepositoryInput), now);
    await markMissingDeleted(
      trx,
      tenantId,
      unique.map((r) => r.uuid),
      now,
    );
    for (const repo of repos) {
      let phase = repo.syncState;
      if (phase === 'failed') {
        phase = resumePhase(repo);
        await updateProgress(trx, tenantId, repo.id, { state: phase, lastError: null }, now);
      }
      if (phase === 'listing' || phase === 'diffstats')
        await enqueueRepositoryStep(trx, tenantId, repo.id, phase);
      // Pull requests after commit metadata (their own pass; only changed ones are fetched again).
      await enqueuePullRequestBackfill(trx, tenantId, repo.id);
    }
    await refreshEtas(trx, tenantId, ctx.backfillRate);
    await enqueueTenantBackfill(trx, tenantId, new Date(now.getTime() + RELIST_INTERVAL_MS));
  });
  ctx.logger.info({ tenantId, repositories: unique.length }, 'repositories listed');
}

interface RepositoryStep {
  session: TenantSession;
  repo: RepositoryRecord;
}

/** The session and repository of a repository step, or null when there is nothing to do for this phase. */
async function openStep(
  ctx: BackfillContext,
  payload: RepositoryPayload,
  phase: 'listing' | 'diffstats',
): Promise<RepositoryStep | null> {
  const { tenantId, repositoryId } = payload;
  const session = await openTenantSession(ctx.sessions, tenantId, 'low');
  if (!session) return null;
  const repo = await ctx.db.withTenant(tenantId, (trx) => findRepository(trx, tenantId, repositoryId));
  if (!repo || repo.deletedAt) return null;
  if (repo.syncState !== phase) {
    // A stale job of the other phase: hand over to the step the repository is actually at.
    if (repo.syncState === 'listing' || repo.syncState === 'diffstats')
      await enqueueRepositoryStep(ctx.db.knex, tenantId, repositoryId, repo.syncState);
    return null;
  }
  return { session, repo };
}

/** Records progress (and the requests spent since the last record) in the caller's transaction. */
function progressRecorder(ctx: BackfillContext, step: RepositoryStep) {
  let recorded = 0;
  const tenantId = step.session.tenant.id;
  return async (trx: Trx, update: ProgressUpdate) => {
    const spent = step.session.client.stats.requests - recorded;
    recorded += spent;
    await updateProgress(trx, tenantId, step.repo.id, { ...update, requests: spent }, ctx.now());
  };
}

/** Phase 1: commit metadata, 100 per request, the cursor saved with every page. */
export async function backfillCommits(ctx: BackfillContext, payload: RepositoryPayload): Promise<void> {
  const step = await openStep(ctx, payload, 'listing');
  if (!step) return;
  const { tenantId, repositoryId } = payload;
  const { client, tenant, workspace } = step.session;
  const record = progressRecorder(ctx, step);
  const deadline = performance.now() + ctx.tuning.stepMs;
  const fetchPage = (url: string) => {
    const page = client.getPage(url, commitSchema);
    page.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
    return page;
  };
  let pending = fetchPage(
    step.repo.syncCursor ?? endpoints.commits(tenant.baseApiUrl, workspace, step.repo.uuid),
  );
  for (;;) {
    let page: Awaited<typeof pending>;
    try {
      page = await pending;
    } catch (error) {
      return handleStepError(ctx, step, 'listing', error, record);
    }
    // The next page is fetched while this one is written (it cannot be lost: the cursor only moves on write).
    const goOn = page.next !== undefined && performance.now() < deadline;
    if (goOn) pending = fetchPage(page.next!);
    await ctx.db.withTenant(tenantId, async (trx) => {
      const inserted = await insertCommits(trx, tenantId, repositoryId, page.values.map(toCommitInput));
      const done = page.next === undefined;
      await record(trx, {
        cursor: page.next ?? null,
        commitsKnownDelta: inserted.length,
        ...(done ? { state: 'diffstats' as const } : {}),
      });
      await recordCommitChanges(trx, repositoryId, inserted);
      if (done) {
        await recountCommits(trx, tenantId, repositoryId);
        await enqueueRepositoryStep(trx, tenantId, repositoryId, 'diffstats');
        // Live sync: every commit is listed now, so the refs' tips are known (src/ingest/sync/heads.ts).
        await afterCommitListing(trx, tenantId, repositoryId, ctx.now());
      } else if (!goOn) {
        await enqueueRepositoryStep(trx, tenantId, repositoryId, 'listing');
      }
      await refreshEtas(trx, tenantId, ctx.backfillRate);
    });
    if (!goOn) return;
  }
}

/** Phase 2: one diffstat per commit, newest first, a few in flight, stored in batches as they arrive. */
export async function backfillDiffstats(ctx: BackfillContext, payload: RepositoryPayload): Promise<void> {
  const step = await openStep(ctx, payload, 'diffstats');
  if (!step) return;
  const { tenantId, repositoryId } = payload;
  const { client, tenant, workspace } = step.session;
  const { tuning } = ctx;
  const record = progressRecorder(ctx, step);
  const deadline = performance.now() + tuning.stepMs;

  const store = async (diffstats: CommitDiffstat[], gone: string[]) =>
    ctx.db.withTenant(tenantId, async (trx) => {
      const written = await saveDiffstats(trx, tenantId, repositoryId, diffstats);
      const vanished = await markCommitsGone(trx, tenantId, repositoryId, gone, ctx.now());
      await record(trx, { commitsWithLinesDelta: written.length + vanished.length });
      await recordCommitChanges(trx, repositoryId, [...written, ...vanished]);
      await refreshEtas(trx, tenantId, ctx.backfillRate);
    });

  while (performance.now() < deadline) {
    const hashes = await ctx.db.withTenant(tenantId, (trx) =>
      commitsWithoutLines(trx, tenantId, repositoryId, tuning.diffstatRound),
    );
    if (hashes.length === 0) {
      await ctx.db.withTenant(tenantId, async (trx) => {
        await record(trx, { state: 'ready', cursor: null, lastError: null });
        await recountCommits(trx, tenantId, repositoryId);
        await refreshEtas(trx, tenantId, ctx.backfillRate);
      });
      return ctx.logger.info({ tenantId, repositoryId }, 'repository backfill complete');
    }
    client.expectRequests(hashes.length);
    let stopped: unknown;
    let nextIndex = 0;
    let fetched: CommitDiffstat[] = [];
    let gone: string[] = [];
    // Writes run one after another, alongside the requests; the first write error stops the round.
    let writing: Promise<void> = Promise.resolve();
    const flush = () => {
      if (fetched.length === 0 && gone.length === 0) return;
      const batch = fetched;
      const vanished = gone;
      fetched = [];
      gone = [];
      writing = writing.then(() => store(batch, vanished));
      writing.catch((error: unknown) => (stopped ??= error));
    };
    const lane = async () => {
      while (stopped === undefined && nextIndex < hashes.length && performance.now() < deadline) {
        const hash = hashes[nextIndex++]!;
        try {
          const url = endpoints.diffstat(tenant.baseApiUrl, workspace, step.repo.uuid, hash);
          const files = toFileChanges(await client.getAll(url, diffstatSchema));
          // Pushed only after the await: a flush may have swapped `fetched` for a new array meanwhile.
          fetched.push({ hash, files });
        } catch (error) {
          if (isNotFound(error)) gone.push(hash);
          else stopped ??= error;
        }
        if (fetched.length + gone.length >= tuning.flushEvery) flush();
      }
    };
    await Promise.all(Array.from({ length: tuning.diffstatConcurrency }, lane));
    flush();
    await writing.catch(() => undefined);
    if (stopped !== undefined) return handleStepError(ctx, step, 'diffstats', stopped, record);
  }
  await enqueueRepositoryStep(ctx.db.knex, tenantId, repositoryId, 'diffstats');
}

/**
 * A step ends early: a spent budget reschedules the step for when the budget has room again; a repository that
 * no longer exists is marked deleted; anything else (retries exhausted) fails the job, which the queue retries
 * later. The requests spent are recorded in every case.
 */
async function handleStepError(
  ctx: BackfillContext,
  step: RepositoryStep,
  phase: 'listing' | 'diffstats',
  error: unknown,
  record: ReturnType<typeof progressRecorder>,
): Promise<void> {
  const tenantId = step.session.tenant.id;
  const repositoryId = step.repo.id;
  await ctx.db.withTenant(tenantId, async (trx) => {
    if (error instanceof BudgetExhaustedError) {
      await record(trx, {});
      await enqueueRepositoryStep(trx, tenantId, repositoryId, phase, error.retryAt);
    } else if (isNotFound(error) && phase === 'listing') {
      await record(trx, {});
      await trx('repositories')
        .where({ tenant_id: tenantId, id: repositoryId })
        .update({ deleted_at: ctx.now() });
    } else {
      await record(trx, { lastError: error instanceof Error ? error.message : String(error) });
    }
    await refreshEtas(trx, tenantId, ctx.backfillRate);
  });
  if (error instanceof BudgetExhaustedError) {
    ctx.logger.debug({ tenantId, repositoryId, retryAt: error.retryAt }, 'backfill waits for budget');
    return;
  }
  if (isNotFound(error) && phase === 'listing') {
    ctx.logger.info({ tenantId, repositoryId }, 'repository gone during backfill');
    return;
  }
  throw error;
}

/** The last attempt of a step failed: the repository is marked failed until the next listing resumes it. */
export async function markRepositoryFailed(
  ctx: BackfillContext,
  payload: RepositoryPayload,
  error: unknown,
): Promise<void> {
  await ctx.db.withTenant(payload.tenantId, async (trx) => {
    await updateProgress(
      trx,
      payload.tenantId,
      payload.repositoryId,
      { state: 'failed', lastError: error instanceof Error ? error.message : String(error) },
      ctx.now(),
    );
    await refreshEtas(trx, payload.tenantId, ctx.backfillRate);
  });
}
