import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from '../platform/logger';

// Return bigint columns (identity ids, counts) as JS numbers: every such value here stays far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export type Trx = Knex.Transaction;

export interface Database {
  knex: Knex;
  /** Runs fn in a transaction that sees only this tenant's rows (RLS via app.tenant_id). */
  withTenant<T>(tenantId: string, fn: (trx: Trx) => Promise<T>): Promise<T>;
  /**
   * Runs fn with cross-tenant access to the registry tables (tenants, system_audit_log, deletion_ledger).
   * Tenant tables stay closed: their policy looks at app.tenant_id only. Every use is logged with its reason.
   */
  withSystem<T>(reason: string, fn: (trx: Trx) => Promise<T>): Promise<T>;
  /**
   * A connection of its own, outside the pool, for session state that must not wait for a pooled connection
   * (job leases, src/ingest/job-lease.ts). The caller ends it.
   */
  openSession(): Promise<pg.Client>;
  /**
   * The same database whose transactions allow each statement `ms` milliseconds (`SET LOCAL statement_timeout`)
   * instead of the connections' default: for jobs and the few requests that must run long statements.
   */
  withStatementTimeout(ms: number): Database;
  close(): Promise<void>;
}

/**
 * `statementTimeoutMs` becomes every pooled connection's `statement_timeout` (a start-up parameter, so it holds
 * whatever role DATABASE_URL names): PostgreSQL itself cancels a runaway statement.
 */
export function createKnex(url: string, poolMax = 10, statementTimeoutMs?: number): Knex {
  return knexFactory({
    client: 'pg',
    connection: {
      connectionString: url,
      application_name: 'tally',
      ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
    },
    pool: { min: 0, max: poolMax },
  });
}

export function createDatabase(
  url: string,
  logger: Logger,
  poolMax = 10,
  options: { statementTimeoutMs?: number } = {},
): Database {
  const knex = createKnex(url, poolMax, options.statementTimeoutMs);
  const withTimeout = (timeoutMs: number | null): Database => {
    // Transaction-local settings (is_local = true): never leak to the next user of the pooled connection.
    const timeout = timeoutMs === null ? '' : `, set_config('statement_timeout', '${timeoutMs}', true)`;
    return {
      knex,
      withTenant(tenantId, fn) {
        return knex.transaction(async (trx) => {
          await trx.raw(`select set_config('app.tenant_id', ?, true)${timeout}`, [tenantId]);
          return fn(trx);
        });
      },
      withSystem(reason, fn) {
        logger.debug({ reason }, 'system access');
        return knex.transaction(async (trx) => {
          await trx.raw(`select set_config('app.system', 'on', true)${timeout}`);
          return fn(trx);
        });
      },
      async openSession() {
        const client = new pg.Client({ connectionString: url, application_name: 'tally' });
        await client.connect();
        return client;
      },
      withStatementTimeout: (ms) => withTimeout(Number.isSafeInteger(ms) && ms > 0 ? ms : null),
      close: () => knex.destroy(),
    };
  };
  return withTimeout(null);
}
