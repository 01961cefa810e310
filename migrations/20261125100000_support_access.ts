import type { Knex } from 'knex';
import { tenantTables } from '../src/db/catalog';
import { enableTenantRls } from '../src/db/rls';
import {
  applySupportAccess,
  disableSupportRead,
  ensureSupportRole,
  SUPPORT_ROLE,
} from '../src/db/support-access';

/**
 * Trust operations: support access under consent (a support role and its RLS policies on every tenant table),
 * and the bookkeeping of Atlassian's personal data reporting.
 */
export async function up(knex: Knex): Promise<void> {
  await ensureSupportRole(knex);

  await knex.raw(`
    -- Accounts whose personal data Tally stores, per tenant, for Atlassian's personal data reporting API.
    create table personal_data_accounts (
      tenant_id uuid not null,
      account_id text not null,
      -- When Tally last retrieved this account's personal data (sent as updatedAt).
      updated_at timestamptz not null,
      reported_at timestamptz,
      -- Atlassian answered "updated": the stored display name should be fetched again.
      needs_refresh boolean not null default false,
      primary key (tenant_id, account_id)
    );

    -- One row: the reporting cycle Atlassian asks for (Cycle-Period) and when the next report may run.
    create table personal_data_reporting (
      id boolean primary key default true check (id),
      cycle_seconds integer not null default 604800,
      next_run_at timestamptz,
      last_run_at timestamptz,
      last_result jsonb not null default '{}'
    );
    insert into personal_data_reporting default values;
    alter table personal_data_reporting enable row level security;
    alter table personal_data_reporting force row level security;
    create policy system_access on personal_data_reporting
      using (current_setting('app.system', true) = 'on') with check (current_setting('app.system', true) = 'on');

    -- Runs as the owner, so the support role can ask "has this tenant consented?" without reading consents itself.
    create function support_has_consent(tenant uuid) returns boolean
      language sql stable security definer set search_path = public, pg_temp
      as $$
        select exists (
          select 1 from support_consents c
           where c.tenant_id = tenant and c.revoked_at is null and c.expires_at > now())
      $$;

    -- Registry data only (no tenant data) for the support CLI's tenant list.
    create function support_tenants()
      returns table (tenant_id uuid, client_key text, workspace_slug text, workspace_name text, state text,
                     delete_after timestamptz, consent_expires_at timestamptz)
      language sql stable security definer set search_path = public, pg_temp set app.system = 'on'
      as $$
        select t.id, t.client_key, t.workspace_slug, t.workspace_name, t.state, t.delete_after,
               (select max(c.expires_at) from support_consents c
                 where c.tenant_id = t.id and c.revoked_at is null and c.expires_at > now())
          from tenants t
         order by t.installed_at, t.client_key
      $$;

    -- The audit entry of a support read, written into the tenant's own audit log (its admin sees it).
    create function support_log(tenant uuid, who text, what text, details jsonb) returns void
      language plpgsql volatile security definer set search_path = public, pg_temp
      as $$
      declare
        previous text := current_setting('app.tenant_id', true);
      begin
        if who !~ '^[A-Za-z0-9._@-]{1,64}$' then raise exception 'support_log: invalid name'; end if;
        if what not in ('support.read', 'support.refused') then raise exception 'support_log: invalid action'; end if;
        perform set_config('app.tenant_id', tenant::text, true);
        insert into audit_log (tenant_id, actor, action, details)
        values (tenant, 'support:' || who, what,
                coalesce(details, '{}'::jsonb) || jsonb_build_object('login', session_user::text));
        perform set_config('app.tenant_id', coalesce(previous, ''), true);
      end
      $$;

    revoke all on function support_has_consent(uuid), support_tenants(), support_log(uuid, text, text, jsonb)
      from public;
    grant execute on function support_has_consent(uuid), support_tenants(), support_log(uuid, text, text, jsonb)
      to ${SUPPORT_ROLE};
    grant usage on schema public to ${SUPPORT_ROLE};
  `);
  await enableTenantRls(knex, 'personal_data_accounts');

  // support_consents is itself RLS-protected (forced, so its owner is filtered too): the owner, which runs the
  // security-definer functions above, may read it. Scoped to the owner alone; no application policy changes.
  const { rows } = await knex.raw<{ rows: { owner: string }[] }>('select current_user as owner');
  await knex.raw('create policy support_consent_check on support_consents for select to ?? using (true)', [
    rows[0]!.owner,
  ]);

  // Tables of later migrations are covered by migrate(), which runs this again after every migration.
  await applySupportAccess(knex);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of await tenantTables(knex)) await disableSupportRead(knex, table);
  await knex.raw(`
    drop policy if exists support_consent_check on support_consents;
    drop function if exists support_log(uuid, text, text, jsonb);
    drop function if exists support_tenants();
    drop function if exists support_has_consent(uuid);
    drop table if exists personal_data_reporting;
    drop table if exists personal_data_accounts;
    revoke all on schema public from ${SUPPORT_ROLE};
  `);
  // The role itself is cluster-wide and may serve other databases: it stays (it owns nothing and can log in nowhere).
}
