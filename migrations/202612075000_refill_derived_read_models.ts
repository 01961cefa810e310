import type { Knex } from 'knex';
import { refillDerivedReadModels } from '../src/db/tenant-migrations';

/**
 * Repairs databases where 20261125300100_analytics_more_rollups ran as a NOBYPASSRLS owner (compose's tally_owner):
 * reading tenant tables without app.tenant_id, it saw no rows, so existing tenants got no contributor totals, UTC
 * punch cards or reviewer names, and no rebuild_rollups job to build their pull-request facts. This fills what is
 * incomplete, per tenant; where that migration saw everything (a superuser owner), it finds nothing to do.
 */
export async function up(knex: Knex): Promise<void> {
  await refillDerivedReadModels(knex);
}

/** Nothing to undo: the rows it wrote are the ones the read models should have held all along. */
export async function down(): Promise<void> {}
