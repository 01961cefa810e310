import type { Knex } from 'knex';

/**
 * What the worker needs to call Bitbucket for a Forge tenant (docs/forge.md, "Bitbucket REST calls"): the newest
 * system token Forge sent (`x-forge-oauth-system`), sealed with the key ring like Connect's shared secrets (the
 * installation id bound in as associated data), and its expiry when the token says it. `forge_invoked_at` is when a
 * valid invocation last reached Tally and `forge_token_refused_at` when Bitbucket last refused the stored token
 * (401/403): together they drive the uninstall sweep, since Forge sends no uninstall event. Only Forge rows hold a
 * token. Registry columns: RLS unchanged (withSystem only).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table tenants
      add column forge_system_token_enc text,
      add column forge_system_token_expires_at timestamptz,
      add column forge_invoked_at timestamptz,
      add column forge_token_refused_at timestamptz;
    alter table tenants add constraint tenants_forge_token_check check (
      platform = 'forge' or (forge_system_token_enc is null and forge_invoked_at is null)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table tenants drop constraint tenants_forge_token_check;
    alter table tenants
      drop column forge_system_token_enc,
      drop column forge_system_token_expires_at,
      drop column forge_invoked_at,
      drop column forge_token_refused_at;
  `);
}
