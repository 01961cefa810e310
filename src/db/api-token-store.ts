import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { recordAudit } from './audit-log';
import type { Database, Trx } from './database';

/**
 * API tokens for scripts and BI tools: `tly_` + 32 random bytes in base64url (no dots, so never mistaken for a
 * JWT). Only the SHA-256 of a token is stored, in the registry table `api_token_keys` (system access), which names
 * the tenant and the token; the tenant's own row in `api_tokens` (under RLS) holds the name and the dates.
 */
export const API_TOKEN_PREFIX = 'tly_';
const TOKEN_FORMAT = /^tly_[A-Za-z0-9_-]{43}$/;

export interface ApiToken {
  id: number;
  name: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

interface TokenRow {
  id: number;
  name: string;
  created_by: string;
  created_at: Date;
  last_used_at: Date | null;
}

const toToken = (row: TokenRow): ApiToken => ({
  id: row.id,
  name: row.name,
  createdBy: row.created_by,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
});

const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** Opens the registry inside a tenant transaction, so a token's two rows change together (as the purge does). */
const openRegistry = (trx: Trx) => trx.raw(`select set_config('app.system', 'on', true)`);

/** Creates a token; the secret is returned here only. Runs inside withTenant. */
export async function createApiToken(
  trx: Trx,
  tenantId: string,
  input: { name: string; createdBy: string; now: Date },
): Promise<ApiToken & { token: string }> {
  const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const [row] = await trx<TokenRow>('api_tokens')
    .insert({
      tenant_id: tenantId,
      name: input.name,
      created_by: input.createdBy,
      created_at: input.now,
    } as never)
    .returning(['id', 'name', 'created_by', 'created_at', 'last_used_at']);
  await openRegistry(trx);
  await trx('api_token_keys').insert({
    token_hash: hashOf(token),
    owner_tenant_id: tenantId,
    token_id: row!.id,
  });
  await recordAudit(trx, tenantId, {
    at: input.now,
    actor: input.createdBy,
    action: 'api_token.created',
    details: { token_id: row!.id, name: input.name },
  });
  return { ...toToken(row!), token };
}

/** Live (unrevoked) tokens, newest first. Runs inside withTenant. */
export async function listApiTokens(trx: Trx): Promise<ApiToken[]> {
  const rows = await trx<TokenRow>('api_tokens')
    .select('id', 'name', 'created_by', 'created_at', 'last_used_at')
    .whereNull('revoked_at')
    .orderBy('id', 'desc');
  return rows.map(toToken);
}

/** Revokes a live token: its key is deleted, so the next request with it is a 401. False when there is none. */
export async function revokeApiToken(
  trx: Trx,
  tenantId: string,
  input: { id: number; revokedBy: string; now: Date },
): Promise<boolean> {
  const [row] = await trx<TokenRow>('api_tokens')
    .where({ id: input.id })
    .whereNull('revoked_at')
    .update({ revoked_at: input.now } as never)
    .returning(['id', 'name']);
  if (!row) return false;
  await openRegistry(trx);
  await trx('api_token_keys').where({ owner_tenant_id: tenantId, token_id: input.id }).del();
  await recordAudit(trx, tenantId, {
    at: input.now,
    actor: input.revokedBy,
    action: 'api_token.revoked',
    details: { token_id: row.id, name: row.name },
  });
  return true;
}

/** The live token a secret names: its tenant and id, or null. Reads the registry only. */
export async function findApiTokenKey(
  db: Database,
  token: string,
): Promise<{ tenantId: string; tokenId: number } | null> {
  if (!TOKEN_FORMAT.test(token)) return null;
  const hash = hashOf(token);
  const row = await db.withSystem('API token lookup', (trx) =>
    trx('api_token_keys')
      .select('token_hash', 'owner_tenant_id', 'token_id')
      .where({ token_hash: hash })
      .first(),
  );
  // The index found the row by the hash; the comparison is made again in constant time all the same.
  if (!row || !timingSafeEqual(row.token_hash as Buffer, hash)) return null;
  return { tenantId: row.owner_tenant_id, tokenId: row.token_id };
}

/**
 * Counts one request of a token (rate limit and audit): the token's requests in the current minute, and one audit
 * entry per token per minute of use whose `requests` says how many it made. Runs inside withTenant; null when the
 * token was revoked meanwhile.
 */
export async function recordApiTokenUse(
  trx: Trx,
  tenantId: string,
  input: { id: number; now: Date },
): Promise<{ requests: number; minute: Date } | null> {
  const { rows } = await trx.raw<{
    rows: { name: string; minute: Date; requests: number; audit_id: number | null }[];
  }>(
    `update api_tokens
        set last_used_at = :now,
            used_in_minute = case when used_minute = date_trunc('minute', :now::timestamptz) then used_in_minute + 1 else 1 end,
            used_audit_id = case when used_minute = date_trunc('minute', :now::timestamptz) then used_audit_id end,
            used_minute = date_trunc('minute', :now::timestamptz)
      where id = :id and revoked_at is null
      returning name, used_minute as minute, used_in_minute as requests, used_audit_id as audit_id`,
    { now: input.now, id: input.id },
  );
  const row = rows[0];
  if (!row) return null;
  if (row.audit_id === null) {
    const auditId = await recordAudit(trx, tenantId, {
      at: input.now,
      actor: `token:${input.id}`,
      action: 'api_token.used',
      details: { token_id: input.id, name: row.name, minute: row.minute.toISOString(), requests: 1 },
    });
    await trx('api_tokens').where({ id: input.id }).update({ used_audit_id: auditId });
  } else {
    await trx.raw(
      `update audit_log set details = jsonb_set(details, '{requests}', to_jsonb(?::int)) where id = ?`,
      [row.requests, row.audit_id],
    );
  }
  return { requests: row.requests, minute: row.minute };
}
