import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';

/**
 * Pull-request read models (docs/analytics.md), kept by recordPullRequestChanges like commit facts and rollups:
 * - pull_request_facts: what each pull request contributes (created, merged, declined, first reviewed; bot flag);
 * - pull_request_review_facts: one row per review (a non-author reviewer's participation) with its time;
 * - pull_request_rollups_daily: created / merged / declined per UTC day, workspace-wide;
 * - pull_request_reviewer_rollups_daily/_monthly/_yearly: reviews per reviewer per UTC bucket, workspace-wide.
 * Reviewers are keyed by their Bitbucket user uuid; names are read from pull_request_participants (an index here
 * makes that a lookup), so a display-name refresh needs no upkeep.
 */

const REVIEWER_ROLLUPS = [
  'pull_request_reviewer_rollups_daily',
  'pull_request_reviewer_rollups_monthly',
  'pull_request_reviewer_rollups_yearly',
];
const NEW_TABLES = [
  'pull_request_facts',
  'pull_request_review_facts',
  'pull_request_rollups_daily',
  ...REVIEWER_ROLLUPS,
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- No foreign key to pull_requests: facts of a pull request that is gone must still be there to be subtracted.
    create table pull_request_facts (
      tenant_id uuid not null,
      repository_id bigint not null,
      pull_request_id integer not null,
      created_on timestamptz not null,
      merged_on timestamptz,
      declined_on timestamptz,
      first_review_on timestamptz,
      is_open boolean not null,
      is_bot boolean not null,
      primary key (tenant_id, repository_id, pull_request_id),
      foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade
    );
    create index pull_request_facts_by_created on pull_request_facts (tenant_id, created_on) include (is_bot);
    create index pull_request_facts_by_merged on pull_request_facts (tenant_id, merged_on)
      include (is_bot, created_on, first_review_on, repository_id) where merged_on is not null;
    create index pull_request_facts_by_declined on pull_request_facts (tenant_id, declined_on) include (is_bot)
      where declined_on is not null;
    create index pull_request_facts_open on pull_request_facts (tenant_id, created_on) include (is_bot, repository_id)
      where is_open;

    create table pull_request_review_facts (
      tenant_id uuid not null,
      repository_id bigint not null,
      pull_request_id integer not null,
      user_uuid text not null,
      reviewed_at timestamptz not null,
      approved boolean not null,
      changes_requested boolean not null,
      primary key (tenant_id, repository_id, pull_request_id, user_uuid),
      foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade
    );
    create index pull_request_review_facts_by_time on pull_request_review_facts (tenant_id, reviewed_at)
      include (user_uuid, approved, changes_requested);
    create index pull_request_review_facts_by_repository on pull_request_review_facts (tenant_id, repository_id, reviewed_at);

    create table pull_request_rollups_daily (
      tenant_id uuid not null,
      bucket timestamptz not null,
      is_bot boolean not null,
      created integer not null,
      merged integer not null,
      declined integer not null,
      primary key (tenant_id, bucket, is_bot)
    );

    -- Reviewer names for the statistics: one index probe per reviewer.
    create index pull_request_participants_by_user on pull_request_participants (tenant_id, user_uuid, display_name)
      include (account_id);
  `);
  for (const table of REVIEWER_ROLLUPS) {
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null,
        bucket timestamptz not null,
        user_uuid text not null,
        reviews integer not null,
        approvals integer not null,
        changes_requested integer not null,
        primary key (tenant_id, bucket, user_uuid)
      )`,
      [table],
    );
  }
  for (const table of NEW_TABLES) await enableTenantRls(knex, table);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists pull_request_participants_by_user');
  for (const table of [...NEW_TABLES].reverse()) await knex.raw('drop table if exists ?? cascade', [table]);
}
