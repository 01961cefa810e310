import type { Trx } from '../db/database';
import { FACT_COLUMNS, factsQuery, type Fact } from './facts';
import { ensureIdentities, type CommitScope } from './identities';
import { GRAINS, type Grain } from './time-buckets';

/**
 * Rollups: sums of commit facts (facts.ts) per UTC bucket, kept current by ingest through recordCommitChanges and
 * rebuilt from stored data by rebuildRollups. Design and reasons: docs/analytics.md.
 *
 * - rollups_hourly: per (repository, contributor), the finest rollup, for any filter;
 * - contributor_rollups_daily/_monthly/_yearly: per contributor (contributor totals, calendars);
 * - repository_rollups_daily/_monthly/_yearly: per repository (repository totals and series);
 * - workspace_rollups_hourly/_daily: the whole workspace (series, punch cards).
 * Every row also has the merge and bot flags, and line sums with (lines_*) and without (lines_*_all) exclusions.
 */

export interface Cube {
  table: string;
  grain: Grain;
  repository: boolean;
  contributor: boolean;
}

const cube = (
  table: string,
  grain: keyof typeof GRAINS,
  repository: boolean,
  contributor: boolean,
): Cube => ({
  table,
  grain: GRAINS[grain],
  repository,
  contributor,
});

export const CUBES = {
  hourly: cube('rollups_hourly', 'hour', true, true),
  contributorDaily: cube('contributor_rollups_daily', 'day', false, true),
  contributorMonthly: cube('contributor_rollups_monthly', 'month', false, true),
  contributorYearly: cube('contributor_rollups_yearly', 'year', false, true),
  repositoryDaily: cube('repository_rollups_daily', 'day', true, false),
  repositoryMonthly: cube('repository_rollups_monthly', 'month', true, false),
  repositoryYearly: cube('repository_rollups_yearly', 'year', true, false),
  workspaceHourly: cube('workspace_rollups_hourly', 'hour', false, false),
  workspaceDaily: cube('workspace_rollups_daily', 'day', false, false),
};

const ALL_CUBES = Object.values(CUBES);

/** The columns that identify a row of a cube. */
const keyColumns = (c: Cube) => [
  'bucket',
  ...(c.repository ? ['repository_id'] : []),
  ...(c.contributor ? ['contributor_id'] : []),
  'is_merge',
  'is_bot',
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
  await trx.raw(
    `select pg_advisory_xact_lock(hashtextextended('rollups:' || current_setting('app.tenant_id') || ':' || ?, 0))`,
    [repositoryId],
  );
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
    for (let i = 0; i < unique.length; i += 2000)
      await recordChunk(trx, repositoryId, unique.slice(i, i + 2000));
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
  for (const c of ALL_CUBES) await applyDeltas(trx, c, repositoryId, removed, added);
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

const LINES = SUMS.slice(1) as readonly (keyof Fact & keyof Delta)[];

function accumulate(c: Cube, removed: Fact[], added: Fact[]): Delta[] {
  const deltas = new Map<string, Delta>();
  const deltaOf = (f: Fact) => {
    const bucket = c.grain.floor(f.authored_at.getTime());
    const contributor = c.contributor ? f.contributor_id : null;
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
    for (const s of LINES) (d[s] as number) -= f[s] as number;
    const t = f.authored_at.getTime();
    d.departed.set(t, (d.departed.get(t) ?? 0) + 1);
  }
  for (const f of added) {
    const d = deltaOf(f);
    d.commits += 1;
    for (const s of LINES) (d[s] as number) += f[s] as number;
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

const DELTA_RECORD = `bucket timestamptz, contributor_id bigint, is_merge boolean, is_bot boolean,
  commits integer, lines_added bigint, lines_removed bigint, lines_added_all bigint, lines_removed_all bigint,
  first_at timestamptz, last_at timestamptz`;

/** Applies one batch's fact changes to one cube: sums added, emptied rows deleted, first/last kept exact. */
async function applyDeltas(trx: Trx, c: Cube, repositoryId: number, removed: Fact[], added: Fact[]) {
  const deltas = accumulate(c, removed, added);
  if (deltas.length === 0) return;
  const keys = keyColumns(c);
  const t = c.table;
  const repositoryValue = c.repository ? [repositoryId] : [];
  const times = c.contributor ? ['first_at', 'last_at'] : [];
  const values = keys.map((k) => (k === 'repository_id' ? '?::bigint' : `d.${k}`));
  const payload = JSON.stringify(
    deltas.map((d) => ({
      ...d,
      bucket: iso(d.bucket),
      first_at: iso(d.first_at),
      last_at: iso(d.last_at),
      departed: undefined,
    })),
  );
  // Ordered by key so that concurrent writers of the same buckets lock rows in the same order.
  await trx.raw(
    `insert into ${t} (tenant_id, ${[...keys, ...SUMS, ...times].join(', ')})
     select ${TENANT}, ${[...values, ...SUMS.map((s) => `d.${s}`), ...times.map((x) => `d.${x}`)].join(', ')}
       from json_to_recordset(?::json) as d(${DELTA_RECORD})
      order by ${keys
        .filter((k) => k !== 'repository_id')
        .map((k) => `d.${k}`)
        .join(', ')}
     on conflict (tenant_id, ${keys.join(', ')}) do update set
        ${[
          ...SUMS.map((s) => `${s} = ${t}.${s} + excluded.${s}`),
          ...(c.contributor
            ? [
                `first_at = least(${t}.first_at, excluded.first_at)`,
                `last_at = greatest(${t}.last_at, excluded.last_at)`,
              ]
            : []),
        ].join(', ')}`,
    [...repositoryValue, payload],
  );
  const match = keys
    .map((k) => (k === 'repository_id' ? 'r.repository_id = ?' : `r.${k} = k.${k}`))
    .join(' and ');
  const shrunk = deltas.filter((d) => d.commits < 0 || d.departed.size > 0);
  if (shrunk.length === 0) return;
  const shrunkKeys = JSON.stringify(
    shrunk.map((d) => ({ ...d, bucket: iso(d.bucket), departed: undefined })),
  );
  await trx.raw(
    `delete from ${t} r using json_to_recordset(?::json) as k(${DELTA_RECORD}) where ${match} and r.commits <= 0`,
    [shrunkKeys, ...repositoryValue],
  );
  const stale = deltas.filter((d) => d.departed.size > 0);
  if (!c.contributor || stale.length === 0) return;
  const staleKeys = JSON.stringify(
    stale.map((d) => ({
      bucket: iso(d.bucket),
      bucket_end: iso(c.grain.next(d.bucket)),
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
                 on f.contributor_id = k.contributor_id and f.is_merge = k.is_merge and f.is_bot = k.is_bot
                and f.authored_at >= k.bucket and f.authored_at < k.bucket_end
                ${c.repository ? 'and f.repository_id = ?' : ''}
              group by 1, 2, 3, 4) k
      where ${match}`,
    [staleKeys, ...repositoryValue, ...repositoryValue],
  );
}

/**
 * Recomputes facts and rollups from the stored commits and files, for one repository or the whole tenant:
 * after a settings change (exclusions, bots), a repository's deletion or restore, or to repair. No Bitbucket call.
 * A one-repository rebuild recomputes that repository's rows and the cubes summed over repositories.
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
  for (const c of ALL_CUBES) {
    if (c.repository) await trx.raw(`delete from ${c.table} ${onlyRepository}`, repositoryBinding);
    else await trx.raw(`delete from ${c.table}`);
  }
  await trx.raw(`delete from commit_facts ${onlyRepository}`, repositoryBinding);
  const query = await factsQuery(trx, scope);
  await trx.raw(
    `insert into commit_facts (tenant_id, ${FACT_COLUMNS.join(', ')})
     select ${TENANT}, ${FACT_COLUMNS.join(', ')} from (${query.sql}) f where f.contributor_id is not null`,
    query.bindings,
  );
  const hourly = CUBES.hourly;
  await trx.raw(
    `insert into ${hourly.table} (tenant_id, ${[...keyColumns(hourly), ...SUMS].join(', ')}, first_at, last_at)
     select ${TENANT}, date_trunc('hour', authored_at, 'UTC'), repository_id, contributor_id, is_merge, is_bot,
            count(*), ${LINES.map((s) => `sum(${s})`).join(', ')}, min(authored_at), max(authored_at)
       from commit_facts ${onlyRepository}
      group by 2, 3, 4, 5, 6`,
    repositoryBinding,
  );
  // Coarser cubes are sums of the hourly one: for one repository, its own rows and everything summed over
  // repositories (which has no per-repository part to replace).
  for (const c of ALL_CUBES.filter((x) => x !== hourly)) {
    const dims = keyColumns(c).slice(1);
    const times = c.contributor ? ', min(first_at), max(last_at)' : '';
    const onlyThis = c.repository ? onlyRepository : '';
    await trx.raw(
      `insert into ${c.table} (tenant_id, ${[...keyColumns(c), ...SUMS].join(', ')}${c.contributor ? ', first_at, last_at' : ''})
       select ${TENANT}, date_trunc('${c.grain.name}', bucket, 'UTC'), ${dims.join(', ')},
              ${SUMS.map((s) => `sum(${s})`).join(', ')}${times}
         from ${hourly.table} ${onlyThis}
        group by ${keyColumns(c)
          .map((_k, i) => i + 2)
          .join(', ')}`,
      c.repository ? repositoryBinding : [],
    );
  }
}
