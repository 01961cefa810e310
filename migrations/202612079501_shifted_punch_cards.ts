import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';
import { forEachTenant } from '../src/db/tenant-migrations';

/**
 * Punch cards in zones whose offset is a whole number of hours plus 30 or 45 minutes (docs/analytics.md, "Time
 * zones"): the whole workspace per hour of the week of the hours starting at :15 / :30 UTC, per month and year
 * starting at that minute past midnight UTC (workspace_punchcard_rollups_monthly_15/_30, _yearly_15/_30), kept by
 * src/analytics/rollups.ts like the UTC ones. Existing tenants' rows are built here from commit_facts, per tenant
 * (the owner is NOBYPASSRLS: forEachTenant sets app.tenant_id), under the tenant's exclusive upkeep lock.
 */

const TABLES: [string, string, number][] = [
  ['workspace_punchcard_rollups_monthly_15', 'month', 15],
  ['workspace_punchcard_rollups_yearly_15', 'year', 15],
  ['workspace_punchcard_rollups_monthly_30', 'month', 30],
  ['workspace_punchcard_rollups_yearly_30', 'year', 30],
];
const TENANT = `current_setting('app.tenant_id')::uuid`;

export async function up(knex: Knex): Promise<void> {
  for (const [table] of TABLES) {
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null,
        bucket timestamptz not null,
        hour_of_week smallint not null,
        is_merge boolean not null,
        is_bot boolean not null,
        commits integer not null, lines_added bigint not null, lines_removed bigint not null,
        lines_added_all bigint not null, lines_removed_all bigint not null,
        primary key (tenant_id, bucket, hour_of_week, is_merge, is_bot)
      ) with (fillfactor = 90)`,
      [table],
    );
    await enableTenantRls(knex, table);
  }
  await forEachTenant(knex, async () => {
    await knex.raw(
      `select pg_advisory_xact_lock(hashtextextended('rollups:' || current_setting('app.tenant_id'), 0))`,
    );
    for (const [table, grain, minute] of TABLES) {
      const shifted = `(authored_at - interval '${minute} minutes')`;
      await knex.raw(
        `insert into ?? select tenant_id, date_trunc('${grain}', ${shifted}, 'UTC') + interval '${minute} minutes',
                (extract(dow from ${shifted} at time zone 'UTC') * 24 + extract(hour from ${shifted} at time zone 'UTC'))::smallint,
                is_merge, is_bot, count(*), sum(lines_added), sum(lines_removed), sum(lines_added_all),
                sum(lines_removed_all)
           from commit_facts where tenant_id = ${TENANT} group by 1, 2, 3, 4, 5`,
        [table],
      );
    }
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const [table] of TABLES) await knex.raw('drop table if exists ?? cascade', [table]);
}
