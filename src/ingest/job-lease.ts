import type { Database } from '../db/database';
import type { Logger } from '../platform/logger';

/**
 * Recovery from worker processes that die without a word (SIGKILL, OOM, lost machine).
 *
 * graphile-worker leaves a dead worker's jobs — and their named queue — locked for 4 hours. So every ingest job
 * runs holding a session advisory lock (its lease) on a connection of its own; PostgreSQL drops that lock the
 * moment the process's connections go away. The sweeper, in every live worker, looks for ingest jobs locked for
 * a while whose lease nobody holds, and hands their workers to graphile-worker's `force_unlock_workers`, after
 * which the jobs (which are resumable) run again.
 */

/** First key of the two-key advisory lock space, so leases never collide with other advisory locks. */
const LEASE_CLASS = 0x7a11;
/** A job locked this recently may not have taken its lease yet. */
const GRACE_SECONDS = 15;
const SWEEP_INTERVAL_MS = 10_000;

interface PgConnection {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

interface KnexClientInternals {
  pool?: unknown;
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<void>;
}

const clientOf = (db: Database) => db.knex.client as unknown as KnexClientInternals;
const leaseKey = (jobId: string) => Number(BigInt(jobId) % 2_147_483_647n);

/** Runs fn while holding the job's lease. */
export async function withJobLease<T>(db: Database, jobId: string, fn: () => Promise<T>): Promise<T> {
  const client = clientOf(db);
  const connection = await client.acquireConnection();
  try {
    await connection.query('select pg_advisory_lock($1, $2)', [LEASE_CLASS, leaseKey(jobId)]);
    try {
      return await fn();
    } finally {
      await connection
        .query('select pg_advisory_unlock($1, $2)', [LEASE_CLASS, leaseKey(jobId)])
        .catch(() => {});
    }
  } finally {
    await client.releaseConnection(connection);
  }
}

/** Unlocks the jobs (and queues) of workers that hold a lock on one of `tasks` without holding its lease. */
export async function releaseDeadWorkers(db: Database, tasks: readonly string[]): Promise<string[]> {
  const { rows } = await db.knex.raw<{ rows: { id: string; locked_by: string }[] }>(
    `select j.id::text as id, j.locked_by
       from graphile_worker._private_jobs j
       join graphile_worker._private_tasks t on t.id = j.task_id
      where j.locked_by is not null
        and j.locked_at < now() - make_interval(secs => ?)
        and t.identifier = any(?::text[])`,
    [GRACE_SECONDS, [...tasks]],
  );
  const client = clientOf(db);
  const connection = await client.acquireConnection();
  const dead = new Set<string>();
  try {
    for (const row of rows) {
      const key = [LEASE_CLASS, leaseKey(row.id)];
      const { rows: probe } = await connection.query('select pg_try_advisory_lock($1, $2) as free', key);
      if (probe[0]?.free !== true) continue;
      await connection.query('select pg_advisory_unlock($1, $2)', key);
      dead.add(row.locked_by);
    }
    if (dead.size > 0)
      await connection.query('select graphile_worker.force_unlock_workers($1::text[])', [[...dead]]);
    // A queue stays locked if its running job's row was deleted (a tenant purge): a worker locks a job and its
    // queue in one statement, so a queue lock without any job lock of that worker is an orphan.
    await connection.query(
      `update graphile_worker._private_job_queues q set locked_by = null, locked_at = null
        where q.locked_by is not null and q.locked_at < now() - make_interval(secs => $1)
          and not exists (select 1 from graphile_worker._private_jobs j where j.locked_by = q.locked_by)`,
      [GRACE_SECONDS],
    );
  } finally {
    await client.releaseConnection(connection);
  }
  return [...dead];
}

const sweeping = new WeakSet<Database>();

/**
 * Sweeps soon after a worker starts (a restarted worker frees what its dead predecessor held), then periodically.
 * Stops by itself once the database handle is closed.
 */
export function startDeadWorkerSweeper(db: Database, tasks: readonly string[], logger: Logger): void {
  if (sweeping.has(db)) return;
  sweeping.add(db);
  const sweep = async () => {
    if (!clientOf(db).pool) {
      clearInterval(timer);
      return;
    }
    try {
      const dead = await releaseDeadWorkers(db, tasks);
      if (dead.length > 0) logger.warn({ workers: dead }, 'released jobs of dead workers');
    } catch (error) {
      logger.debug({ err: error }, 'dead worker sweep failed');
    }
  };
  const timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  timer.unref();
  setTimeout(() => void sweep(), 1000).unref();
}
