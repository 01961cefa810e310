import { queueCommitChanges } from '../../analytics/change-queue';
import { BudgetExhaustedError } from '../../bitbucket/budget';
import { endpoints } from '../../bitbucket/endpoints';
import { diffstatSchema } from '../../bitbucket/schemas';
import { markCommitsGone, saveDiffstats, type CommitDiffstat } from '../../db/commit-store';
import { findRepository, updateProgress } from '../../db/repository-store';
import type { BackfillContext, RepositoryPayload } from '../backfill-jobs';
import { toFileChanges } from '../commit-mapping';
import { openTenantSession } from '../tenant-client';
import { mapConcurrent } from './concurrency';
import { isNotFound } from './errors';
import { enqueuePushDiffstats } from './scheduling';

export interface PushDiffstatsPayload extends RepositoryPayload {
  hashes: string[];
}

/** Diffstats stored per transaction (each batch shows up in the graphs as soon as it is written). */
const BATCH = 50;
const CONCURRENCY = 4;

/**
 * Line counts of the commits a push brought, newest first, at push priority. Commits already counted (by an
 * earlier run or the backfill) are skipped, so the job can run again after a crash at no cost.
 */
export async function syncPushDiffstats(ctx: BackfillContext, payload: PushDiffstatsPayload): Promise<void> {
  const { tenantId, repositoryId } = payload;
  const session = await openTenantSession(ctx.sessions, tenantId, 'high');
  if (!session) return;
  const { repo, pending } = await ctx.db.withTenant(tenantId, async (trx) => ({
    repo: await findRepository(trx, tenantId, repositoryId),
    pending: (
      await trx('commits')
        .where({ tenant_id: tenantId, repository_id: repositoryId })
        .whereRaw('hash = any(?::text[])', [payload.hashes])
        .whereNull('lines_added')
        .orderBy([
          { column: 'authored_at', order: 'desc' },
          { column: 'hash', order: 'desc' },
        ])
        .select('hash')
    ).map((r: { hash: string }) => r.hash),
  }));
  if (!repo || repo.deletedAt || pending.length === 0) return;
  const { client, tenant, workspace } = session;
  client.expectRequests(pending.length);
  let recorded = 0;
  for (let start = 0; start < pending.length; start += BATCH) {
    const batch = pending.slice(start, start + BATCH);
    let results: (CommitDiffstat | string)[];
    try {
      results = await mapConcurrent(batch, CONCURRENCY, async (hash) => {
        try {
          const url = endpoints.diffstat(tenant.baseApiUrl, workspace, repo.uuid, hash);
          return { hash, files: toFileChanges(await client.getAll(url, diffstatSchema)) };
        } catch (error) {
          // Gone from Bitbucket (force-pushed away and collected): counted as zero lines, marked unreachable.
          if (isNotFound(error)) return hash;
          throw error;
        }
      });
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      await enqueuePushDiffstats(ctx.db.knex, tenantId, repositoryId, pending.slice(start), error.retryAt);
      return;
    }
    const spent = client.stats.requests - recorded;
    recorded += spent;
    await ctx.db.withTenant(tenantId, async (trx) => {
      const written = await saveDiffstats(
        trx,
        tenantId,
        repositoryId,
        results.filter((r): r is CommitDiffstat => typeof r !== 'string'),
      );
      const gone = await markCommitsGone(
        trx,
        tenantId,
        repositoryId,
        results.filter((r): r is string => typeof r === 'string'),
        ctx.now(),
      );
      await updateProgress(
        trx,
        tenantId,
        repositoryId,
        { commitsWithLinesDelta: written.length + gone.length, requests: spent },
        ctx.now(),
      );
      await queueCommitChanges(trx, tenantId, repositoryId, [...written, ...gone]);
    });
  }
}
