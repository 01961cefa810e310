import type { Trx } from './database';

/** One entry of a tenant's audit log (who did what, when), as the tenant's admin sees it. */
export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

export async function recordAudit(
  trx: Trx,
  tenantId: string,
  entry: { at: Date; actor: string; action: string; details?: Record<string, unknown> },
): Promise<number> {
  const [row] = await trx('audit_log')
    .insert({
      tenant_id: tenantId,
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      details: entry.details ?? {},
    })
    .returning('id');
  return row.id;
}

/** Newest first; `before` pages on by id. Runs inside withTenant, so only the tenant's own entries exist. */
export async function listAudit(
  trx: Trx,
  options: { limit: number; before?: number },
): Promise<AuditEntry[]> {
  const query = trx('audit_log')
    .select('id', 'at', 'actor', 'action', 'details')
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.before !== undefined) query.where('id', '<', options.before);
  return query;
}
