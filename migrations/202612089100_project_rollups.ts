import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';
import { forEachTenant } from '../src/db/tenant-migrations';

/**
 * Statistics filtered by project (`project=`) read per-project rollups (docs/analytics.md, "Why these grains"): a
 * project of 100 repositories read the per-repository or (repository × contributor) rollups of 100 repositories
 * before (259 ms p95 for its contributors over 5 years at 1,000,000 commits).
 *
 * - projects: a stable numeric id per tenant for each Bitbucket project uuid (lower-cased), so rollup keys stay
 *   small; rows are never deleted, so an id never changes meaning.
 * - repositories.project_id: the id of the repository's project, 0 for none (a personal workspace's repositories;
 *   rollup keys cannot hold null). A trigger keeps it with project_uuid, whoever writes it (listing, repo:updated).
 * - repositories.rollups_project_id: the project the repository's commit facts and rollups are counted under. It
 *   differs from project_id from a move until the repository's rebuild (queued with the move) has run; meanwhile a
 *   project filter touching that repository reads the per-repository rollups, as before, and stays exact.
 * - commit_facts.project_id: the project of the fact's repository when it was written; a move changes every fact of
 *   the repository, so the rebuild's difference moves its commits between the project rollups.
 * - project_rollups_daily/_monthly/_yearly, project_contributor_rollups_daily/_monthly/_yearly/_total,
 *   project_punchcard_rollups_monthly/_yearly: the repository ones again, keyed by project. Project 0 has no rows.
 *
 * Existing tenants are filled per tenant (the owner is NOBYPASSRLS: forEachTenant sets app.tenant_id) under the
 * tenant's exclusive upkeep lock: projects from the repositories, the facts' project, then each project rollup from
 * its per-repository counterpart (a project's sums are its repositories' sums; first and last times their min, max).
 */

const SUMS = `commits integer not null, lines_added bigint not null, lines_removed bigint not null,
  lines_added_all bigint not null, lines_removed_all bigint not null`;
const SUM_COLUMNS =
  'sum(x.commits), sum(x.lines_added), sum(x.lines_removed), sum(x.lines_added_all), sum(x.lines_removed_all)';
const TENANT = `current_setting('app.tenant_id')::uuid`;

/** [project table, its per-repository source] */
const PROJECT: [string, string][] = [
  ['project_rollups_daily', 'repository_rollups_daily'],
  ['project_rollups_monthly', 'repository_rollups_monthly'],
  ['project_rollups_yearly', 'repository_rollups_yearly'],
];
const PROJECT_CONTRIBUTOR: [string, string][] = [
  ['project_contributor_rollups_daily', 'repository_contributor_rollups_daily'],
  ['project_contributor_rollups_monthly', 'repository_contributor_rollups_monthly'],
  ['project_contributor_rollups_yearly', 'repository_contributor_rollups_yearly'],
  ['project_contributor_rollups_total', 'repository_contributor_rollups_total'],
];
const PROJECT_PUNCH_CARD: [string, string][] = [
  ['project_punchcard_rollups_monthly', 'repository_punchcard_rollups_monthly'],
  ['project_punchcard_rollups_yearly', 'repository_punchcard_rollups_yearly'],
];
const TABLES = [...PROJECT, ...PROJECT_CONTRIBUTOR, ...PROJECT_PUNCH_CARD].map(([t]) => t);

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table projects (
      tenant_id uuid not null,
      id bigint generated always as identity,
      uuid text not null,
      primary key (tenant_id, id),
      unique (tenant_id, uuid)
    );
    alter table repositories
      add column project_id bigint not null default 0,
      add column rollups_project_id bigint not null default 0;
    alter table commit_facts add column project_id bigint not null default 0;

    -- Security invoker: the writer's tenant (RLS) is the repository's.
    create function repositories_project_id() returns trigger language plpgsql as $fn$
    begin
      if tg_op = 'UPDATE' and new.project_uuid is not distinct from old.project_uuid then
        return new;
      end if;
      if new.project_uuid is null then
        new.project_id := 0;
      else
        insert into projects (tenant_id, uuid) values (new.tenant_id, lower(new.project_uuid))
          on conflict (tenant_id, uuid) do nothing;
        select p.id into new.project_id from projects p
         where p.tenant_id = new.tenant_id and p.uuid = lower(new.project_uuid);
      end if;
      -- A new repository has no facts yet: they will be counted under its project from the start.
      if tg_op = 'INSERT' then
        new.rollups_project_id := new.project_id;
      end if;
      return new;
    end
    $fn$;
    create trigger repositories_project_id before insert or update of project_uuid on repositories
      for each row execute function repositories_project_id();
  `);
  await enableTenantRls(knex, 'projects');
  // Project first in every key: a statistic reads one or a few projects over a range of buckets.
  for (const [table] of PROJECT)
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null, project_id bigint not null, bucket timestamptz not null,
        is_merge boolean not null, is_bot boolean not null, ${SUMS},
        primary key (tenant_id, project_id, bucket, is_merge, is_bot)
      ) with (fillfactor = 90)`,
      [table],
    );
  for (const [table] of PROJECT_CONTRIBUTOR) {
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null, project_id bigint not null, bucket timestamptz not null,
        contributor_id bigint not null, is_merge boolean not null, is_bot boolean not null, ${SUMS},
        first_at timestamptz not null, last_at timestamptz not null,
        primary key (tenant_id, project_id, bucket, contributor_id, is_merge, is_bot),
        foreign key (tenant_id, contributor_id) references contributors (tenant_id, id)
      ) with (fillfactor = 90)`,
      [table],
    );
  }
  // A contributor's calendar or activity in a project reads days: by contributor, not every day of the project.
  await knex.raw(
    `create index project_contributor_rollups_daily_by_contributor
       on project_contributor_rollups_daily (tenant_id, contributor_id, project_id, bucket)`,
  );
  for (const [table] of PROJECT_PUNCH_CARD)
    await knex.raw(
      `create table ?? (
        tenant_id uuid not null, project_id bigint not null, bucket timestamptz not null,
        hour_of_week smallint not null, is_merge boolean not null, is_bot boolean not null, ${SUMS},
        primary key (tenant_id, project_id, bucket, hour_of_week, is_merge, is_bot)
      ) with (fillfactor = 90)`,
      [table],
    );
  for (const table of TABLES) await enableTenantRls(knex, table);

  await forEachTenant(knex, async () => {
    await knex.raw(
      `select pg_advisory_xact_lock(hashtextextended('rollups:' || current_setting('app.tenant_id'), 0))`,
    );
    await knex.raw(
      `insert into projects (tenant_id, uuid)
       select distinct tenant_id, lower(project_uuid) from repositories
        where tenant_id = ${TENANT} and project_uuid is not null
       on conflict (tenant_id, uuid) do nothing`,
    );
    await knex.raw(
      `update repositories r set project_id = p.id from projects p
        where r.tenant_id = ${TENANT} and p.tenant_id = r.tenant_id and p.uuid = lower(r.project_uuid)`,
    );
    await knex.raw(`update repositories set rollups_project_id = project_id where tenant_id = ${TENANT}`);
    await knex.raw(
      `update commit_facts f set project_id = r.project_id from repositories r
        where f.tenant_id = ${TENANT} and r.tenant_id = f.tenant_id and r.id = f.repository_id
          and f.project_id <> r.project_id`,
    );
    const fill = async (table: string, source: string, keys: string[], extra = '') => {
      const columns = ['bucket', ...keys, 'is_merge', 'is_bot'].map((k) => `x.${k}`).join(', ');
      await knex.raw(
        `insert into ?? (tenant_id, project_id, ${columns.replaceAll('x.', '')}, commits, lines_added, lines_removed,
                         lines_added_all, lines_removed_all${extra ? ', first_at, last_at' : ''})
         select x.tenant_id, r.project_id, ${columns}, ${SUM_COLUMNS}${extra}
           from ?? x join repositories r on r.tenant_id = x.tenant_id and r.id = x.repository_id
          where x.tenant_id = ${TENANT} and r.project_id <> 0
          group by x.tenant_id, r.project_id, ${columns}`,
        [table, source],
      );
    };
    for (const [table, source] of PROJECT) await fill(table, source, []);
    for (const [table, source] of PROJECT_CONTRIBUTOR)
      await fill(table, source, ['contributor_id'], ', min(x.first_at), max(x.last_at)');
    for (const [table, source] of PROJECT_PUNCH_CARD) await fill(table, source, ['hour_of_week']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) await knex.raw('drop table if exists ?? cascade', [table]);
  await knex.raw(`
    drop trigger if exists repositories_project_id on repositories;
    drop function if exists repositories_project_id();
    alter table commit_facts drop column if exists project_id;
    alter table repositories drop column if exists project_id, drop column if exists rollups_project_id;
    drop table if exists projects cascade;
  `);
}
