import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';
import { enableSupportRead } from '../src/db/support-access';

/**
 * The per-tenant Bitbucket request budget, shared by every worker process (src/db/request-budget-store.ts).
 * RLS: the standard tenant policy (a tenant's workers see and spend only its own budget) plus support read
 * under consent, like every tenant table.
 */
const TABLES = ['api_request_budgets', 'api_request_grants'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- One row per tenant: the lock that serialises grants across processes, and the high-priority claim.
    create table api_request_budgets (
      tenant_id uuid not null primary key,
      -- A high-priority caller found the window full: low-priority work stands aside until then.
      high_claim_until timestamptz,
      updated_at timestamptz not null default now()
    );

    -- Requests granted, in chunks; rows older than the window no longer count and are deleted.
    create table api_request_grants (
      tenant_id uuid not null,
      id bigint generated always as identity,
      granted_at timestamptz not null,
      requests integer not null,
      priority text not null,
      primary key (tenant_id, id)
    );
    create index api_request_grants_window on api_request_grants (tenant_id, granted_at);
  `);
  for (const table of TABLES) {
    await enableTenantRls(knex, table);
    await enableSupportRead(knex, table);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists api_request_grants, api_request_budgets');
}
