import { performance } from 'node:perf_hooks';
import { applyQueuedChangesNow, queueCommitChanges } from '../analytics/change-queue';
import { enqueueProjectMoves } from '../analytics/rollup-rebuild';
import { BudgetExhaustedError } from '../bitbucket/budget';
import { BitbucketApiError } from '../bitbucket/client';
import { endpoints } from '../bitbucket/endpoints';
import {
  commitSchema,
  diffstatSchema,
  repositorySchema,
  type BitbucketCommit,
  type BitbucketRepository,
  type Page,
} from '../bitbucket/schemas';
import { loadSettings } from '../analytics/rules';
import {
  commitsWithoutLines,
  hasCommitsWithoutLines,
  recentLinesPendingElsewhere,
  insertCommits,
  pendingCommitsWithParents,
  markCommitsGone,
  saveDiffstats,
  type CommitDiffstat,
} from '../db/commit-store';
import type { Database, Trx } from '../db/database';
import type { BudgetPolicy } from '../db/request-budget-store';
import {
  findRepository,
  markMissingDeleted,
  markReadyWhereComplete,
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
import { countChain, planLineTasks, type LineTask } from './patch-lines';
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

/**
 * The newest days of every repository get their line counts before older history of any repository: the default
 * graphs show the last 90 days.
 */
export const RECENT_FIRST_MS = 90 * 86_400_000;

export interface BackfillTuning {
  /** How long one step works before handing its turn to the next job. */
  stepMs: number;
  /** Diffstat requests in flight at once within a step. */
  diffstatConcurrency: number;
  /** Commits a diffstat round takes from the database at once. */
  diffstatRound: number;
  /** How far back "the newest days" reach (RECENT_FIRST_MS; tests move it to where their history is). */
  recentFirstMs: number;
  /** Diffstats that start a write (more gather while one runs); fewer only when a step ends. */
  flushEvery: number;
  /** With line counts from patch series: commits per series at most (one request instead of this many). */
  patchChain: number;
  /** With line counts from patch series: bytes of one series at most; past it the rest waits for the next round. */
  maxPatchBytes: number;
}

export const DEFAULT_TUNING: BackfillTuning = {
  stepMs: 20_000,
  diffstatConcurrency: 4,
  diffstatRound: 1000,
  recentFirstMs: RECENT_FIRST_MS,
  flushEvery: 200,
  patchChain: 250,
  maxPatchBytes: 8 * 1024 * 1024,
};

export interface BackfillContext {
  db: Database;
  logger: Logger;
  now: () => Date;
  sessions: ClientFactoryDeps;
  tuning: BackfillTuning;
  /** The configured request budget (ETAs follow the limit in force: this, or one Bitbucket announced). */
  requestBudget: BudgetPolicy;
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
    project: repo.project
      ? { uuid: repo.project.uuid, key: repo.project.key, name: repo.project.name }
      : null,
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
    // Repositories moved to another project: their facts and project rollups follow them.
    await enqueueProjectMoves(trx, tenantId);
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
    await refreshEtas(trx, tenantId, ctx.requestBudget, ctx.now());
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

/**
 * Writes batches one at a time while requests go on: whatever arrived during a write goes into the next one
 * ("group commit"), so a write's fixed cost (its transaction, progress, queued analytics) is paid once per batch,
 * not once per page or commit. A write starts once `minBatch` items wait; `drain()` writes the rest and resolves
 * once everything handed over is written. The first failure is kept in `error`.
 */
class GroupWriter<T> {
  private readonly queue: T[] = [];
  private running: Promise<void> | null = null;
  error: unknown;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxBatch: number,
    private readonly minBatch = 1,
  ) {}

  get backlog(): number {
    return this.queue.length;
  }

  add(...items: T[]): void {
    this.queue.push(...items);
  }

  /** Starts a write of what is queued unless one is running or fewer than `atLeast` items wait. */
  kick(atLeast = this.minBatch): void {
    if (this.running || this.error !== undefined || this.queue.length < atLeast) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.running = this.write(batch)
      .catch((error: unknown) => {
        this.error ??= error;
      })
      .finally(() => {
        this.running = null;
        this.kick();
      });
  }

  /** Waits for the running write (backpressure). */
  async settle(): Promise<void> {
    await this.running;
  }

  async drain(): Promise<void> {
    for (;;) {
      this.kick(1);
      if (!this.running) return;
      await this.running;
    }
  }
}

/** Pages fetched ahead of the writer at most (memory stays bounded when writes are slow). */
const MAX_PAGES_AHEAD = 5;

/** Phase 1: commit metadata, 100 per request; the cursor moves with every write. */
export async function backfillCommits(ctx: BackfillContext, payload: RepositoryPayload): Promise<void> {
  const step = await openStep(ctx, payload, 'listing');
  if (!step) return;
  const { tenantId, repositoryId } = payload;
  const { client, tenant, workspace } = step.session;
  const record = progressRecorder(ctx, step);
  const deadline = performance.now() + ctx.tuning.stepMs;
  let finished = false;
  const writer = new GroupWriter<Page<BitbucketCommit>>(async (pages) => {
    const last = pages.at(-1)!;
    const done = last.next === undefined;
    await ctx.db.withTenant(tenantId, async (trx) => {
      const commits = pages.flatMap((p) => p.values.map(toCommitInput));
      const inserted = await insertCommits(trx, tenantId, repositoryId, commits);
      await record(trx, {
        cursor: last.next ?? null,
        commitsKnownDelta: inserted.length,
        ...(done ? { state: 'diffstats' as const } : {}),
      });
      if (done) {
        await recountCommits(trx, tenantId, repositoryId);
        await enqueueRepositoryStep(trx, tenantId, repositoryId, 'diffstats');
      }
      await refreshEtas(trx, tenantId, ctx.requestBudget, ctx.now());
      // Analytics last (lock order, src/analytics/change-queue.ts).
      await queueCommitChanges(trx, tenantId, repositoryId, inserted);
      if (done) {
        // Branch heads and reachability, for the live sync (src/ingest/sync/heads.ts); queues what it changed.
        await afterCommitListing(trx, tenantId, repositoryId, ctx.now());
        await applyQueuedChangesNow(trx, tenantId);
      }
    });
    finished = done;
  }, MAX_PAGES_AHEAD);

  let url: string | undefined =
    step.repo.syncCursor ?? endpoints.commits(tenant.baseApiUrl, workspace, step.repo.uuid);
  let failure: unknown;
  while (url !== undefined && writer.error === undefined && performance.now() < deadline) {
    if (writer.backlog >= MAX_PAGES_AHEAD) {
      await writer.settle();
      continue;
    }
    try {
      const page: Page<BitbucketCommit> = await client.getPage(url, commitSchema);
      writer.add(page);
      writer.kick();
      url = page.next;
    } catch (error) {
      failure = error;
      break;
    }
  }
  await writer.drain();
  if (writer.error !== undefined || failure !== undefined)
    return handleStepError(ctx, step, 'listing', writer.error ?? failure, record);
  if (!finished) await enqueueRepositoryStep(ctx.db.knex, tenantId, repositoryId, 'listing');
}

/** Diffstats stored per write at most; whatever arrives during a write waits for the next one. */
const MAX_DIFFSTATS_PER_WRITE = 500;

/**
 * Phase 2: one diffstat per commit, newest first, a few in flight, stored in batches as they arrive; with the
 * workspace's opt-in, chains of commits from patch series instead (src/ingest/patch-lines.ts).
 */
export async function backfillDiffstats(ctx: BackfillContext, payload: RepositoryPayload): Promise<void> {
  const step = await openStep(ctx, payload, 'diffstats');
  if (!step) return;
  const { tenantId, repositoryId } = payload;
  const { client, tenant, workspace } = step.session;
  const { tuning } = ctx;
  const record = progressRecorder(ctx, step);
  const deadline = performance.now() + tuning.stepMs;

  type Outcome = { hash: string; files: CommitDiffstat['files'] | null };
  const writer = new GroupWriter<Outcome>(
    (outcomes) =>
      ctx.db.withTenant(tenantId, async (trx) => {
        const diffstats = outcomes.filter((o) => o.files !== null) as CommitDiffstat[];
        const gone = outcomes.filter((o) => o.files === null).map((o) => o.hash);
        const written = await saveDiffstats(trx, tenantId, repositoryId, diffstats);
        const vanished = await markCommitsGone(trx, tenantId, repositoryId, gone, ctx.now());
        await record(trx, { commitsWithLinesDelta: written.length + vanished.length });
        await refreshEtas(trx, tenantId, ctx.requestBudget, ctx.now());
        await queueCommitChanges(trx, tenantId, repositoryId, [...written, ...vanished]);
      }),
    MAX_DIFFSTATS_PER_WRITE,
    tuning.flushEvery,
  );

  const target = { baseApiUrl: tenant.baseApiUrl, workspace, repository: step.repo.uuid };
  while (performance.now() < deadline) {
    // Usefulness first: while another repository still lacks line counts for its newest days, only this one's
    // newest days are counted; its older history waits.
    const since = new Date(ctx.now().getTime() - tuning.recentFirstMs);
    const round = await ctx.db.withTenant(tenantId, async (trx) => {
      const recentOnly = await recentLinesPendingElsewhere(trx, tenantId, repositoryId, since);
      const from = recentOnly ? since : undefined;
      // The opt-in is read every round, so turning it on or off applies to every commit still without line counts.
      const tasks: LineTask[] = (await loadSettings(trx)).lineCountsFromPatches
        ? planLineTasks(
            await pendingCommitsWithParents(trx, tenantId, repositoryId, tuning.diffstatRound, from),
            tuning.patchChain,
          )
        : (await commitsWithoutLines(trx, tenantId, repositoryId, tuning.diffstatRound, from)).map(
            (hash): LineTask => ({ kind: 'diffstat', hash }),
          );
      const waiting =
        tasks.length === 0 && recentOnly && (await hasCommitsWithoutLines(trx, tenantId, repositoryId));
      return { tasks, waiting };
    });
    const { tasks } = round;
    if (round.waiting) {
      // Older history only: the others' newest days go first. This step comes back after one step's time (the
      // queue's clock: behind the others' steps).
      await enqueueRepositoryStep(
        ctx.db.knex,
        tenantId,
        repositoryId,
        'diffstats',
        new Date(Date.now() + tuning.stepMs),
      );
      return;
    }
    if (tasks.length === 0) {
      await ctx.db.withTenant(tenantId, async (trx) => {
        await record(trx, { cursor: null, lastError: null });
        await markReadyIfComplete(ctx, trx, tenantId, repositoryId);
        await recountCommits(trx, tenantId, repositoryId);
        await refreshEtas(trx, tenantId, ctx.requestBudget, ctx.now());
        await applyQueuedChangesNow(trx, tenantId);
      });
      return ctx.logger.info({ tenantId, repositoryId }, 'line counts complete');
    }
    client.expectRequests(tasks.length);
    let failure: unknown;
    let nextIndex = 0;
    // A series may hand back commits for their diffstats: lanes wait while one is in flight rather than leave its
    // diffstats to a single lane.
    let inFlight = 0;
    const waiting: (() => void)[] = [];
    const lane = async () => {
      while (failure === undefined && writer.error === undefined && performance.now() < deadline) {
        if (nextIndex >= tasks.length) {
          if (inFlight === 0) break;
          await new Promise<void>((resolve) => waiting.push(resolve));
          continue;
        }
        if (writer.backlog >= 2 * MAX_DIFFSTATS_PER_WRITE) {
          await writer.settle();
          continue;
        }
        const task = tasks[nextIndex++]!;
        inFlight++;
        try {
          if (task.kind === 'patch') {
            const { counted, fallback } = await countChain(
              client,
              target,
              task,
              tuning.maxPatchBytes,
              ctx.logger,
            );
            writer.add(...counted);
            // Commits the series could not count exactly: their diffstats, in this round.
            tasks.push(...fallback.map((hash): LineTask => ({ kind: 'diffstat', hash })));
          } else {
            const url = endpoints.diffstat(tenant.baseApiUrl, workspace, step.repo.uuid, task.hash);
            writer.add({ hash: task.hash, files: toFileChanges(await client.getAll(url, diffstatSchema)) });
          }
        } catch (error) {
          // A commit Bitbucket no longer has (force-pushed away since it was listed) counts zero lines.
          if (task.kind === 'diffstat' && isNotFound(error)) writer.add({ hash: task.hash, files: null });
          else failure ??= error;
        } finally {
          inFlight--;
          for (const wake of waiting.splice(0)) wake();
        }
        writer.kick();
      }
    };
    await Promise.all(Array.from({ length: tuning.diffstatConcurrency }, lane));
    await writer.drain();
    if (writer.error !== undefined || failure !== undefined)
      return handleStepError(ctx, step, 'diffstats', writer.error ?? failure, record);
  }
  await enqueueRepositoryStep(ctx.db.knex, tenantId, repositoryId, 'diffstats');
}

/**
 * A repository is `ready` once every commit has its line counts, its pull requests have been read once, and the
 * analytics have applied every change (markReadyWhereComplete). The diffstats, the pull-request pass and the
 * analytics job run side by side, so whichever ends last marks it; the first two call this after updating the
 * repository's row, whose lock orders them, and the analytics job checks after each batch.
 */
export async function markReadyIfComplete(
  ctx: BackfillContext,
  trx: Trx,
  tenantId: string,
  repositoryId: number,
): Promise<boolean> {
  const marked = await markReadyWhereComplete(trx, tenantId, [repositoryId], ctx.now());
  if (marked.length === 0) return false;
  ctx.logger.info({ tenantId, repositoryId }, 'repository backfill complete');
  return true;
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
    await refreshEtas(trx, tenantId, ctx.requestBudget, ctx.now());
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
    await refreshEtas(trx, payload.tenantId, ctx.requestBudget, ctx.now());
  });
}
