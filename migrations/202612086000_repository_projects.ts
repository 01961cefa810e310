import type { Knex } from 'knex';

/**
 * Each repository's Bitbucket project (the repository object's `project`: uuid, key, name), read with the
 * repository itself, so no new endpoint or scope. Null until the next listing (every 6 hours) or repo:updated
 * fills it in; a repository of a personal workspace has none. The index serves `project=` filters.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table repositories
      add column project_uuid text,
      add column project_key text,
      add column project_name text;
    create index repositories_by_project on repositories (tenant_id, lower(project_uuid)) where project_uuid is not null;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists repositories_by_project;
    alter table repositories drop column project_uuid, drop column project_key, drop column project_name;
  `);
}
