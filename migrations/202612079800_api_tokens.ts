import type { Knex } from 'knex';
import { enableSystemRls, enableTenantRls } from '../src/db/rls';

/**
 * API tokens for scripts and BI tools (src/db/api-token-store.ts). The tenant's own rows (`api_tokens`) stay under
 * the tenant policy; a request with a token must find its tenant before it has one, so the token's SHA-256 lives in
 * a registry table (`api_token_keys`, system access only) that names the tenant and the token. A key row exists
 * exactly while its token is live: created and revoked in one transaction with the tenant's row, and deleted with
 * it by the foreign key when a purge or "delete all data" removes the tenant's rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table api_tokens (
      tenant_id uuid not null,
      id bigint generated always as identity,
      name text not null,
      created_by text not null,
      created_at timestamptz not null,
      last_used_at timestamptz,
      revoked_at timestamptz,
      -- The current minute of use: its start, its requests (the rate limit counts them) and its audit entry.
      used_minute timestamptz,
      used_in_minute integer not null default 0,
      used_audit_id bigint,
      primary key (tenant_id, id)
    )`);
  await enableTenantRls(knex, 'api_tokens');
  await knex.raw(`
    create table api_token_keys (
      token_hash bytea primary key check (length(token_hash) = 32),
      -- Not "tenant_id": registry data, readable by the system only (like system_audit_log).
      owner_tenant_id uuid not null,
      token_id bigint not null,
      unique (owner_tenant_id, token_id),
      foreign key (owner_tenant_id, token_id) references api_tokens (tenant_id, id) on delete cascade
    );
  `);
  await enableSystemRls(knex, 'api_token_keys');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists api_token_keys, api_tokens');
}
