import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';
import { forEachTenant, refillPunchCard } from '../src/db/tenant-migrations';

/**
 * Punch cards filtered by repository (docs/analytics.md, "Why these grains"): per repository, UTC month and year,
 * per UTC hour of the week (repository_punchcard_rollups_monthly/_yearly), kept by src/analytics/rollups.ts like the
 * workspace's. A repository's punch card read every (repository × contributor) hour of its history before (0.37 s
 * for a 1,000,000-commit repository). Existing tenants' rows are built by the refill the workspace punch cards use
 * (from rollups_hourly), per tenant, under the tenant's exclusive upkeep lock.
 */

const TABLES = [
  ['repository_punchcard_rollups_monthly', 'month'],
  ['repository_punchcard_rollups_yearly', 'year'],
] as const;

export async function up(knex: Knex): Promise<void> {
  for (const [table] of TABLES) {
    // Repository first in the key: a punch card reads one or a few repositories over a range of buckets.
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null,
        bucket timestamptz not null,
        repository_id bigint not null,
        hour_of_week smallint not null,
        is_merge boolean not null,
        is_bot boolean not null,
        commits integer not null, lines_added bigint not null, lines_removed bigint not null,
        lines_added_all bigint not null, lines_removed_all bigint not null,
        primary key (tenant_id, repository_id, bucket, hour_of_week, is_merge, is_bot),
        foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade
      ) with (fillfactor = 90)`,
      [table],
    );
    await enableTenantRls(knex, table);
  }
  await forEachTenant(knex, async () => {
    await knex.raw(
      `select pg_advisory_xact_lock(hashtextextended('rollups:' || current_setting('app.tenant_id'), 0))`,
    );
    for (const [table, grain] of TABLES) await refillPunchCard(knex, table, grain, true);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const [table] of TABLES) await knex.raw('drop table if exists ?? cascade', [table]);
}
