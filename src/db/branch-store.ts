import type { Trx } from './database';

/**
 * Where a repository's refs point: named refs from webhooks (`branches`: branches and tags) and the unnamed tips
 * the backfill found (`unnamed_heads`, see migrations/20261125400000_live_sync.ts). Together they are the starting
 * points of reachability (src/db/reachability.ts). Every write is an upsert or a delete by key, so applying the
 * same change twice changes nothing.
 */

export type RefKind = 'branch' | 'tag';

export interface RefHead {
  kind: RefKind;
  name: string;
  head: string;
}

const ofRepository = (trx: Trx, table: string, tenantId: string, repositoryId: number) =>
  trx(table).where({ tenant_id: tenantId, repository_id: repositoryId });

export async function namedRefs(trx: Trx, tenantId: string, repositoryId: number): Promise<RefHead[]> {
  return ofRepository(trx, 'branches', tenantId, repositoryId)
    .select('kind', 'name', 'head')
    .orderBy([{ column: 'kind' }, { column: 'name' }]);
}

/** Points a named ref at `head`, or removes it when `head` is null (the ref is gone). */
export async function setRef(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  ref: { kind: RefKind; name: string; head: string | null },
  now: Date,
): Promise<void> {
  const key = { tenant_id: tenantId, repository_id: repositoryId, kind: ref.kind, name: ref.name };
  if (ref.head === null) {
    await trx('branches').where(key).del();
    return;
  }
  await trx('branches')
    .insert({ ...key, head: ref.head, updated_at: now })
    .onConflict(['tenant_id', 'repository_id', 'kind', 'name'])
    .merge({ head: ref.head, updated_at: now });
}

/** Unnamed tips still standing (not left by any ref since they were found). */
export async function unnamedTips(trx: Trx, tenantId: string, repositoryId: number): Promise<string[]> {
  const rows = await ofRepository(trx, 'unnamed_heads', tenantId, repositoryId)
    .whereNull('left_at')
    .select('hash');
  return rows.map((r: { hash: string }) => r.hash);
}

/**
 * Records that refs moved away from these commits: a tip among them stops being one, and none of them will be
 * seeded as a tip later (a webhook may be processed before the backfill's listing has finished). Returns the
 * hashes that were standing tips until now.
 */
export async function markHeadsLeft(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  hashes: string[],
  now: Date,
): Promise<string[]> {
  const unique = [...new Set(hashes)];
  if (unique.length === 0) return [];
  const { rows } = await trx.raw<{ rows: { hash: string; was_tip: boolean }[] }>(
    `with previous as (
       select hash from unnamed_heads
        where tenant_id = ? and repository_id = ? and hash = any(?::text[]) and left_at is null
     )
     insert into unnamed_heads (tenant_id, repository_id, hash, found_at, left_at)
     select ?::uuid, ?::bigint, h, ?::timestamptz, ?::timestamptz from unnest(?::text[]) as h
     on conflict (tenant_id, repository_id, hash) do update set left_at = coalesce(unnamed_heads.left_at, excluded.left_at)
     returning hash, hash in (select hash from previous) as was_tip`,
    [tenantId, repositoryId, unique, tenantId, repositoryId, now, now, unique],
  );
  return rows.filter((r) => r.was_tip).map((r) => r.hash);
}

/** Whether the repository's unnamed tips have been seeded (only then is reachability computed). */
export async function headsSeeded(trx: Trx, tenantId: string, repositoryId: number): Promise<boolean> {
  const row = await trx('repositories')
    .where({ tenant_id: tenantId, id: repositoryId })
    .first('heads_seeded_at');
  return row?.heads_seeded_at != null;
}

/**
 * Once the backfill has listed every commit: the stored commits no stored commit names as a parent are the tips of
 * the refs that existed then. Commits a ref is known to have left, and heads of named refs, are not unnamed tips.
 * Runs once per repository; returns false when it had already run.
 */
export async function seedUnnamedHeads(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  now: Date,
): Promise<boolean> {
  const claimed = await trx('repositories')
    .where({ tenant_id: tenantId, id: repositoryId })
    .whereNull('heads_seeded_at')
    .update({ heads_seeded_at: now })
    .returning('id');
  if (claimed.length === 0) return false;
  // Set operations (hashed), never a join the planner could turn into nested loops over a freshly written table.
  await trx.raw(
    `insert into unnamed_heads (tenant_id, repository_id, hash, found_at)
     select ?::uuid, ?::bigint, t.hash, ?::timestamptz
       from (select hash from commits where tenant_id = ? and repository_id = ?
             except
             select unnest(parents) from commits where tenant_id = ? and repository_id = ?
             except
             select head from branches where tenant_id = ? and repository_id = ?) t
     on conflict (tenant_id, repository_id, hash) do nothing`,
    [tenantId, repositoryId, now, tenantId, repositoryId, tenantId, repositoryId, tenantId, repositoryId],
  );
  return true;
}
