import type { Database } from './database';
import { copyLedgerEntry, identifierHash, tenantHash, type LedgerEntry } from './deletion-ledger';
import { erasePerson } from './personal-data-store';
import { deleteAllTenantData, purgeTenantAgain } from './tenant-purge';

/**
 * After a restore: every entry of the live ledger that the restored one lacks (a deletion made after the backup)
 * is applied again, oldest first, then recorded with its own id. The ledger holds hashes only, so the restored
 * tenants and people are hashed and compared. Running it twice changes nothing the second time.
 */
export async function replayLedger(db: Database, entries: LedgerEntry[], now: Date): Promise<LedgerEntry[]> {
  const { known, tenants } = await db.withSystem('restore: ledger and tenants', async (trx) => ({
    known: new Set<string>(await trx('deletion_ledger').pluck('id')),
    tenants: new Map<string, string>(
      ((await trx('tenants').pluck('id')) as string[]).map((id) => [tenantHash(id), id]),
    ),
  }));
  const missing = entries
    .filter((e) => !known.has(e.id))
    .sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
  for (const entry of missing) {
    const tenantId = tenants.get(entry.tenant_hash);
    if (tenantId) await replayEntry(db, tenantId, entry, now);
    await db.withSystem('restore: ledger entry re-applied', (trx) => copyLedgerEntry(trx, entry));
  }
  return missing;
}

async function replayEntry(db: Database, tenantId: string, entry: LedgerEntry, now: Date): Promise<void> {
  if (entry.action === 'tenant.purged') {
    await purgeTenantAgain(db, tenantId, now, entry.id);
    return;
  }
  if (entry.action === 'tenant.data_deleted') {
    await deleteAllTenantData(db, tenantId, 'system:restore', now, { ledgerId: entry.id });
    return;
  }
  // An erasure: the person's account ids and emails in the restored tenant, found by their hashes. Each pass
  // erases from one of them (erasure expands to everything linked); until none is left.
  const wanted = new Set(entry.identifier_hashes);
  for (let pass = 0; pass < 20; pass++) {
    const found = (await personalIdentifiers(db, tenantId)).filter(({ kind, value }) =>
      wanted.has(identifierHash(tenantId, kind, value)),
    );
    if (found.length === 0) return;
    const request = {
      accountId: found.find((f) => f.kind === 'account')?.value,
      email: found.find((f) => f.kind === 'email')?.value,
    };
    await erasePerson(db, tenantId, request, 'system:restore', now, { ledgerId: entry.id });
  }
  throw new Error(`ledger entry ${entry.id}: the person is still found after repeated erasure`);
}

/** Every account id and email the tenant stores, where erasure looks for a person. */
async function personalIdentifiers(db: Database, tenantId: string) {
  const { rows } = await db.withTenant(tenantId, (trx) =>
    trx.raw<{ rows: { kind: 'account' | 'email'; value: string }[] }>(
      `select 'account' as kind, author_account_id as value from commits where author_account_id is not null
       union select 'account', account_id from contributors where account_id is not null
       union select 'account', author_account_id from pull_requests where author_account_id is not null
       union select 'account', closed_by_account_id from pull_requests where closed_by_account_id is not null
       union select 'account', account_id from pull_request_participants where account_id is not null
       union select 'account', account_id from pull_request_reviewers where account_id is not null
       union select 'account', account_id from personal_data_accounts
       union select 'email', lower(author_email) from commits where author_email is not null
       union select 'email', lower(email) from contributor_emails
       union select 'email', lower(identity_email) from contributors where identity_email is not null`,
    ),
  );
  return rows;
}
