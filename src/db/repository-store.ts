import type { Trx } from './database';
import { backfillRequestsPerSecond, limitInForce, type BudgetPolicy } from './request-budget-store';

/**
 * Repositories and their backfill state. Every function runs inside the caller's withTenant transaction, so a
 * state change commits together with the data it describes.
 */

export type SyncState = 'listing' | 'diffstats' | 'ready' | 'failed';

export interface RepositoryInput {
  uuid: string;
  fullName: string;
  slug: string;
  name: string;
  mainbranch: string | null;
  isPrivate: boolean;
  /** The repository's Bitbucket project; null (or left out) in a workspace without projects. */
  project?: RepositoryProject | null;
}

export interface RepositoryProject {
  uuid: string;
  key: string;
  name: string;
}

export interface RepositoryRecord {
  id: number;
  uuid: string;
  fullName: string;
  slug: string;
  name: string;
  mainbranch: string | null;
  project: RepositoryProject | null;
  deletedAt: Date | null;
  syncState: SyncState;
  syncCursor: string | null;
  commitsKnown: number;
  commitsWithLines: number;
  requestsUsed: number;
  etaSeconds: number | null;
  lastError: string | null;
  /** When a pull-request pass last read every pull request (null until the first pass is complete). */
  pullRequestsSyncedAt: Date | null;
}

interface RepositoryRow {
  tenant_id: string;
  id: number;
  uuid: string;
  full_name: string;
  slug: string;
  name: string;
  mainbranch: string | null;
  project_uuid: string | null;
  project_key: string | null;
  project_name: string | null;
  deleted_at: Date | null;
  sync_state: SyncState;
  sync_cursor: string | null;
  commits_known: number;
  commits_with_lines: number;
  requests_used: number;
  eta_seconds: number | null;
  last_error: string | null;
  pull_requests_synced_at: Date | null;
}

const toRecord = (row: RepositoryRow): RepositoryRecord => ({
  id: row.id,
  uuid: row.uuid,
  fullName: row.full_name,
  slug: row.slug,
  name: row.name,
  mainbranch: row.mainbranch,
  project:
    row.project_uuid === null
      ? null
      : { uuid: row.project_uuid, key: row.project_key ?? '', name: row.project_name ?? '' },
  deletedAt: row.deleted_at,
  syncState: row.sync_state,
  syncCursor: row.sync_cursor,
  commitsKnown: row.commits_known,
  commitsWithLines: row.commits_with_lines,
  requestsUsed: row.requests_used,
  etaSeconds: row.eta_seconds,
  lastError: row.last_error,
  pullRequestsSyncedAt: row.pull_requests_synced_at,
});

/** Inserts new repositories and refreshes known ones by uuid; a repository that reappears is no longer deleted. */
export async function upsertRepositories(
  trx: Trx,
  tenantId: string,
  repos: RepositoryInput[],
  now: Date,
): Promise<RepositoryRecord[]> {
  if (repos.length === 0) return [];
  const rows = await trx<RepositoryRow>('repositories')
    .insert(
      repos.map((r) => ({
        tenant_id: tenantId,
        uuid: r.uuid,
        full_name: r.fullName,
        slug: r.slug,
        name: r.name,
        mainbranch: r.mainbranch,
        is_private: r.isPrivate,
        project_uuid: r.project?.uuid ?? null,
        project_key: r.project?.key ?? null,
        project_name: r.project?.name ?? null,
        updated_at: now,
      })),
    )
    .onConflict(['tenant_id', 'uuid'])
    .merge({
      full_name: trx.raw('excluded.full_name'),
      slug: trx.raw('excluded.slug'),
      name: trx.raw('excluded.name'),
      mainbranch: trx.raw('excluded.mainbranch'),
      is_private: trx.raw('excluded.is_private'),
      project_uuid: trx.raw('excluded.project_uuid'),
      project_key: trx.raw('excluded.project_key'),
      project_name: trx.raw('excluded.project_name'),
      deleted_at: null,
      updated_at: now,
    } as never)
    .returning('*');
  return rows.map(toRecord);
}

/** Repositories absent from a complete listing were deleted (or moved out of the workspace). */
export async function markMissingDeleted(
  trx: Trx,
  tenantId: string,
  presentUuids: string[],
  now: Date,
): Promise<number> {
  return trx('repositories')
    .where({ tenant_id: tenantId })
    .whereNull('deleted_at')
    .whereNotIn('uuid', presentUuids)
    .update({ deleted_at: now, updated_at: now });
}

export async function findRepository(
  trx: Trx,
  tenantId: string,
  id: number,
): Promise<RepositoryRecord | null> {
  const row = await trx<RepositoryRow>('repositories').where({ tenant_id: tenantId, id }).first();
  return row ? toRecord(row) : null;
}

/** A repository by its Bitbucket uuid (stable across renames and moves), deleted ones included. */
export async function findRepositoryByUuid(
  trx: Trx,
  tenantId: string,
  uuid: string,
): Promise<RepositoryRecord | null> {
  const row = await trx<RepositoryRow>('repositories').where({ tenant_id: tenantId, uuid }).first();
  return row ? toRecord(row) : null;
}

/** Repositories that still exist, by name. */
/** Which repositories a caller may see: an explicit set of uuids (null: all) and whether only public ones. */
export interface RepositoryVisibility {
  uuids: string[] | null;
  publicOnly: boolean;
}

export async function listRepositories(
  trx: Trx,
  tenantId: string,
  visible: RepositoryVisibility = { uuids: null, publicOnly: false },
): Promise<RepositoryRecord[]> {
  const rows = await trx<RepositoryRow>('repositories')
    .where({ tenant_id: tenantId })
    .whereNull('deleted_at')
    .modify((q) => {
      if (visible.uuids !== null) q.whereRaw('lower(uuid) = any(?::text[])', [visible.uuids]);
      if (visible.publicOnly) q.where('is_private', false);
    })
    .orderBy([{ column: 'full_name' }, { column: 'id' }]);
  return rows.map(toRecord);
}

export interface ProgressUpdate {
  state?: SyncState;
  /** `undefined` keeps the cursor; `null` clears it. */
  cursor?: string | null;
  commitsKnownDelta?: number;
  commitsWithLinesDelta?: number;
  requests?: number;
  lastError?: string | null;
}

/** Moves a repository's counters and phase forward in the caller's transaction. */
export async function updateProgress(
  trx: Trx,
  tenantId: string,
  id: number,
  update: ProgressUpdate,
  now: Date,
): Promise<void> {
  const changes: Record<string, unknown> = {
    updated_at: now,
    commits_known: trx.raw('commits_known + ?', [update.commitsKnownDelta ?? 0]),
    commits_with_lines: trx.raw('commits_with_lines + ?', [update.commitsWithLinesDelta ?? 0]),
    requests_used: trx.raw('requests_used + ?', [update.requests ?? 0]),
  };
  if (update.state !== undefined) changes.sync_state = update.state;
  if (update.cursor !== undefined) changes.sync_cursor = update.cursor;
  if (update.lastError !== undefined) changes.last_error = update.lastError?.slice(0, 1000) ?? null;
  await trx('repositories').where({ tenant_id: tenantId, id }).update(changes);
}

/**
 * Marks `ready` those of the given repositories (all of the tenant's when null) whose backfill is complete and
 * whose analytics are applied: every commit has its line counts, the first pull-request pass is done, and no change
 * waits in `analytics_changes`. `ready` therefore means the numbers are right, not merely that the data is stored.
 * The rows are locked first, in id order; the check then runs as a new statement (READ COMMITTED: a fresh
 * snapshot), so an ingest write that held a row and queued changes has committed and is seen. Returns the ids marked.
 */
export async function markReadyWhereComplete(
  trx: Trx,
  tenantId: string,
  ids: number[] | null,
  now: Date,
): Promise<number[]> {
  const locked = await trx.raw<{ rows: { id: number }[] }>(
    `select id from repositories
      where tenant_id = ? and sync_state = 'diffstats' and pull_requests_synced_at is not null
        and (?::bigint[] is null or id = any(?::bigint[]))
      order by id for update`,
    [tenantId, ids, ids],
  );
  if (locked.rows.length === 0) return [];
  const { rows } = await trx.raw<{ rows: { id: number }[] }>(
    `update repositories r set sync_state = 'ready', updated_at = ?
      where r.tenant_id = ? and r.id = any(?::bigint[])
        and r.sync_state = 'diffstats' and r.pull_requests_synced_at is not null
        and not exists (select 1 from commits c
                         where c.tenant_id = r.tenant_id and c.repository_id = r.id and c.lines_added is null)
        and not exists (select 1 from analytics_changes a
                         where a.tenant_id = r.tenant_id and a.repository_id = r.id)
      returning r.id`,
    [now, tenantId, locked.rows.map((r) => r.id)],
  );
  return rows.map((r) => r.id);
}

/** Sets the counters from the commits table itself (at phase changes, so drift never outlives a phase). */
export async function recountCommits(trx: Trx, tenantId: string, id: number): Promise<void> {
  await trx.raw(
    `update repositories r
        set commits_known = c.known, commits_with_lines = c.with_lines
       from (select count(*)::int as known, count(lines_added)::int as with_lines
               from commits where tenant_id = ? and repository_id = ?) c
      where r.tenant_id = ? and r.id = ?`,
    [tenantId, id, tenantId, id],
  );
}

/**
 * Recomputes every repository's ETA from the requests it still needs (one diffstat per commit without lines,
 * plus at least one page while listing) and the backfill rate. A tenant's repositories share its budget in
 * turns, so a repository finishes after sum(min(other's remaining, its remaining)) requests.
 * While listing, the total is not known yet, so the ETA is a lower bound.
 */
/** Each repository's requests still needed: one diffstat per commit without lines, at least one page while listing. */
const REMAINING_REQUESTS = `
  select id, sync_state,
         case when deleted_at is not null or sync_state in ('ready', 'failed') then 0
              else greatest(commits_known - commits_with_lines, 0)
                   + case when sync_state = 'listing' then 1 else 0 end
         end as remaining
    from repositories where tenant_id = ?`;
/** Seconds until a repository of `r` finishes, its tenant's repositories taking turns (see refreshEtas). */
const SHARED_ETA = `ceil((select sum(least(o.remaining, r.remaining)) from r o) / ?::float8)::int`;

export async function refreshEtas(
  trx: Trx,
  tenantId: string,
  budget: BudgetPolicy,
  now: Date,
): Promise<void> {
  const rate = backfillRequestsPerSecond(await limitInForce(trx, tenantId, budget, now), budget.windowMs);
  await trx.raw(
    `with r as (${REMAINING_REQUESTS})
     update repositories p
        set eta_seconds = case
              when p.sync_state = 'failed' then null
              when r.remaining = 0 then 0
              else ${SHARED_ETA}
            end
       from r
      where p.tenant_id = ? and p.id = r.id`,
    [tenantId, rate, tenantId],
  );
}

/**
 * The ETA of every repository at the rate given (the budget in force, which may have changed since the stored
 * ETAs were written): null once it is done (`ready`) or failed, else as refreshEtas computes it.
 */
export async function currentEtas(
  trx: Trx,
  tenantId: string,
  requestsPerSecond: number,
): Promise<Map<number, number | null>> {
  const { rows } = await trx.raw<{ rows: { id: string | number; eta: number | null }[] }>(
    `with r as (${REMAINING_REQUESTS})
     select id, case when sync_state in ('ready', 'failed') then null
                     when remaining = 0 then 0
                     else ${SHARED_ETA} end as eta
       from r`,
    [tenantId, requestsPerSecond],
  );
  return new Map(rows.map((row) => [Number(row.id), row.eta]));
}
