import { queueCommitChanges } from '../../analytics/change-queue';
import { headsSeeded, seedUnnamedHeads } from '../../db/branch-store';
import type { Trx } from '../../db/database';
import { refreshReachability } from '../../db/reachability';
import type { RepositoryRecord } from '../../db/repository-store';

/**
 * Reachability needs every ref's head. Refs are named by webhooks only (Bitbucket offers no branch list to Tally),
 * so the refs that existed before are known by their tips: the commits without children once the backfill has
 * listed everything. Until then a repository's reachability is not computed (a prefix of the listing would make
 * most history look orphaned).
 */

/** The backfill has listed every commit (phase 1 over, or failed after it). */
const listingComplete = (repo: RepositoryRecord) =>
  repo.syncState === 'diffstats' ||
  repo.syncState === 'ready' ||
  (repo.syncState === 'failed' && repo.syncCursor === null && repo.commitsKnown > 0);

/** Seeds the unnamed tips the first time the listing is found complete; returns whether it happened now. */
export async function seedHeadsOnceListed(
  trx: Trx,
  repo: RepositoryRecord,
  tenantId: string,
  now: Date,
): Promise<boolean> {
  if (!listingComplete(repo)) return false;
  return seedUnnamedHeads(trx, tenantId, repo.id, now);
}

/** Recomputes reachability when the repository's heads are complete; returns the hashes that changed. */
export async function refreshIfSeeded(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  now: Date,
): Promise<string[]> {
  if (!(await headsSeeded(trx, tenantId, repositoryId))) return [];
  return refreshReachability(trx, tenantId, repositoryId, now);
}

/**
 * For the backfill, in the transaction that ends a repository's commit listing: seeds the tips and applies the
 * reachability of refs webhooks changed meanwhile (their analytics queued).
 */
export async function afterCommitListing(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  now: Date,
): Promise<void> {
  if (!(await seedUnnamedHeads(trx, tenantId, repositoryId, now))) return;
  const changed = await refreshReachability(trx, tenantId, repositoryId, now);
  await queueCommitChanges(trx, tenantId, repositoryId, changed);
}
