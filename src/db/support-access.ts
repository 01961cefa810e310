import type { Knex } from 'knex';
import { tenantTables } from './catalog';

/**
 * Support access with consent, enforced by PostgreSQL (migration 20261125100000_support_access).
 *
 * `tally_support` is a NOLOGIN, NOBYPASSRLS role that owns nothing. Support staff log in as their own role that is
 * a member of it (`create role alice login password '…' in role tally_support`), or an operator uses the owner
 * connection; the support CLI runs every query after `set local role tally_support` either way, so the database
 * decides what is visible: a tenant's rows only while that tenant has an unexpired, unrevoked consent row.
 */
export const SUPPORT_ROLE = 'tally_support';

/** The consent predicate; `now()` is read per transaction, so expiry needs no restart. */
export const SUPPORT_CONSENT_PREDICATE = 'public.support_has_consent(tenant_id)';

/**
 * Roles are cluster-wide (not in a dump): migrations and restore both make sure this one exists. Creating it needs
 * CREATEROLE, which an owner like compose's lacks: there the database's initialisation creates it first.
 */
export const ENSURE_SUPPORT_ROLE_SQL = `
    do $$
    begin
      if not exists (select 1 from pg_roles where rolname = '${SUPPORT_ROLE}') then
        create role ${SUPPORT_ROLE} nologin nosuperuser nocreatedb nocreaterole nobypassrls;
      end if;
    exception when duplicate_object then null; -- another database of the cluster created it meanwhile
    end $$`;

export async function ensureSupportRole(knex: Knex | Knex.Transaction): Promise<void> {
  await knex.raw(ENSURE_SUPPORT_ROLE_SQL);
}

/**
 * Gives the support role SELECT on one tenant table, under consent only. Two policies, both scoped to the support
 * role so the application's policies stay exactly as they were:
 * - a permissive one that lets support read a consented tenant's rows;
 * - a restrictive one that ANDs the consent check onto every policy, so setting `app.tenant_id` in a support
 *   session (which the tenant policy, written for PUBLIC, would honour) still shows nothing without consent.
 * applySupportAccess() calls it for every tenant table that lacks it (the trust tests check the catalog).
 */
export async function enableSupportRead(knex: Knex | Knex.Transaction, table: string): Promise<void> {
  await knex.raw(`grant select on ?? to ${SUPPORT_ROLE}`, [table]);
  await knex.raw(
    `create policy support_read on ?? for select to ${SUPPORT_ROLE} using (${SUPPORT_CONSENT_PREDICATE})`,
    [table],
  );
  await knex.raw(
    `create policy support_requires_consent on ?? as restrictive for all to ${SUPPORT_ROLE}
       using (${SUPPORT_CONSENT_PREDICATE}) with check (false)`,
    [table],
  );
}

/**
 * Gives the support role its consent-bound read on every tenant table that does not have it yet. Idempotent; run by
 * migrate() after every migration (like the application role's grants), so tables added by later migrations are
 * covered without each of them remembering to.
 */
export async function applySupportAccess(knex: Knex | Knex.Transaction): Promise<string[]> {
  const { rows } = await knex.raw<{ rows: { table: string }[] }>(
    `select tablename as table from pg_policies where schemaname = 'public' and policyname = 'support_requires_consent'`,
  );
  const covered = new Set(rows.map((r) => r.table));
  const added: string[] = [];
  for (const table of await tenantTables(knex)) {
    if (covered.has(table)) continue;
    await enableSupportRead(knex, table);
    added.push(table);
  }
  return added;
}

export async function disableSupportRead(knex: Knex | Knex.Transaction, table: string): Promise<void> {
  await knex.raw('drop policy if exists support_read on ??', [table]);
  await knex.raw('drop policy if exists support_requires_consent on ??', [table]);
  await knex.raw(`revoke all on ?? from ${SUPPORT_ROLE}`, [table]);
}
