import { performance } from 'node:perf_hooks';
import { BudgetExhaustedError } from '../../bitbucket/budget';
import { endpoints } from '../../bitbucket/endpoints';
import { applyQueuedChangesNow, queuePullRequestChanges } from '../../analytics/change-queue';
import { activitySchema, pullRequestSchema } from '../../bitbucket/schemas';
import type { Trx } from '../../db/database';
import {
  pullRequestCursor,
  savePullRequestCursor,
  savePullRequests,
  upToDatePullRequests,
  type PullRequestRecord,
} from '../../db/pull-request-store';
import {
  findRepository,
  refreshEtas,
  updateProgress,
  type RepositoryRecord,
} from '../../db/repository-store';
import { markReadyIfComplete, type BackfillContext, type RepositoryPayload } from '../backfill-jobs';
import { openTenantSession, type TenantSession } from '../tenant-client';
import { mapConcurrent } from './concurrency';
import { isNotFound } from './errors';
import { toPullRequestRecord } from './pull-request-mapping';
import { enqueuePullRequestBackfill } from './scheduling';

/**
 * Pull requests: a backfill pass per repository (every state, 50 a page, then each one's details and activity),
 * and single pull requests refreshed from the API when a `pullrequest:*` webhook says one changed. Both paths build
 * the stored row the same way (pull-request-mapping.ts) and skip pull requests whose stored version is current.
 */

const STATES = ['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED'] as const;
/** Pull requests whose details and activity are fetched at once. */
const DETAIL_CONCURRENCY = 4;

function listUrl(session: TenantSession, repo: RepositoryRecord): string {
  const url = new URL(endpoints.pullRequests(session.tenant.baseApiUrl, session.workspace, repo.uuid));
  for (const state of STATES) url.searchParams.append('state', state);
  return url.href;
}

/** One pull request as stored, or null when Bitbucket no longer has it. Two requests (more for long activity). */
export async function fetchPullRequestRecord(
  session: TenantSession,
  repo: RepositoryRecord,
  id: number,
): Promise<PullRequestRecord | null> {
  const base = session.tenant.baseApiUrl;
  try {
    const [pr, activity] = await Promise.all([
      session.client.get(endpoints.pullRequest(base, session.workspace, repo.uuid, id), pullRequestSchema),
      session.client.getAll(
        endpoints.pullRequestActivity(base, session.workspace, repo.uuid, id),
        activitySchema,
      ),
    ]);
    return toPullRequestRecord(pr, activity);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * A `pullrequest:*` delivery: when the stored version is older than the webhook's (or unknown), the pull request is
 * read again from the API, so a late or repeated delivery never writes stale state. Returns the write to commit.
 */
export async function planPullRequestSync(
  ctx: BackfillContext,
  session: TenantSession,
  repo: RepositoryRecord,
  pullRequest: { id: number; updated_on?: unknown },
): Promise<(trx: Trx) => Promise<void>> {
  const tenantId = session.tenant.id;
  const nothing = async () => undefined;
  if (typeof pullRequest.updated_on === 'string' && !Number.isNaN(Date.parse(pullRequest.updated_on))) {
    const current = await ctx.db.withTenant(tenantId, (trx) =>
      upToDatePullRequests(trx, tenantId, repo.id, [
        { id: pullRequest.id, updatedOn: pullRequest.updated_on as string },
      ]),
    );
    if (current.has(pullRequest.id)) return nothing;
  }
  const record = await fetchPullRequestRecord(session, repo, pullRequest.id);
  if (!record) return nothing;
  return async (trx) => {
    await saveAndCount(trx, tenantId, repo.id, [record]);
  };
}

/** Stores pull requests and queues their analytics in the same transaction. */
async function saveAndCount(trx: Trx, tenantId: string, repositoryId: number, records: PullRequestRecord[]) {
  const written = await savePullRequests(trx, tenantId, repositoryId, records);
  await queuePullRequestChanges(trx, tenantId, repositoryId, written);
}

/** One step of a repository's pull-request pass: pages until done or the step's time is up, cursor saved per page. */
export async function backfillPullRequests(ctx: BackfillContext, payload: RepositoryPayload): Promise<void> {
  const { tenantId, repositoryId } = payload;
  const session = await openTenantSession(ctx.sessions, tenantId, 'low');
  if (!session) return;
  const { repo, cursor } = await ctx.db.withTenant(tenantId, async (trx) => ({
    repo: await findRepository(trx, tenantId, repositoryId),
    cursor: await pullRequestCursor(trx, tenantId, repositoryId),
  }));
  if (!repo || repo.deletedAt) return;
  const { client } = session;
  let recorded = 0;
  const spentSinceLastRecord = () => {
    const spent = client.stats.requests - recorded;
    recorded += spent;
    return spent;
  };
  const deadline = performance.now() + ctx.tuning.stepMs;
  let url = cursor ?? listUrl(session, repo);
  try {
    for (;;) {
      const page = await client.getPage(url, pullRequestSchema);
      const current = await ctx.db.withTenant(tenantId, (trx) =>
        upToDatePullRequests(
          trx,
          tenantId,
          repositoryId,
          page.values.map((pr) => ({ id: pr.id, updatedOn: pr.updated_on })),
        ),
      );
      const changed = page.values.filter((pr) => !current.has(pr.id));
      // Details and activity of each: budget taken for them at once.
      client.expectRequests(2 * changed.length);
      const records = await mapConcurrent(changed, DETAIL_CONCURRENCY, (pr) =>
        fetchPullRequestRecord(session, repo, pr.id),
      );
      await ctx.db.withTenant(tenantId, async (trx) => {
        // The repository's row before the analytics job's (lock order, src/analytics/change-queue.ts).
        await savePullRequestCursor(trx, tenantId, repositoryId, page.next ?? null, ctx.now());
        await updateProgress(trx, tenantId, repositoryId, { requests: spentSinceLastRecord() }, ctx.now());
        await saveAndCount(
          trx,
          tenantId,
          repositoryId,
          records.filter((r): r is PullRequestRecord => r !== null),
        );
        // The pass may end after the line counts: then it makes the repository ready, unless the changes it just
        // queued wait for the analytics job (which then marks it ready once they are applied).
        if (page.next === undefined) {
          if (await markReadyIfComplete(ctx, trx, tenantId, repositoryId))
            await refreshEtas(trx, tenantId, ctx.requestBudget, ctx.now());
          await applyQueuedChangesNow(trx, tenantId);
        }
      });
      if (page.next === undefined) {
        ctx.logger.info({ tenantId, repositoryId }, 'pull requests backfilled');
        return;
      }
      url = page.next;
      if (performance.now() > deadline)
        return enqueuePullRequestBackfill(ctx.db.knex, tenantId, repositoryId);
    }
  } catch (error) {
    await ctx.db.withTenant(tenantId, (trx) =>
      updateProgress(trx, tenantId, repositoryId, { requests: spentSinceLastRecord() }, ctx.now()),
    );
    if (error instanceof BudgetExhaustedError)
      return enqueuePullRequestBackfill(ctx.db.knex, tenantId, repositoryId, error.retryAt);
    // The repository is gone (its own webhook or the next listing marks it deleted).
    if (isNotFound(error)) return;
    throw error;
  }
}
