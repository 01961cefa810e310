import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';
import { refillDerivedReadModels } from '../src/db/tenant-migrations';

/**
 * More analytics read models (docs/analytics.md).
 *
 * Commit rollups for the slowest whole-workspace answers, kept with the others by src/analytics/rollups.ts and
 * filled here from the existing rollups (refillDerivedReadModels, src/db/tenant-migrations.ts):
 * - contributor_rollups_total: per contributor over all time (bucket `-infinity`), for contributor totals whose
 *   range holds every commit;
 * - workspace_punchcard_rollups_monthly/_yearly: per UTC hour of the week, for UTC punch cards.
 *
 * Pull-request read models, kept by recordPullRequestChanges like commit facts and rollups:
 * - pull_request_facts: what each pull request contributes (created, merged, declined, first reviewed; bot flag);
 * - pull_request_review_facts: one row per review (a non-author reviewer's participation) with its time;
 * - pull_request_rollups_daily: created / merged / declined per UTC day, workspace-wide;
 * - pull_request_duration_rollups_daily/_monthly/_yearly: merged pull requests per UTC bucket by duration bin
 *   (time to merge, to first review, review to merge in log-spaced bins; time to merge in the API's histogram bins);
 * - pull_request_reviewer_rollups_daily/_monthly/_yearly: reviews per reviewer per UTC bucket, workspace-wide;
 * - pull_request_reviewers: each reviewer's account and current display name, by user uuid, kept by a trigger on
 *   pull_request_participants: whatever writes participants (sync, display-name refresh, erasure) updates it.
 *
 * Commit facts and rollups get free space on their pages (fillfactor 90): upkeep mostly updates sums and lines, and
 * with room on the page such an update is HOT (no new index entries), which makes settings rebuilds and live
 * upkeep cheaper. It applies to pages written from now on.
 *
 * Pull-request facts of existing tenants are built by a rebuild_rollups job per installed tenant, enqueued here.
 * Reviewer names of existing participants are copied here too.
 */

const COMMIT_READ_MODELS = [
  'commit_facts',
  'rollups_hourly',
  'contributor_rollups_daily',
  'contributor_rollups_monthly',
  'contributor_rollups_yearly',
  'repository_rollups_daily',
  'repository_rollups_monthly',
  'repository_rollups_yearly',
  'workspace_rollups_hourly',
  'workspace_rollups_daily',
];

const GRAINS = ['daily', 'monthly', 'yearly'];
const REVIEWER_ROLLUPS = GRAINS.map((g) => `pull_request_reviewer_rollups_${g}`);
const DURATION_ROLLUPS = GRAINS.map((g) => `pull_request_duration_rollups_${g}`);
const PUNCH_CARD_ROLLUPS = ['workspace_punchcard_rollups_monthly', 'workspace_punchcard_rollups_yearly'];
const SUMS = `commits integer not null, lines_added bigint not null, lines_removed bigint not null,
  lines_added_all bigint not null, lines_removed_all bigint not null`;
const NEW_TABLES = [
  'contributor_rollups_total',
  ...PUNCH_CARD_ROLLUPS,
  'pull_request_facts',
  'pull_request_review_facts',
  'pull_request_rollups_daily',
  'pull_request_reviewers',
  ...REVIEWER_ROLLUPS,
  ...DURATION_ROLLUPS,
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table contributor_rollups_total (
      tenant_id uuid not null,
      bucket timestamptz not null,
      contributor_id bigint not null,
      is_merge boolean not null,
      is_bot boolean not null,
      ${SUMS},
      first_at timestamptz not null,
      last_at timestamptz not null,
      primary key (tenant_id, bucket, contributor_id, is_merge, is_bot),
      foreign key (tenant_id, contributor_id) references contributors (tenant_id, id)
    ) with (fillfactor = 90);
  `);
  for (const table of PUNCH_CARD_ROLLUPS) {
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null,
        bucket timestamptz not null,
        hour_of_week smallint not null,
        is_merge boolean not null,
        is_bot boolean not null,
        ${SUMS},
        primary key (tenant_id, bucket, hour_of_week, is_merge, is_bot)
      ) with (fillfactor = 90)`,
      [table],
    );
  }
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

    create table pull_request_reviewers (
      tenant_id uuid not null,
      user_uuid text not null,
      account_id text,
      display_name text,
      primary key (tenant_id, user_uuid)
    );
    -- The latest written participant row names the user. When a user uuid itself is rewritten (erasure), the old key
    -- goes, so that rewriting this table too never meets the new key already present.
    create function pull_request_reviewers_follow() returns trigger language plpgsql as $fn$
    begin
      if tg_op = 'UPDATE' and old.user_uuid is distinct from new.user_uuid then
        delete from pull_request_reviewers where tenant_id = old.tenant_id and user_uuid = old.user_uuid;
      end if;
      insert into pull_request_reviewers as r (tenant_id, user_uuid, account_id, display_name)
      values (new.tenant_id, new.user_uuid, new.account_id, new.display_name)
      on conflict (tenant_id, user_uuid) do update
        set account_id = excluded.account_id, display_name = excluded.display_name
        where (r.account_id, r.display_name) is distinct from (excluded.account_id, excluded.display_name);
      return null;
    end
    $fn$;
    create trigger pull_request_reviewers_follow
      after insert or update of user_uuid, account_id, display_name on pull_request_participants
      for each row execute function pull_request_reviewers_follow();
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
  for (const table of DURATION_ROLLUPS) {
    // metric: 0 time to merge, 1 to first review, 2 review to merge (log-spaced bins, pull-request-facts.ts);
    // 3 time to merge in the API's histogram bins.
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null,
        bucket timestamptz not null,
        is_bot boolean not null,
        metric smallint not null,
        bin smallint not null,
        merged integer not null,
        primary key (tenant_id, bucket, is_bot, metric, bin)
      )`,
      [table],
    );
  }
  for (const table of NEW_TABLES) await enableTenantRls(knex, table);
  for (const table of COMMIT_READ_MODELS) await knex.raw('alter table ?? set (fillfactor = 90)', [table]);
  // Existing tenants' rows, per tenant: the owner is NOBYPASSRLS (src/db/tenant-migrations.ts). Until it did this,
  // the migration filled nothing under such an owner; 202612075000_refill_derived_read_models repairs those databases.
  await refillDerivedReadModels(knex);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of COMMIT_READ_MODELS) await knex.raw('alter table ?? reset (fillfactor)', [table]);
  await knex.raw(`
    drop trigger if exists pull_request_reviewers_follow on pull_request_participants;
    drop function if exists pull_request_reviewers_follow();
  `);
  for (const table of [...NEW_TABLES].reverse()) await knex.raw('drop table if exists ?? cascade', [table]);
}
