import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';

/**
 * Analytics read models (docs/analytics.md):
 * - contributors gain an identity email (the key of an identity without a Bitbucket account) and a merge pointer;
 * - tenant settings gain switches for the default exclusions and bot patterns; repositories get their own exclusions;
 * - commit_facts: what each counted commit contributes (identity, merge/bot flags, lines with and without path
 *   exclusions), the ground truth the rollups are sums of and the exact fallback for odd time zones;
 * - rollups per UTC bucket: by (repository, contributor) per hour; by contributor and by repository per day,
 *   month and year; workspace-wide per hour and day.
 */

/** Rollup tables and their dimensions (src/analytics/rollups.ts keeps the same list). */
const ROLLUP_TABLES: { table: string; repository: boolean; contributor: boolean }[] = [
  { table: 'rollups_hourly', repository: true, contributor: true },
  { table: 'contributor_rollups_daily', repository: false, contributor: true },
  { table: 'contributor_rollups_monthly', repository: false, contributor: true },
  { table: 'contributor_rollups_yearly', repository: false, contributor: true },
  { table: 'repository_rollups_daily', repository: true, contributor: false },
  { table: 'repository_rollups_monthly', repository: true, contributor: false },
  { table: 'repository_rollups_yearly', repository: true, contributor: false },
  { table: 'workspace_rollups_hourly', repository: false, contributor: false },
  { table: 'workspace_rollups_daily', repository: false, contributor: false },
];
const NEW_TABLES = ['repository_settings', 'commit_facts', ...ROLLUP_TABLES.map((t) => t.table)];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table contributors
      add column identity_email text,
      add column merged_into bigint,
      add column merged_at timestamptz,
      add constraint contributors_identity_email_key unique (tenant_id, identity_email),
      add constraint contributors_merged_into_fkey foreign key (tenant_id, merged_into) references contributors (tenant_id, id);
    create index contributors_by_root on contributors (tenant_id, merged_into) where merged_into is not null;

    alter table tenant_settings
      add column use_default_exclusions boolean not null default true,
      add column use_default_bots boolean not null default true;

    create table repository_settings (
      tenant_id uuid not null,
      repository_id bigint not null,
      path_exclusions jsonb not null default '[]',
      updated_at timestamptz not null default now(),
      primary key (tenant_id, repository_id),
      foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade
    );

    -- No foreign key to commits: when ingest deletes commits and then reports the hashes, the old facts must
    -- still be there to be subtracted from the rollups.
    create table commit_facts (
      tenant_id uuid not null,
      repository_id bigint not null,
      hash text not null,
      contributor_id bigint not null,
      authored_at timestamptz not null,
      is_merge boolean not null,
      is_bot boolean not null,
      lines_added integer not null,
      lines_removed integer not null,
      lines_added_all integer not null,
      lines_removed_all integer not null,
      primary key (tenant_id, repository_id, hash),
      foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade,
      foreign key (tenant_id, contributor_id) references contributors (tenant_id, id)
    );
    create index commit_facts_by_date on commit_facts (tenant_id, authored_at);
    create index commit_facts_by_contributor on commit_facts (tenant_id, contributor_id, authored_at);
    create index commit_facts_by_repository_date on commit_facts (tenant_id, repository_id, authored_at);
  `);
  for (const { table, repository, contributor } of ROLLUP_TABLES) {
    const keys = [
      'bucket',
      ...(repository ? ['repository_id'] : []),
      ...(contributor ? ['contributor_id'] : []),
    ];
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null,
        bucket timestamptz not null,
        ${repository ? 'repository_id bigint not null,' : ''}
        ${contributor ? 'contributor_id bigint not null,' : ''}
        is_merge boolean not null,
        is_bot boolean not null,
        commits integer not null,
        lines_added bigint not null,
        lines_removed bigint not null,
        lines_added_all bigint not null,
        lines_removed_all bigint not null,
        ${contributor ? 'first_at timestamptz not null, last_at timestamptz not null,' : ''}
        primary key (tenant_id, ${keys.join(', ')}, is_merge, is_bot)
        ${repository ? ', foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade' : ''}
        ${contributor ? ', foreign key (tenant_id, contributor_id) references contributors (tenant_id, id)' : ''}
      )`,
      [table],
    );
    if (repository)
      await knex.raw(`create index ?? on ?? (tenant_id, repository_id, bucket)`, [
        `${table}_by_repository`,
        table,
      ]);
    if (contributor)
      await knex.raw(`create index ?? on ?? (tenant_id, contributor_id, bucket)`, [
        `${table}_by_contributor`,
        table,
      ]);
  }
  for (const table of NEW_TABLES) await enableTenantRls(knex, table);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [...NEW_TABLES].reverse()) await knex.raw('drop table if exists ?? cascade', [table]);
  await knex.raw(`
    alter table tenant_settings drop column if exists use_default_exclusions, drop column if exists use_default_bots;
    drop index if exists contributors_by_root;
    alter table contributors
      drop constraint if exists contributors_merged_into_fkey,
      drop constraint if exists contributors_identity_email_key,
      drop column if exists identity_email, drop column if exists merged_into, drop column if exists merged_at;
  `);
}
