import type { Trx } from '../db/database';
import { FACT_COLUMNS, factsQuery, type Fact } from './facts';
import { ensureIdentities, type CommitScope } from './identities';
import { GRAINS, type Grain } from './time-buckets';

/**
 * Rollups: sums of commit facts (facts.ts) per UTC bucket, kept current by ingest through recordCommitChanges and
 * rebuilt from stored data by rebuildRollups. Design and reasons: docs/analytics.md.
 *
 * - rollups_hourly / _monthly / _yearly: per (repository, contributor, merge, bot) — any filter, any range;
 * - workspace_rollups_hourly / _daily: per (merge, bot) only — whole-workspace series and punch cards.
 */

interface CubeTable {
  table: string;
  grain: Grain;
  /** Keyed by repository and contributor (and so keeps first/last commit times). */
  perContributor: boolean;
}

export const CONTRIBUTOR_TABLES = {
  hour: 'rollups_hourly',
  month: 'rollups_monthly',
  year: 'rollups_yearly',
} as const;

export const WORKSPACE_TABLES = {
  hour: 'workspace_rollups_hourly',
  day: 'workspace_rollups_daily',
} as const;

const CUBES: CubeTable[] = [
  ...Object.entries(CONTRIBUTOR_TABLES).map(([g, table]) => ({
    table,
    grain: GRAINS[g as keyof typeof CONTRIBUTOR_TABLES],
    perContributor: true,
  })),
  ...Object.entries(WORKSPACE_TABLES).map(([g, table]) => ({
    table,
    grain: GRAINS[g as keyof typeof WORKSPACE_TABLES],
    perContributor: false,
  })),
];

const TENANT = `current_setting('app.tenant_id')::uuid`;
const SUMS = ['commits', 'lines_added', 'lines_removed', 'lines_added_all', 'lines_removed_all'] as const;

/** Serializes rollup upkeep per repository (shared) against whole-tenant rebuilds (exclusive). */
async function lock(trx: Trx, repositoryId?: number): Promise<void> {
  const tenantKey = `hashtextextended('rollups:' || current_setting('app.tenant_id'), 0)`;
  if (repositoryId === undefined) {
    await trx.raw(`select pg_advisory_xact_lock(${tenantKey})`);
    return;
  }
  await trx.raw(`select pg_advisory_xact_lock_shared(${tenantKey})`);
  await trx.raw(`select pg_advisory_xact_lock(hashtextextended('rollups:' || current_setting('app.tenant_id') || ':' || ?, 0))`, [
    repositoryId,
  ]);
}

/**
 * Rollup upkeep joins sets that are either filtered by the batch's hashes or small per tenant (identities), which
 * hash joins handle well; nested loops chosen from missing statistics (freshly written tables, before autovacuum
 * has analyzed them) turn such joins quadratic. So nested loops are off for the upkeep, then restored.
 */
async function withHashJoins<T>(trx: Trx, fn: () => Promise<T>): Promise<T> {
  const previous: string = (await trx.raw(`select current_setting('enable_nestloop') as v`)).rows[0].v;
  await trx.raw(`select set_config('enable_nestloop', 'off', true)`);
  try {
    return await fn();
  } finally {
    // In an aborted transaction this fails too, and nothing is left to restore.
    await trx.raw(`select set_config('enable_nestloop', ?, true)`, [previous]).catch(() => undefined);
  }
}

/**
 * Called by ingest inside the same tenant transaction that wrote or changed commits (metadata, diffstats,
 * reachability), so identities, facts and rollups stay current with the commits table. Idempotent: a commit whose
 * fact is unchanged changes nothing.
 */
export async function recordCommitChanges(trx: Trx, repositoryId: number, hashes: string[]): Promise<void> {
  const unique = [...new Set(hashes)];
  if (unique.length === 0) return;
  await lock(trx, repositoryId);
  await withHashJoins(trx, async () => {
    for (let i = 0; i < unique.length; i += 2000) await recordChunk(trx, repositoryId, unique.slice(i, i + 2000));
  });
}

const sameFact = (a: Fact, b: Fact) =>
  FACT_COLUMNS.every((k) => (k === 'authored_at' ? a[k].getTime() === b[k].getTime() : a[k] === b[k]));

async function recordChunk(trx: Trx, repositoryId: number, hashes: string[]): Promise<void> {
  const scope: CommitScope = { repositoryId, hashes };
  await ensureIdentities(trx, scope);
  const query = await factsQuery(trx, scope);
  const fresh = ((await trx.raw(query.sql, query.bindings)).rows as Fact[]).filter(
    (f) => f.contributor_id !== null,
  );
  const old: Fact[] = (
    await trx.raw(
      `select ${FACT_COLUMNS.join(', ')} from commit_facts where repository_id = ? and hash = any(?::text[]) for update`,
      [repositoryId, hashes],
    )
  ).rows;
  const oldByHash = new Map(old.map((f) => [f.hash, f]));
  const freshByHash = new Map(fresh.map((f) => [f.hash, f]));
  const removed = old.filter((f) => {
    const now = freshByHash.get(f.hash);
    return !now || !sameFact(f, now);
  });
  const added = fresh.filter((f) => {
    const before = oldByHash.get(f.hash);
    return !before || !sameFact(before, f);
  });
  if (removed.length === 0 && added.length === 0) return;
  if (removed.length > 0) {
    await trx.raw(`delete from commit_facts where repository_id = ? and hash = any(?::text[])`, [
      repositoryId,
      removed.map((f) => f.hash),
    ]);
  }
  if (added.length > 0) {
    await trx.raw(
      `insert into commit_facts (tenant_id, ${FACT_COLUMNS.join(', ')})
       select ${TENANT}, ${FACT_COLUMNS.join(', ')}
         from json_populate_recordset(null::commit_facts, ?::json)`,
      [JSON.stringify(added)],
    );
  }
  for (const cube of CUBES) await applyDeltas(trx, cube, repositoryId, removed, added);
}

interface Delta {
  bucket: number;
  contributor_id: number | null;
  is_merge: boolean;
  is_bot: boolean;
  commits: number;
  lines_added: number;
  lines_removed: number;
  lines_added_all: number;
  lines_removed_all: number;
  first_at: number;
  last_at: number;
  /** Times of commits that left this bucket and did not come back: first/last must be recomputed. */
  departed: Map<number, number>;
}

function accumulate(cube: CubeTable, removed: Fact[], added: Fact[]): Delta[] {
  const deltas = new Map<string, Delta>();
  const deltaOf = (f: Fact) => {
    const bucket = cube.grain.floor(f.authored_at.getTime());
    const contributor = cube.perContributor ? f.contributor_id : null;
    const key = `${bucket}|${contributor}|${f.is_merge}|${f.is_bot}`;
    let d = deltas.get(key);
    if (!d) {
      d = {
        bucket,
        contributor_id: contributor,
        is_merge: f.is_merge,
        is_bot: f.is_bot,
        commits: 0,
        lines_added: 0,
        lines_removed: 0,
        lines_added_all: 0,
        lines_removed_all: 0,
        first_at: Infinity,
        last_at: -Infinity,
        departed: new Map(),
      };
      deltas.set(key, d);
    }
    return d;
  };
  for (const f of removed) {
    const d = deltaOf(f);
    d.commits -= 1;
    for (const s of SUMS.slice(1)) d[s] -= f[s as keyof Fact] as number;
    const t = f.authored_at.getTime();
    d.departed.set(t, (d.departed.get(t) ?? 0) + 1);
  }
  for (const f of added) {
    const d = deltaOf(f);
    d.commits += 1;
    for (const s of SUMS.slice(1)) d[s] += f[s as keyof Fact] as number;
    const t = f.authored_at.getTime();
    d.first_at = Math.min(d.first_at, t);
    d.last_at = Math.max(d.last_at, t);
    const left = d.departed.get(t);
    if (left !== undefined) {
      if (left <= 1) d.departed.delete(t);
      else d.departed.set(t, left - 1);
    }
  }
  return [...deltas.values()].filter(
    (d) => d.departed.size > 0 || Number.isFinite(d.first_at) || SUMS.some((s) => d[s] !== 0),
  );
}

const iso = (ms: number) =>
  ms === Infinity ? 'infinity' : ms === -Infinity ? '-infinity' : new Date(ms).toISOString();

async function applyDeltas(
  trx: Trx,
  cube: CubeTable,
  repositoryId: number,
  removed: Fact[],
  added: Fact[],
): Promise<void> {
  const deltas = accumulate(cube, removed, added);
  if (deltas.length === 0) return;
  const keyColumns = cube.perContributor
    ? ['bucket', 'repository_id', 'contributor_id', 'is_merge', 'is_bot']
    : ['bucket', 'is_merge', 'is_bot'];
  const payload = JSON.stringify(
    deltas.map((d) => ({
      ...d,
      bucket: iso(d.bucket),
      first_at: iso(d.first_at),
      last_at: iso(d.last_at),
      departed: undefined,
    })),
  );
  const t = cube.table;
  const timeColumns = cube.perContributor ? ', first_at, last_at' : '';
  const timeUpdates = cube.perContributor
    ? `, first_at = least(${t}.first_at, excluded.first_at), last_at = greatest(${t}.last_at, excluded.last_at)`
    : '';
  const recordType = `bucket timestamptz, contributor_id bigint, is_merge boolean, is_bot boolean,
      commits integer, lines_added bigint, lines_removed bigint, lines_added_all bigint, lines_removed_all bigint,
      first_at timestamptz, last_at timestamptz`;
  // Ordered by key so that concurrent writers of the same buckets lock rows in the same order.
  await trx.raw(
    `insert into ${t} (tenant_id, ${keyColumns.join(', ')}, ${SUMS.join(', ')}${timeColumns})
     select ${TENANT}, d.bucket, ${cube.perContributor ? '?::bigint, d.contributor_id, ' : ''}d.is_merge, d.is_bot,
            ${SUMS.map((s) => `d.${s}`).join(', ')}${cube.perContributor ? ', d.first_at, d.last_at' : ''}
       from json_to_recordset(?::json) as d(${recordType})
      order by ${keyColumns.filter((k) => k !== 'repository_id').join(', ')}
     on conflict (tenant_id, ${keyColumns.join(', ')}) do update set
        ${SUMS.map((s) => `${s} = ${t}.${s} + excluded.${s}`).join(', ')}${timeUpdates}`,
    cube.perContributor ? [repositoryId, payload] : [payload],
  );
  const keyMatch = cube.perContributor
    ? `r.repository_id = ? and r.bucket = k.bucket and r.contributor_id = k.contributor_id and r.is_merge = k.is_merge and r.is_bot = k.is_bot`
    : `r.bucket = k.bucket and r.is_merge = k.is_merge and r.is_bot = k.is_bot`;
  const keyBindings = cube.perContributor ? [repositoryId] : [];
  const shrunk = deltas.filter((d) => d.commits < 0 || d.departed.size > 0);
  if (shrunk.length === 0) return;
  const keys = JSON.stringify(shrunk.map((d) => ({ ...d, bucket: iso(d.bucket), departed: undefined })));
  await trx.raw(
    `delete from ${t} r using json_to_recordset(?::json) as k(${recordType})
      where ${keyMatch} and r.commits <= 0`,
    [keys, ...keyBindings],
  );
  if (!cube.perContributor) return;
  const stale = deltas.filter((d) => d.departed.size > 0);
  if (stale.length === 0) return;
  const staleKeys = JSON.stringify(
    stale.map((d) => ({
      bucket: iso(d.bucket),
      bucket_end: iso(cube.grain.next(d.bucket)),
      contributor_id: d.contributor_id,
      is_merge: d.is_merge,
      is_bot: d.is_bot,
    })),
  );
  await trx.raw(
    `update ${t} r set first_at = k.first_at, last_at = k.last_at
       from (select k.bucket, k.contributor_id, k.is_merge, k.is_bot,
                    min(f.authored_at) as first_at, max(f.authored_at) as last_at
               from json_to_recordset(?::json)
                    as k(bucket timestamptz, bucket_end timestamptz, contributor_id bigint, is_merge boolean, is_bot boolean)
               join commit_facts f
                 on f.contributor_id = k.contributor_id and f.repository_id = ? and f.is_merge = k.is_merge
                and f.is_bot = k.is_bot and f.authored_at >= k.bucket and f.authored_at < k.bucket_end
              group by 1, 2, 3, 4) k
      where ${keyMatch}`,
    [staleKeys, repositoryId, ...keyBindings],
  );
}

/**
 * Recomputes facts and rollups from the stored commits and files, for one repository or the whole tenant:
 * after a settings change (exclusions, bots), a repository's deletion or restore, or to repair. No Bitbucket call.
 */
export async function rebuildRollups(trx: Trx, repositoryId?: number): Promise<void> {
  await lock(trx, repositoryId);
  await withHashJoins(trx, () => rebuild(trx, repositoryId));
}

async function rebuild(trx: Trx, repositoryId?: number): Promise<void> {
  const scope: CommitScope = repositoryId === undefined ? {} : { repositoryId };
  const onlyRepository = repositoryId === undefined ? '' : 'where repository_id = ?';
  const repositoryBinding = repositoryId === undefined ? [] : [repositoryId];
  await ensureIdentities(trx, scope);
  if (repositoryId === undefined) {
    for (const cube of CUBES) await trx.raw(`delete from ${cube.table}`);
  } else {
    await addToWorkspace(trx, repositoryId, -1);
    for (const table of Object.values(CONTRIBUTOR_TABLES))
      await trx.raw(`delete from ${table} ${onlyRepository}`, repositoryBinding);
  }
  await trx.raw(`delete from commit_facts ${onlyRepository}`, repositoryBinding);
  const query = await factsQuery(trx, scope);
  await trx.raw(
    `insert into commit_facts (tenant_id, ${FACT_COLUMNS.join(', ')})
     select ${TENANT}, ${FACT_COLUMNS.join(', ')} from (${query.sql}) f where f.contributor_id is not null`,
    query.bindings,
  );
  const sums = SUMS.map((s) => (s === 'commits' ? 'count(*)' : `sum(${s})`)).join(', ');
  await trx.raw(
    `insert into ${CONTRIBUTOR_TABLES.hour}
       (tenant_id, bucket, repository_id, contributor_id, is_merge, is_bot, ${SUMS.join(', ')}, first_at, last_at)
     select ${TENANT}, date_trunc('hour', authored_at, 'UTC'), repository_id, contributor_id, is_merge, is_bot,
            ${sums}, min(authored_at), max(authored_at)
       from commit_facts ${onlyRepository}
      group by 2, 3, 4, 5, 6`,
    repositoryBinding,
  );
  for (const grain of ['month', 'year'] as const) {
    await trx.raw(
      `insert into ${CONTRIBUTOR_TABLES[grain]}
         (tenant_id, bucket, repository_id, contributor_id, is_merge, is_bot, ${SUMS.join(', ')}, first_at, last_at)
       select ${TENANT}, date_trunc('${grain}', bucket, 'UTC'), repository_id, contributor_id, is_merge, is_bot,
              ${SUMS.map((s) => `sum(${s})`).join(', ')}, min(first_at), max(last_at)
         from ${CONTRIBUTOR_TABLES.hour} ${onlyRepository}
        group by 2, 3, 4, 5, 6`,
      repositoryBinding,
    );
  }
  if (repositoryId === undefined) {
    for (const [grain, table] of Object.entries(WORKSPACE_TABLES)) {
      await trx.raw(
        `insert into ${table} (tenant_id, bucket, is_merge, is_bot, ${SUMS.join(', ')})
         select ${TENANT}, date_trunc('${grain}', bucket, 'UTC'), is_merge, is_bot, ${SUMS.map((s) => `sum(${s})`).join(', ')}
           from ${CONTRIBUTOR_TABLES.hour} group by 2, 3, 4`,
      );
    }
  } else {
    await addToWorkspace(trx, repositoryId, 1);
  }
}

/** Adds (sign 1) or subtracts (-1) one repository's hourly rollups to the workspace-wide rollups. */
async function addToWorkspace(trx: Trx, repositoryId: number, sign: 1 | -1): Promise<void> {
  for (const [grain, table] of Object.entries(WORKSPACE_TABLES)) {
    await trx.raw(
      `insert into ${table} (tenant_id, bucket, is_merge, is_bot, ${SUMS.join(', ')})
       select ${TENANT}, date_trunc('${grain}', bucket, 'UTC') as b, is_merge, is_bot,
              ${SUMS.map((s) => `${sign} * sum(${s})`).join(', ')}
         from ${CONTRIBUTOR_TABLES.hour} where repository_id = ?
        group by b, is_merge, is_bot
        order by b, is_merge, is_bot
       on conflict (tenant_id, bucket, is_merge, is_bot) do update set
          ${SUMS.map((s) => `${s} = ${table}.${s} + excluded.${s}`).join(', ')}`,
      [repositoryId],
    );
    if (sign < 0) await trx.raw(`delete from ${table} where commits <= 0`);
  }
}
