import type { Logger } from '../platform/logger';
import type { Database } from './database';

/** How much of an error message is kept: enough to tell what failed. */
const MAX_ERROR = 500;

export interface TenantTurnFailure {
  tenantId: string;
  error: string;
}

/**
 * One tenant's turn in a cron-style loop. A failure is logged, recorded in `maintenance_failures` for that tenant and
 * task, and returned, never thrown: the loop goes on with the next tenant. A success clears the tenant's record.
 */
export async function tenantTurn<T>(
  deps: { db: Database; logger: Logger },
  task: string,
  tenantId: string,
  now: Date,
  work: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; failure: TenantTurnFailure }> {
  let value: T;
  try {
    value = await work();
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR);
    deps.logger.error(
      { err: error, tenantId, task },
      'maintenance task failed for a tenant; the others go on',
    );
    await recordFailure(deps.db, tenantId, task, message, now).catch((recordError: unknown) =>
      deps.logger.error({ err: recordError, tenantId, task }, 'could not record a maintenance failure'),
    );
    return { ok: false, failure: { tenantId, error: message } };
  }
  await deps.db
    .withTenant(tenantId, (trx) => trx('maintenance_failures').where({ task }).del())
    .catch((clearError: unknown) =>
      deps.logger.error({ err: clearError, tenantId, task }, 'could not clear a maintenance failure'),
    );
  return { ok: true, value };
}

async function recordFailure(db: Database, tenantId: string, task: string, error: string, now: Date) {
  await db.withTenant(tenantId, (trx) =>
    trx.raw(
      `insert into maintenance_failures (tenant_id, task, error, first_failed_at, last_failed_at, failures)
       values (:tenantId, :task, :error, :now, :now, 1)
       on conflict (tenant_id, task) do update
         set error = excluded.error, last_failed_at = excluded.last_failed_at,
             failures = maintenance_failures.failures + 1`,
      { tenantId, task, error, now },
    ),
  );
}
