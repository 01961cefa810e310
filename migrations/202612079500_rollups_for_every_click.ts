import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';
import { forEachTenant } from '../src/db/tenant-migrations';

/**
 * Commit rollups for the paths people click that were slow (docs/analytics.md, "Why these grains" and "Time
 * zones"), kept with the others by src/analytics/rollups.ts:
 * - repository_contributor_rollups_daily/_monthly/_yearly/_total: per (repository, contributor) per UTC day, month,
 *   year and over all time, so that one repository's contributors (the UI's default "all time" view) read a row per
 *   contributor instead of every hour of the repository's history;
 * - workspace_rollups_hourly_15/_30: the whole workspace per hour starting at :15 / :30 UTC, the local hours of zones
 *   at a whole number of hours plus 45 / 30 minutes (Nepal; India, Newfoundland, South Australia), which read
 *   commit facts before.
 * Existing tenants' rows are built here, per tenant (the owner is NOBYPASSRLS: forEachTenant sets app.tenant_id),
 * from rollups_hourly and commit_facts, under the tenant's exclusive upkeep lock.
 */

const SUMS = `commits integer not null, lines_added bigint not null, lines_removed bigint not null,
  lines_added_all bigint not null, lines_removed_all bigint not null`;
const SUM_COLUMNS =
  'sum(commits), sum(lines_added), sum(lines_removed), sum(lines_added_all), sum(lines_removed_all)';
const REPOSITORY_CONTRIBUTOR: [string, string | null][] = [
  ['repository_contributor_rollups_daily', 'day'],
  ['repository_contributor_rollups_monthly', 'month'],
  ['repository_contributor_rollups_yearly', 'year'],
  ['repository_contributor_rollups_total', null],
];
const SHIFTED: [string, number][] = [
  ['workspace_rollups_hourly_15', 15],
  ['workspace_rollups_hourly_30', 30],
];
const TENANT = `current_setting('app.tenant_id')::uuid`;

export async function up(knex: Knex): Promise<void> {
  for (const [table] of REPOSITORY_CONTRIBUTOR) {
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null,
        bucket timestamptz not null,
        repository_id bigint not null,
        contributor_id bigint not null,
        is_merge boolean not null,
        is_bot boolean not null,
        ${SUMS},
        first_at timestamptz not null,
        last_at timestamptz not null,
        primary key (tenant_id, bucket, repository_id, contributor_id, is_merge, is_bot),
        foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade,
        foreign key (tenant_id, contributor_id) references contributors (tenant_id, id)
      ) with (fillfactor = 90)`,
      [table],
    );
    await knex.raw(`create index ?? on ?? (tenant_id, repository_id, bucket)`, [
      `${table}_by_repository`,
      table,
    ]);
    await knex.raw(`create index ?? on ?? (tenant_id, contributor_id, bucket)`, [
      `${table}_by_contributor`,
      table,
    ]);
  }
  for (const [table] of SHIFTED) {
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null,
        bucket timestamptz not null,
        is_merge boolean not null,
        is_bot boolean not null,
        ${SUMS},
        primary key (tenant_id, bucket, is_merge, is_bot)
      ) with (fillfactor = 90)`,
      [table],
    );
  }
  const tables = [...REPOSITORY_CONTRIBUTOR, ...SHIFTED].map(([table]) => table);
  for (const table of tables) await enableTenantRls(knex, table);

  await forEachTenant(knex, async () => {
    await knex.raw(
      `select pg_advisory_xact_lock(hashtextextended('rollups:' || current_setting('app.tenant_id'), 0))`,
    );
    for (const [table, grain] of REPOSITORY_CONTRIBUTOR) {
      const bucket = grain === null ? `'-infinity'::timestamptz` : `date_trunc('${grain}', bucket, 'UTC')`;
      await knex.raw(
        `insert into ?? select tenant_id, ${bucket}, repository_id, contributor_id, is_merge, is_bot, ${SUM_COLUMNS},
                min(first_at), max(last_at)
           from rollups_hourly where tenant_id = ${TENANT} group by 1, 2, 3, 4, 5, 6`,
        [table],
      );
    }
    for (const [table, minute] of SHIFTED) {
      await knex.raw(
        `insert into ?? select tenant_id,
                date_trunc('hour', authored_at - interval '${minute} minutes', 'UTC') + interval '${minute} minutes',
                is_merge, is_bot, count(*), sum(lines_added), sum(lines_removed), sum(lines_added_all),
                sum(lines_removed_all)
           from commit_facts where tenant_id = ${TENANT} group by 1, 2, 3, 4`,
        [table],
      );
    }
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const [table] of [...REPOSITORY_CONTRIBUTOR, ...SHIFTED])
    await knex.raw('drop table if exists ?? cascade', [table]);
}
