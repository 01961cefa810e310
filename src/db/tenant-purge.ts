import type { Knex } from 'knex';
import type { Logger } from '../platform/logger';
import { tenantTables } from './catalog';
import type { Database, Trx } from './database';
import { tenantTurn } from './maintenance-failures';
import { recordDeletion } from './deletion-ledger';

/**
 * Deleting a tenant's data: the retention purge (60 days after uninstall) and an admin's "delete all data".
 *
 * Tables are found from the catalog (every table in public with a tenant_id), so a table added later is covered.
 * Queue jobs are found by their payload: every job about a tenant carries `{ tenantId, … }` (src/db/job-queue.ts).
 */

export interface PurgeSummary {
  tenantId: string;
  clientKey: string;
  rows: Record<string, number>;
  jobs: number;
}

/** Deletes every row of the tenant from every tenant table, children first. Runs inside withTenant. */
export async function deleteTenantRows(trx: Trx, tenantId: string): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const table of await tenantTables(trx)) {
    rows[table] = await trx(table).where({ tenant_id: tenantId }).del();
  }
  return rows;
}

/**
 * Deletes the tenant's waiting jobs and its idle per-tenant queues. A job that a worker holds right now is left to
 * finish (deleting it under the worker would leave its queue locked); a purged tenant has none by then.
 */
export async function deleteTenantJobs(db: Knex | Trx, tenantId: string): Promise<number> {
  const { rowCount } = await db.raw(
    `delete from graphile_worker._private_jobs where payload->>'tenantId' = ? and locked_at is null`,
    [tenantId],
  );
  await db.raw(
    `delete from graphile_worker._private_job_queues q
      where q.queue_name like ? and q.locked_at is null
        and not exists (select 1 from graphile_worker._private_jobs j where j.job_queue_id = q.id)`,
    [`%${tenantId}%`],
  );
  return rowCount ?? 0;
}

/**
 * The retention purge of one tenant (uninstalled 60 days ago, or a first install still unverified after an hour):
 * its rows, its jobs, its registry row, the audit entry and the ledger entry, in one transaction that opens both
 * the tenant's rows and the registry. The registry row is locked and checked again first, so a reinstall or a
 * verification that lands at the same moment wins: the purge then deletes nothing.
 */
export async function purgeUninstalledTenant(
  db: Database,
  tenantId: string,
  now: Date,
  logger: Logger,
): Promise<PurgeSummary | null> {
  const summary = await purgeTenant(db, tenantId, now, { actor: 'system:retention', onlyIfExpired: true });
  if (summary) logger.info({ tenantId, clientKey: summary.clientKey, jobs: summary.jobs }, 'tenant purged');
  return summary;
}

/** A purge made after a backup, re-applied to a restore of it (ledger-replay.ts): whatever the tenant's state. */
export function purgeTenantAgain(db: Database, tenantId: string, now: Date, ledgerId: string) {
  return purgeTenant(db, tenantId, now, { actor: 'system:restore', onlyIfExpired: false, ledgerId });
}

async function purgeTenant(
  db: Database,
  tenantId: string,
  now: Date,
  options: { actor: string; onlyIfExpired: boolean; ledgerId?: string },
): Promise<PurgeSummary | null> {
  return db.withTenant(tenantId, async (trx) => {
    await trx.raw(`select set_config('app.system', 'on', true)`);
    const tenant = await trx('tenants').where({ id: tenantId }).forUpdate().first();
    if (!tenant) return null;
    const expired = tenant.state !== 'installed' && tenant.delete_after && tenant.delete_after <= now;
    if (options.onlyIfExpired && !expired) return null;
    const rows = await deleteTenantRows(trx, tenantId);
    const jobs = await deleteTenantJobs(trx, tenantId);
    await trx('tenants').where({ id: tenantId }).del();
    await trx('system_audit_log').insert({
      at: now,
      actor: options.actor,
      action: 'tenant.purged',
      subject_tenant_id: tenantId,
      client_key: tenant.client_key,
      details: {
        state: tenant.state,
        uninstalled_at: tenant.uninstalled_at,
        delete_after: tenant.delete_after,
        rows,
        jobs,
      },
    });
    await recordDeletion(trx, { id: options.ledgerId, at: now, action: 'tenant.purged', tenantId });
    return { tenantId, clientKey: tenant.client_key as string, rows, jobs };
  });
}

/** The retention purge's name in the job queue and in maintenance_failures. */
export const RETENTION_PURGE_TASK = 'retention_purge';

/**
 * Purges every uninstalled or pending tenant whose delete_after has passed by `now`, tenant by tenant: one that fails is logged and
 * recorded in maintenance_failures, and the purge goes on with the next (the next hourly run tries it again).
 */
export async function purgeExpiredTenants(db: Database, now: Date, logger: Logger): Promise<PurgeSummary[]> {
  const due = await db.withSystem('retention: tenants due for deletion', (trx) =>
    trx('tenants')
      .whereIn('state', ['uninstalled', 'pending'])
      .andWhere('delete_after', '<=', now)
      .orderBy('delete_after')
      .pluck('id'),
  );
  const purged: PurgeSummary[] = [];
  for (const tenantId of due as string[]) {
    const turn = await tenantTurn({ db, logger }, RETENTION_PURGE_TASK, tenantId, now, () =>
      purgeUninstalledTenant(db, tenantId, now, logger),
    );
    if (turn.ok && turn.value) purged.push(turn.value);
  }
  return purged;
}

/**
 * An admin's "delete all data": every tenant row and waiting job goes; the installation stays (the registry row),
 * and the deletion is recorded in the tenant's audit log (written after the wipe), in the system audit log and in
 * the deletion ledger.
 */
export async function deleteAllTenantData(
  db: Database,
  tenantId: string,
  actor: string,
  now: Date,
  options: { ledgerId?: string } = {},
): Promise<{ rows: Record<string, number>; jobs: number }> {
  const result = await db.withTenant(tenantId, async (trx) => {
    const rows = await deleteTenantRows(trx, tenantId);
    const jobs = await deleteTenantJobs(trx, tenantId);
    await trx('audit_log').insert({
      tenant_id: tenantId,
      at: now,
      actor,
      action: 'data.deleted',
      details: { rows },
    });
    return { rows, jobs };
  });
  await db.withSystem('audit: tenant data deleted by its admin', async (trx) => {
    await trx('system_audit_log').insert({
      at: now,
      actor,
      action: 'tenant.data_deleted',
      subject_tenant_id: tenantId,
      details: { rows: result.rows, jobs: result.jobs },
    });
    await recordDeletion(trx, { id: options.ledgerId, at: now, action: 'tenant.data_deleted', tenantId });
  });
  return result;
}
