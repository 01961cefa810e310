import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';

/**
 * Cron-style loops (retention purge, personal data reporting) go tenant by tenant; a tenant whose turn fails is
 * recorded here, and the loop goes on with the next one. The row stays until the task next succeeds for that tenant.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table maintenance_failures (
      tenant_id uuid not null,
      task text not null,
      -- The error's message, cut short (never a payload: errors here are HTTP statuses and SQL states).
      error text not null,
      first_failed_at timestamptz not null,
      last_failed_at timestamptz not null,
      failures integer not null default 1,
      primary key (tenant_id, task)
    )`);
  await enableTenantRls(knex, 'maintenance_failures');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists maintenance_failures');
}
