import type { Knex } from 'knex';

/**
 * Drill-down to the commits (GET /api/v1/commits): the workspace's Jira site, so issue keys in commit messages
 * become links (https only; null: no links).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table tenant_settings
      add column jira_site_url text check (jira_site_url ~ '^https://[^/?#\\s]+$');
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table tenant_settings drop column jira_site_url');
}
