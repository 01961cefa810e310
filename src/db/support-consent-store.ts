import { recordAudit } from './audit-log';
import type { Trx } from './database';

/** A tenant admin's consent to support access (support_consents), as the configure page shows it. */
export interface SupportConsent {
  id: number;
  grantedBy: string;
  reason: string;
  grantedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

interface ConsentRow {
  id: number;
  granted_by: string;
  reason: string;
  granted_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const toConsent = (row: ConsentRow): SupportConsent => ({
  id: row.id,
  grantedBy: row.granted_by,
  reason: row.reason,
  grantedAt: row.granted_at,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
});

export const MAX_CONSENT_DAYS = 30;

/** All functions run inside withTenant: the tenant's own consents only. */
export async function activeConsent(trx: Trx, now: Date): Promise<SupportConsent | null> {
  const row = await trx<ConsentRow>('support_consents')
    .whereNull('revoked_at')
    .andWhere('expires_at', '>', now)
    .orderBy('expires_at', 'desc')
    .first();
  return row ? toConsent(row) : null;
}

/** Grants consent for `days` days; a consent still running is replaced (revoked) so exactly one is active. */
export async function grantConsent(
  trx: Trx,
  tenantId: string,
  input: { days: number; reason: string; grantedBy: string; now: Date },
): Promise<SupportConsent> {
  await revokeRunning(trx, input.now);
  const expiresAt = new Date(input.now.getTime() + input.days * 86_400_000);
  const [row] = await trx<ConsentRow>('support_consents')
    .insert({
      tenant_id: tenantId,
      granted_by: input.grantedBy,
      reason: input.reason,
      granted_at: input.now,
      expires_at: expiresAt,
    } as never)
    .returning('*');
  await recordAudit(trx, tenantId, {
    at: input.now,
    actor: input.grantedBy,
    action: 'support.consent_granted',
    details: { days: input.days, reason: input.reason, expires_at: expiresAt.toISOString() },
  });
  return toConsent(row!);
}

/** Revokes the running consent, if any; true when one was revoked. */
export async function revokeConsent(
  trx: Trx,
  tenantId: string,
  input: { revokedBy: string; now: Date },
): Promise<boolean> {
  const revoked = await revokeRunning(trx, input.now);
  if (revoked > 0) {
    await recordAudit(trx, tenantId, {
      at: input.now,
      actor: input.revokedBy,
      action: 'support.consent_revoked',
    });
  }
  return revoked > 0;
}

async function revokeRunning(trx: Trx, now: Date): Promise<number> {
  return trx('support_consents')
    .whereNull('revoked_at')
    .andWhere('expires_at', '>', now)
    .update({ revoked_at: now });
}
