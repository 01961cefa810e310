import type { Knex } from 'knex';
import { fillProjectPullRequestRollups } from '../src/analytics/pull-request-facts';
import { enableTenantRls } from '../src/db/rls';
import { forEachTenant } from '../src/db/tenant-migrations';

/**
 * Pull-request statistics filtered by whole projects (`project=` alone; docs/analytics.md, "Pull-request
 * statistics") read per-project pull-request rollups, as commit statistics read the project rollups of 202612089100:
 * they read the per-repository pull-request rollups of every repository of the project before (a project of 100
 * repositories at 1,000,000 commits: 78–81 ms p95 over all time and 5 years).
 *
 * - pull_request_facts.project_id, pull_request_review_facts.project_id: the project of the fact's repository when it
 *   was written (0: none), like commit_facts.project_id; a repository's move changes every fact of it, and the
 *   repository's rebuild (queued with the move, commits and pull requests in one transaction) moves its pull requests
 *   between the project rollups. repositories.rollups_project_id says which project both are counted under.
 * - project_pull_request_rollups_daily, project_pull_request_duration_rollups_daily/_monthly/_yearly,
 *   project_pull_request_reviewer_rollups_daily/_monthly/_yearly: the per-repository ones (202612088001) keyed by
 *   project. Project 0 has no rows.
 *
 * Existing tenants are filled per tenant (the owner is NOBYPASSRLS: forEachTenant sets app.tenant_id) under the
 * tenant's exclusive upkeep lock: the facts' project from their repository's (the project a rebuild would give them;
 * a repository whose move is still pending is rebuilt anyway), then the rollups from the facts.
 */

const GRAINS = ['daily', 'monthly', 'yearly'];
const DAILY = 'project_pull_request_rollups_daily';
const REVIEWERS = GRAINS.map((g) => `project_pull_request_reviewer_rollups_${g}`);
const DURATIONS = GRAINS.map((g) => `project_pull_request_duration_rollups_${g}`);
const TABLES = [DAILY, ...REVIEWERS, ...DURATIONS];
const FACTS = ['pull_request_facts', 'pull_request_review_facts'];
const PROJECT = `project_id bigint not null`;

export async function up(knex: Knex): Promise<void> {
  for (const table of FACTS)
    await knex.raw(`alter table ?? add column project_id bigint not null default 0`, [table]);
  // Project first in every key: a statistic reads one or a few projects over a range of buckets.
  await knex.raw(
    `create table ?? (
      tenant_id uuid not null, ${PROJECT}, bucket timestamptz not null, is_bot boolean not null,
      created integer not null, merged integer not null, declined integer not null,
      primary key (tenant_id, project_id, bucket, is_bot)
    ) with (fillfactor = 90)`,
    [DAILY],
  );
  for (const table of REVIEWERS)
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null, ${PROJECT}, bucket timestamptz not null, user_uuid text not null,
        reviews integer not null, approvals integer not null, changes_requested integer not null,
        primary key (tenant_id, project_id, bucket, user_uuid)
      ) with (fillfactor = 90)`,
      [table],
    );
  // metric and bin as in pull_request_duration_rollups_* (pull-request-facts.ts).
  for (const table of DURATIONS)
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null, ${PROJECT}, bucket timestamptz not null, is_bot boolean not null,
        metric smallint not null, bin smallint not null, merged integer not null,
        primary key (tenant_id, project_id, bucket, is_bot, metric, bin)
      ) with (fillfactor = 90)`,
      [table],
    );
  for (const table of TABLES) await enableTenantRls(knex, table);
  await forEachTenant(knex, async () => {
    await knex.raw(
      `select pg_advisory_xact_lock(hashtextextended('rollups:' || current_setting('app.tenant_id'), 0))`,
    );
    for (const table of FACTS)
      await knex.raw(
        `update ?? f set project_id = r.project_id from repositories r
          where f.tenant_id = current_setting('app.tenant_id')::uuid and r.tenant_id = f.tenant_id
            and r.id = f.repository_id and f.project_id <> r.project_id`,
        [table],
      );
    await fillProjectPullRequestRollups(knex);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) await knex.raw('drop table if exists ?? cascade', [table]);
  for (const table of FACTS) await knex.raw('alter table ?? drop column if exists project_id', [table]);
}
