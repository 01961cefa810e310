import type { Knex } from 'knex';
import type { Trx } from '../db/database';

/**
 * What every read-model upkeep shares (commit rollups in rollups.ts, pull-request rollups in pull-request-facts.ts):
 * serialization per repository against whole-tenant rebuilds, and the join strategy of batch upkeep.
 */

export const TENANT = `current_setting('app.tenant_id')::uuid`;

/**
 * Serializes upkeep per repository (exclusive per repository, shared per tenant) against whole-tenant rebuilds
 * (exclusive per tenant), so that concurrent jobs cannot double-count. Held to the end of the transaction.
 */
export async function lockUpkeep(trx: Trx, repositoryId?: number): Promise<void> {
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
 * Rollup upkeep joins sets that are either filtered by the batch's keys or small per tenant (identities), which
 * hash joins handle well; nested loops chosen from missing statistics (freshly written tables, before autovacuum
 * has analyzed them) turn such joins quadratic. So nested loops are off for the upkeep, then restored.
 */
export async function withHashJoins<T>(trx: Trx, fn: () => Promise<T>): Promise<T> {
  const previous: string = (await trx.raw(`select current_setting('enable_nestloop') as v`)).rows[0].v;
  await trx.raw(`select set_config('enable_nestloop', 'off', true)`);
  try {
    return await fn();
  } finally {
    // In an aborted transaction this fails too, and nothing is left to restore.
    await trx.raw(`select set_config('enable_nestloop', ?, true)`, [previous]).catch(() => undefined);
  }
}

/** SQL with its bindings. */
export interface Fragment {
  sql: string;
  bindings: Knex.Value[];
}

/** A fact table: one row per counted thing, what the rollups are sums of. */
export interface FactTable {
  table: string;
  /** Column name → SQL type, tenant_id aside. */
  columns: Record<string, string>;
  /** The columns that identify a fact, tenant_id aside. */
  key: readonly string[];
}

/** Signed fact rows (`sign` -1: subtract, +1: add, then the fact's columns), as a subquery. */
export type Changes = Fragment;

/**
 * The signed difference between what the scope's facts should be (`fresh`, a SELECT of the fact columns) and what
 * is stored (`stored`: `and …` conditions on alias s): stored rows that differ or are gone (-1), fresh rows that
 * differ or are new (+1). Unchanged facts are in neither, so applying the difference twice changes nothing.
 */
function differenceSql(facts: FactTable, fresh: Fragment, stored: Fragment): Fragment {
  const columns = Object.keys(facts.columns);
  const list = (alias: string) => columns.map((c) => `${alias}.${c}`).join(', ');
  // Matched on the key first (a hash join), then compared whole.
  const same = (a: string, b: string) =>
    `${facts.key.map((k) => `${a}.${k} = ${b}.${k}`).join(' and ')} and (${list(a)}) is not distinct from (${list(b)})`;
  return {
    sql: `with fresh as (${fresh.sql}),
          stored as (select ${columns.join(', ')} from ${facts.table} s where true ${stored.sql})
          select -1 as sign, ${list('o')} from stored o where not exists (select 1 from fresh n where ${same('n', 'o')})
          union all
          select 1 as sign, ${list('n')} from fresh n where not exists (select 1 from stored o where ${same('o', 'n')})`,
    bindings: [...fresh.bindings, ...stored.bindings],
  };
}

/**
 * The difference (differenceSql) of a batch, carried as JSON text that never becomes JavaScript values (timestamps
 * keep their microseconds); null when nothing changed.
 */
export async function batchDifference(
  trx: Trx,
  facts: FactTable,
  fresh: Fragment,
  stored: Fragment,
): Promise<Changes | null> {
  const difference = differenceSql(facts, fresh, stored);
  const { rows } = await trx.raw(
    `select json_agg(d)::text as changes from (${difference.sql}) d`,
    difference.bindings,
  );
  const json = rows[0].changes as string | null;
  if (json === null) return null;
  const record = Object.entries(facts.columns)
    .map(([name, type]) => `${name} ${type}`)
    .join(', ');
  return { sql: `select * from json_to_recordset(?::json) as c(sign integer, ${record})`, bindings: [json] };
}

/** The difference (differenceSql) of a whole scope, kept in a temporary table for the statements that apply it. */
export async function stagedDifference(
  trx: Trx,
  facts: FactTable,
  fresh: Fragment,
  stored: Fragment,
): Promise<Changes> {
  const difference = differenceSql(facts, fresh, stored);
  const name = `${facts.table}_changes`;
  await trx.raw(`drop table if exists pg_temp.${name}`);
  await trx.raw(`create temporary table ${name} on commit drop as ${difference.sql}`, difference.bindings);
  await trx.raw(`analyze pg_temp.${name}`);
  return { sql: `select * from pg_temp.${name}`, bindings: [] };
}

/**
 * Writes a difference to the fact table: a fact that changed is updated in place (no new index entries when no
 * indexed column changed, no foreign-key checks), a new one inserted, one that is gone deleted.
 */
export async function replaceFacts(trx: Trx, facts: FactTable, changes: Changes): Promise<void> {
  const columns = Object.keys(facts.columns);
  const match = (a: string, b: string) => facts.key.map((k) => `${a}.${k} = ${b}.${k}`).join(' and ');
  const values = columns.filter((c) => !facts.key.includes(c));
  await trx.raw(
    `update ${facts.table} t set ${values.map((c) => `${c} = a.${c}`).join(', ')}
       from (${changes.sql}) a where a.sign > 0 and ${match('t', 'a')}`,
    changes.bindings,
  );
  await trx.raw(
    `insert into ${facts.table} (tenant_id, ${columns.join(', ')})
     select ${TENANT}, ${columns.join(', ')} from (${changes.sql}) a
      where a.sign > 0 and not exists (select 1 from ${facts.table} t where ${match('t', 'a')})`,
    changes.bindings,
  );
  await trx.raw(
    `delete from ${facts.table} t using (${changes.sql}) r
      where r.sign < 0 and ${match('t', 'r')}
        and not exists (select 1 from (${changes.sql}) a where a.sign > 0 and ${match('a', 'r')})`,
    [...changes.bindings, ...changes.bindings],
  );
}
