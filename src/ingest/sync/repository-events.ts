import { enqueueProjectMoves, enqueueRollupRebuild } from '../../analytics/rollup-rebuild';
import { endpoints } from '../../bitbucket/endpoints';
import { repositorySchema, type BitbucketRepository } from '../../bitbucket/schemas';
import type { Trx } from '../../db/database';
import { findRepositoryByUuid, upsertRepositories, type RepositoryRecord } from '../../db/repository-store';
import { toRepositoryInput, type BackfillContext } from '../backfill-jobs';
import { enqueueRepositoryStep } from '../scheduler';
import type { TenantSession } from '../tenant-client';
import { isNotFound } from './errors';
import { enqueuePullRequestBackfill } from './scheduling';

/**
 * Repository lifecycle from webhooks. Repositories are keyed by uuid, so a rename or a move keeps every commit and
 * rollup; names are always taken from the API (the current truth), so renames delivered out of order still end
 * on the current name. A move to another project rebuilds the repository's facts, so project rollups follow it. A
 * deleted repository keeps its rows but leaves the graphs (its rollups are rebuilt without it) and
 * GET /api/v1/repositories.
 */

type Write = (trx: Trx) => Promise<void>;

async function fetchRepository(session: TenantSession, uuid: string): Promise<BitbucketRepository | null> {
  try {
    return await session.client.get(
      endpoints.repository(session.tenant.baseApiUrl, session.workspace, uuid),
      repositorySchema,
    );
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * Stores repositories as Bitbucket describes them. One that has not started its backfill (new to Tally) gets it:
 * commits first, then pull requests. A deleted one that reappears is counted in the graphs again.
 */
async function adoptRepository(
  ctx: BackfillContext,
  trx: Trx,
  tenantId: string,
  repo: BitbucketRepository,
): Promise<RepositoryRecord> {
  const before = await findRepositoryByUuid(trx, tenantId, repo.uuid);
  const [stored] = await upsertRepositories(trx, tenantId, [toRepositoryInput(repo)], ctx.now());
  if (!before) {
    await enqueueRepositoryStep(trx, tenantId, stored!.id, 'listing');
    await enqueuePullRequestBackfill(trx, tenantId, stored!.id);
    ctx.logger.info({ tenantId, repository: repo.full_name }, 'new repository: backfill enqueued');
  } else if (before.deletedAt) {
    await enqueueRollupRebuild(trx, { tenantId, repositoryId: stored!.id });
  } else {
    // Moved to another project: its facts and project rollups follow it.
    await enqueueProjectMoves(trx, tenantId);
  }
  return stored!;
}

async function markDeleted(ctx: BackfillContext, trx: Trx, tenantId: string, uuid: string): Promise<void> {
  const repo = await findRepositoryByUuid(trx, tenantId, uuid);
  if (!repo || repo.deletedAt) return;
  const now = ctx.now();
  await trx('repositories')
    .where({ tenant_id: tenantId, id: repo.id })
    .update({ deleted_at: now, updated_at: now });
  await enqueueRollupRebuild(trx, { tenantId, repositoryId: repo.id });
  ctx.logger.info({ tenantId, repository: repo.fullName }, 'repository deleted');
}

/**
 * The repository a push or pull-request delivery is about. The first time Tally sees it, it is read from the API,
 * stored and backfilled. Null when Bitbucket no longer has it, or Tally knows it as deleted.
 */
export async function resolveRepository(
  ctx: BackfillContext,
  session: TenantSession,
  uuid: string,
): Promise<RepositoryRecord | null> {
  const tenantId = session.tenant.id;
  const known = await ctx.db.withTenant(tenantId, (trx) => findRepositoryByUuid(trx, tenantId, uuid));
  if (known) return known.deletedAt ? null : known;
  const fetched = await fetchRepository(session, uuid);
  if (!fetched) return null;
  return ctx.db.withTenant(tenantId, (trx) => adoptRepository(ctx, trx, tenantId, fetched));
}

/** `repo:updated`: names (and main branch) as the API has them now; a 404 means it is gone. */
export async function planRepositoryUpdate(
  ctx: BackfillContext,
  session: TenantSession,
  uuid: string,
): Promise<Write> {
  const tenantId = session.tenant.id;
  const fetched = await fetchRepository(session, uuid);
  return async (trx) => {
    if (fetched) await adoptRepository(ctx, trx, tenantId, fetched);
    else await markDeleted(ctx, trx, tenantId, uuid);
  };
}

/** `repo:deleted`: rows kept, the repository leaves the graphs. */
export function planRepositoryDeletion(ctx: BackfillContext, tenantId: string, uuid: string): Write {
  return (trx) => markDeleted(ctx, trx, tenantId, uuid);
}
