import type { Trx } from '../db/database';

/**
 * Called by ingest inside the same tenant transaction that wrote or changed commits (metadata, diffstats,
 * reachability), so daily rollups and identities stay current with the commits table.
 * (Implemented by the analytics engine; a no-op until then.)
 */
export async function recordCommitChanges(
  _trx: Trx,
  _repositoryId: number,
  _hashes: string[],
): Promise<void> {}
