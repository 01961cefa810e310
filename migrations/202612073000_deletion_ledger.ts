import type { Knex } from 'knex';

/**
 * The deletion ledger: every erasure and tenant purge, so that a restore can re-apply those made after its backup
 * (src/db/deletion-ledger.ts). Registry data, readable by the system only. No `tenant_id` column on purpose: the
 * purge deletes from every table that has one, and the ledger must outlive the tenants it records. It holds
 * hashes only, never an identifier or a name.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table deletion_ledger (
      -- The same id in every copy of the ledger (the live one, backups, restores), so copies merge.
      id uuid primary key default gen_random_uuid(),
      at timestamptz not null default now(),
      action text not null check (action in ('person.erased', 'tenant.purged', 'tenant.data_deleted')),
      tenant_hash text not null,
      -- Hashes of the erased person's account ids, emails and uuids (empty for tenant-wide deletions).
      identifier_hashes text[] not null default '{}'
    );
    create index deletion_ledger_at on deletion_ledger (at);
    alter table deletion_ledger enable row level security;
    alter table deletion_ledger force row level security;
    create policy system_access on deletion_ledger
      using (current_setting('app.system', true) = 'on') with check (current_setting('app.system', true) = 'on');
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists deletion_ledger');
}
