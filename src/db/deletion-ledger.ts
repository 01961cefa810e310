import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Trx } from './database';

/**
 * The deletion ledger (table deletion_ledger): one entry per erasure of a person and per deletion of a tenant's
 * data, kept so that a restore re-applies every deletion made after its backup was taken (ledger-replay.ts).
 * It stores hashes only: SHA-256 of the tenant id, and of the tenant id with each of the person's account ids,
 * emails and uuids, so an entry names no one and the same email hashes differently in each tenant.
 */

export type LedgerAction = 'person.erased' | 'tenant.purged' | 'tenant.data_deleted';

export interface LedgerEntry {
  id: string;
  at: Date;
  action: LedgerAction;
  tenant_hash: string;
  identifier_hashes: string[];
}

const digest = (...parts: string[]) =>
  createHash('sha256')
    .update(['tally-deletion-ledger', ...parts].join('\u0000'))
    .digest('hex');

export const tenantHash = (tenantId: string) => digest(tenantId.toLowerCase());

/** One of a person's identifiers in one tenant; emails and uuids compare case-insensitively, uuids without braces. */
export const identifierHash = (tenantId: string, kind: 'account' | 'email' | 'uuid', value: string) =>
  digest(
    tenantId.toLowerCase(),
    kind,
    kind === 'account'
      ? value
      : kind === 'email'
        ? value.trim().toLowerCase()
        : value.replace(/^\{|\}$/g, '').toLowerCase(),
  );

/**
 * Records a deletion, in the transaction that makes it (app.system on). `id` is given when a restore re-applies
 * an entry of another copy of the ledger: the entry keeps its id and is recorded once.
 */
export async function recordDeletion(
  trx: Trx,
  entry: { id?: string; at: Date; action: LedgerAction; tenantId: string; identifierHashes?: string[] },
): Promise<void> {
  await trx('deletion_ledger')
    .insert({
      ...(entry.id ? { id: entry.id } : {}),
      at: entry.at,
      action: entry.action,
      tenant_hash: tenantHash(entry.tenantId),
      identifier_hashes: [...new Set(entry.identifierHashes ?? [])].sort(),
    })
    .onConflict('id')
    .ignore();
}

/** Copies an entry of another copy of the ledger as it is (ledger-replay.ts). */
export async function copyLedgerEntry(trx: Trx, entry: LedgerEntry): Promise<void> {
  await trx('deletion_ledger').insert(entry).onConflict('id').ignore();
}

/** Every entry of the ledger of the database at `url`, oldest first (read before a restore replaces it). */
export async function readLedger(url: string): Promise<LedgerEntry[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('app.system', 'on', true)`);
    const { rows } = await client.query<LedgerEntry>(
      `select id, at, action, tenant_hash, identifier_hashes from deletion_ledger order by at, id`,
    );
    await client.query('commit');
    return rows;
  } finally {
    await client.end();
  }
}
