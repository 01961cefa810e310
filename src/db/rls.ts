import type { Knex } from 'knex';

/**
 * The one tenant predicate: no app.tenant_id set means no rows. The setting is read in a scalar subquery, which
 * PostgreSQL evaluates once per statement (an InitPlan) rather than once per row.
 */
export const TENANT_PREDICATE = `tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

/** ENABLE + FORCE row-level security with the tenant policy. Every tenant table gets exactly this. */
export async function enableTenantRls(knex: Knex, table: string): Promise<void> {
  await knex.raw(`alter table ?? enable row level security`, [table]);
  await knex.raw(`alter table ?? force row level security`, [table]);
  await knex.raw(
    `create policy tenant_isolation on ?? using (${TENANT_PREDICATE}) with check (${TENANT_PREDICATE})`,
    [table],
  );
}

/** ENABLE + FORCE row-level security for a registry table: readable and writable by withSystem only. */
export async function enableSystemRls(knex: Knex, table: string): Promise<void> {
  const system = `current_setting('app.system', true) = 'on'`;
  await knex.raw(`alter table ?? enable row level security`, [table]);
  await knex.raw(`alter table ?? force row level security`, [table]);
  await knex.raw(`create policy system_access on ?? using (${system}) with check (${system})`, [table]);
}
