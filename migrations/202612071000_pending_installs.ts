import type { Knex } from 'knex';

/**
 * A first install is `pending` until Bitbucket has answered one request signed with its new credentials
 * (src/ingest/install-verification.ts). Pending rows carry `delete_after` = install + 1 hour, so the purge that
 * removes tenants 60 days after uninstall removes unverified ones too.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table tenants drop constraint tenants_state_check;
    alter table tenants add constraint tenants_state_check check (state in ('pending', 'installed', 'uninstalled'));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    delete from tenants where state = 'pending';
    alter table tenants drop constraint tenants_state_check;
    alter table tenants add constraint tenants_state_check check (state in ('installed', 'uninstalled'));
  `);
}
