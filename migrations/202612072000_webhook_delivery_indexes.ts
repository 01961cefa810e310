import type { Knex } from 'knex';

/**
 * Indexes for bounded webhook intake (docs/architecture.md, "Webhooks"), built concurrently so that intake keeps
 * writing while they build on a large table (hence no transaction around this migration):
 * - webhook_deliveries_received: the daily prune of processed deliveries finds a tenant's old rows by age.
 * - webhook_deliveries_pending_pushes: a push sync gathers every waiting push delivery of one repository. Partial,
 *   so it holds only deliveries not yet processed and stays small however long deliveries are kept.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create index concurrently if not exists webhook_deliveries_received
      on webhook_deliveries (tenant_id, received_at)
  `);
  await knex.raw(`
    create index concurrently if not exists webhook_deliveries_pending_pushes
      on webhook_deliveries (tenant_id, (payload->'repository'->>'uuid'), received_at)
      where processed_at is null and event = 'repo:push'
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index concurrently if exists webhook_deliveries_pending_pushes');
  await knex.raw('drop index concurrently if exists webhook_deliveries_received');
}
