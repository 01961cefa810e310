import type { Knex } from 'knex';

/**
 * Two ways in, one registry (docs/forge.md): a tenant is a Connect installation (`client_key` = Bitbucket's
 * clientKey, with a shared secret) or a Forge installation (`client_key` = Forge's installation id,
 * `ari:cloud:ecosystem::installation/<uuid>`, and no secret: Forge signs with its own keys). The two key spaces
 * cannot meet: a Connect clientKey in the Forge form is refused by the constraint as well as at the edge.
 * RLS is unchanged: `tenants` stays a registry table, opened only by withSystem.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table tenants add column platform text not null default 'connect';
    alter table tenants add constraint tenants_platform_check check (platform in ('connect', 'forge'));
    alter table tenants alter column shared_secret_enc drop not null;
    alter table tenants add constraint tenants_platform_key_check check (
      (platform = 'forge') = (client_key like 'ari:cloud:ecosystem::installation/%')
    );
    alter table tenants add constraint tenants_platform_secret_check check (
      (platform = 'connect') = (shared_secret_enc is not null)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    delete from tenants where platform = 'forge';
    alter table tenants drop constraint tenants_platform_secret_check;
    alter table tenants drop constraint tenants_platform_key_check;
    alter table tenants alter column shared_secret_enc set not null;
    alter table tenants drop constraint tenants_platform_check;
    alter table tenants drop column platform;
  `);
}
