import type { Trx } from './database';

/**
 * Which stored commits still count: those reachable, through stored parents, from a named ref (`branches`) or an
 * unnamed tip (`unnamed_heads` not left). A commit reachable from nothing gets `unreachable_since` (kept, not
 * deleted: it stops counting and says since when); one reachable again gets null.
 *
 * Computed in memory from (hash, parents) rather than with a recursive CTE: a linear history is as deep as it is
 * long, and a CTE iterates once per level, while a walk over 100,000 commits held in a Map takes milliseconds.
 */

interface CommitLink {
  hash: string;
  /** Space-separated: text parses far faster than a text[] in node-postgres. */
  parents: string;
  unreachable: boolean;
}

/** Recomputes reachability for one repository; returns the hashes whose `unreachable_since` changed. */
export async function refreshReachability(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  now: Date,
): Promise<string[]> {
  const { rows: commits } = await trx.raw<{ rows: CommitLink[] }>(
    `select hash, array_to_string(parents, ' ') as parents, unreachable_since is not null as unreachable
       from commits where tenant_id = ? and repository_id = ?`,
    [tenantId, repositoryId],
  );
  const { rows: starts } = await trx.raw<{ rows: { hash: string }[] }>(
    `select head as hash from branches where tenant_id = ? and repository_id = ?
     union
     select hash from unnamed_heads where tenant_id = ? and repository_id = ? and left_at is null`,
    [tenantId, repositoryId, tenantId, repositoryId],
  );
  const byHash = new Map(commits.map((c) => [c.hash, c]));
  const reached = new Set<string>();
  const stack = starts.map((s) => s.hash).filter((h) => byHash.has(h));
  for (const hash of stack) reached.add(hash);
  while (stack.length > 0) {
    const parents = byHash.get(stack.pop()!)!.parents;
    if (parents === '') continue;
    for (const parent of parents.split(' ')) {
      if (reached.has(parent) || !byHash.has(parent)) continue;
      reached.add(parent);
      stack.push(parent);
    }
  }
  const lost = commits.filter((c) => !c.unreachable && !reached.has(c.hash)).map((c) => c.hash);
  const regained = commits.filter((c) => c.unreachable && reached.has(c.hash)).map((c) => c.hash);
  // One array parameter per statement: a force push can orphan more commits than a statement has placeholders.
  const mark = (hashes: string[], value: Date | null) =>
    hashes.length === 0
      ? undefined
      : trx.raw(
          `update commits set unreachable_since = ?
            where tenant_id = ? and repository_id = ? and hash = any(?::text[])`,
          [value, tenantId, repositoryId, hashes],
        );
  await mark(lost, now);
  await mark(regained, null);
  return [...lost, ...regained];
}

/** Whether any of these stored commits is marked unreachable (a ref moving onto it makes it count again). */
export async function anyUnreachable(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  hashes: string[],
): Promise<boolean> {
  if (hashes.length === 0) return false;
  const { rows } = await trx.raw(
    `select 1 from commits
      where tenant_id = ? and repository_id = ? and hash = any(?::text[]) and unreachable_since is not null
      limit 1`,
    [tenantId, repositoryId, [...new Set(hashes)]],
  );
  return rows.length > 0;
}
