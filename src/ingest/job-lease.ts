import type pg from 'pg';
import type { Database } from '../db/database';
import type { Logger } from '../platform/logger';

/**
 * Recovery from worker processes that die without a word (SIGKILL, OOM, lost machine).
 *
 * graphile-worker leaves a dead worker's jobs — and their named queue — locked for 4 hours. So every ingest job
 * runs holding a lease: a session advisory lock keyed by the job's id, which PostgreSQL drops the moment the
 * holder's connection goes away. The sweeper, in every live worker, looks for ingest jobs locked for a while whose
 * lease nobody holds, and unlocks exactly those jobs and their queues, after which they (being resumable) run again.
 *
 * Three rules keep a live job from ever being unlocked:
 * - the lease is taken on a connection of the worker's own, outside the pool, as the job's first step: a job never
 *   waits for a pooled connection without its lease (a starved pool can make that wait long);
 * - it is kept until graphile-worker has marked the attempt done in the database (the row deleted, or unlocked for
 *   a retry), which happens after the task function returns and is not awaited by graphile-worker;
 * - the sweeper unlocks one job at a time, and only the very lock it saw (same worker, same attempt), never every
 *   job of a worker.
 */

/** First key of the two-key advisory lock space, so leases never collide with other advisory locks. */
export const LEASE_CLASS = 0x7a11;
/** A job locked this recently may not have taken its lease yet (the step between locking and leasing is short). */
export const GRACE_SECONDS = 15;
const SWEEP_INTERVAL_MS = 10_000;
/** How often a finished attempt looks whether graphile-worker has marked it yet. */
const SETTLE_POLL_MS = 25;

export const leaseKey = (jobId: string) => Number(BigInt(jobId) % 2_147_483_647n);

interface PgConnection {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

interface KnexClientInternals {
  pool?: unknown;
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<void>;
}

const clientOf = (db: Database) => db.knex.client as unknown as KnexClientInternals;

/** The part of graphile-worker's job row a lease is about: one attempt of one job. */
export interface LeasedJob {
  id: string;
  attempts: number;
}

interface Hold {
  job: LeasedJob;
  /** The task function has returned; the lease goes once graphile-worker has marked the attempt. */
  finished: boolean;
}

/**
 * The leases of one worker process, all on one session of their own. The session is opened when the first job
 * starts and ended when the last lease is released, so an idle worker holds no extra connection.
 */
class LeaseHolder {
  private session: Promise<pg.Client> | undefined;
  private readonly holds = new Set<Hold>();
  private client: pg.Client | undefined;
  private settling = false;
  private settleAgain = false;
  /** The session's queries, one after another (a pg client runs one query at a time). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  async run<T>(job: LeasedJob, fn: () => Promise<T>): Promise<T> {
    const hold: Hold = { job, finished: false };
    this.holds.add(hold);
    try {
      await this.query('select pg_advisory_lock($1, $2)', [LEASE_CLASS, leaseKey(job.id)]);
    } catch (error) {
      this.holds.delete(hold);
      this.closeIfIdle();
      throw error;
    }
    try {
      return await fn();
    } finally {
      hold.finished = true;
      void this.kickSettle();
    }
  }

  /** One settling loop at a time; an attempt finishing while it winds down makes it go round once more. */
  private async kickSettle(): Promise<void> {
    if (this.settling) {
      this.settleAgain = true;
      return;
    }
    this.settling = true;
    do {
      this.settleAgain = false;
      await this.settle();
    } while (this.settleAgain);
    this.settling = false;
    this.closeIfIdle();
  }

  private query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    const result = this.tail.then(async () => (await this.connect()).query<R>(text, values));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private connect(): Promise<pg.Client> {
    this.session ??= this.db.openSession().then(
      (client) => {
        this.client = client;
        client.on('error', (error) => this.lost(client, error));
        return client;
      },
      (error: unknown) => {
        this.session = undefined;
        throw error;
      },
    );
    return this.session;
  }

  /** Releases the leases of finished attempts that graphile-worker has marked, until none is left waiting. */
  private async settle(): Promise<void> {
    for (;;) {
      const finished = [...this.holds].filter((h) => h.finished);
      if (finished.length === 0) break;
      if (!clientOf(this.db).pool) {
        // The database handle is closed (shutdown): the process holds nothing any more; ending the session (below)
        // frees what graphile-worker never got to mark, and nothing keeps the process waiting for it.
        for (const hold of finished) this.holds.delete(hold);
        break;
      }
      try {
        // Marked means: the row is gone (success) or no longer locked for this attempt (failure, retry later).
        const { rows } = await this.query<{ i: number }>(
          `select h.i, pg_advisory_unlock($1, h.key)
             from unnest($2::bigint[], $3::int[], $4::int[]) with ordinality as h(id, attempts, key, i)
            where not exists (
              select 1 from graphile_worker._private_jobs j
               where j.id = h.id and j.attempts = h.attempts and j.locked_by is not null)`,
          [
            LEASE_CLASS,
            finished.map((h) => h.job.id),
            finished.map((h) => h.job.attempts),
            finished.map((h) => leaseKey(h.job.id)),
          ],
        );
        for (const { i } of rows) this.holds.delete(finished[Number(i) - 1]!);
        if (rows.length === finished.length) continue;
      } catch (error) {
        this.logger.warn({ err: error }, 'job lease release failed; retrying');
      }
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }

  private closeIfIdle(): void {
    if (this.holds.size > 0 || !this.session) return;
    const session = this.session;
    this.session = undefined;
    this.client = undefined;
    void session.then(
      (client) => client.end(),
      () => undefined,
    );
  }

  /**
   * The session died under running jobs: their leases are gone with it. Take them again on a new session at once,
   * so that the sweeper of another worker, which waits out GRACE_SECONDS after a job was locked, does not free them.
   */
  private lost(client: pg.Client, error: Error): void {
    void client.end().catch(() => undefined);
    if (this.client !== client) return;
    this.logger.error({ err: error }, 'job lease session lost; taking the leases again');
    this.client = undefined;
    this.session = undefined;
    if (this.holds.size === 0) return;
    void Promise.all(
      [...this.holds].map((hold) =>
        this.query('select pg_advisory_lock($1, $2)', [LEASE_CLASS, leaseKey(hold.job.id)]),
      ),
    ).catch((retakeError: unknown) =>
      this.logger.error({ err: retakeError }, 'job leases could not be taken again'),
    );
  }
}

const holders = new WeakMap<Database, LeaseHolder>();

/**
 * Runs one attempt of a job while holding its lease: taken before fn (and so before anything that may wait for
 * the pool), kept after fn until graphile-worker has marked the attempt in the database.
 */
export function withJobLease<T>(
  db: Database,
  job: LeasedJob,
  fn: () => Promise<T>,
  logger: Logger,
): Promise<T> {
  let holder = holders.get(db);
  if (!holder) {
    holder = new LeaseHolder(db, logger);
    holders.set(db, holder);
  }
  return holder.run(job, fn);
}

/**
 * Unlocks the jobs of `tasks` that have been locked for longer than the grace period and whose lease nobody holds,
 * each with its queue; returns their ids. A job is unlocked only if it is still locked exactly as seen (same
 * worker, same attempt), and while this sweep holds its lease, so a job that moved on meanwhile is left alone.
 */
export async function releaseDeadJobs(
  db: Database,
  tasks: readonly string[],
  graceSeconds = GRACE_SECONDS,
): Promise<string[]> {
  const { rows } = await db.knex.raw<{ rows: { id: string; locked_by: string; attempts: number }[] }>(
    `select j.id::text as id, j.locked_by, j.attempts
       from graphile_worker._private_jobs j
       join graphile_worker._private_tasks t on t.id = j.task_id
      where j.locked_by is not null
        and j.locked_at < now() - make_interval(secs => ?)
        and t.identifier = any(?::text[])`,
    [graceSeconds, [...tasks]],
  );
  const client = clientOf(db);
  const connection = await client.acquireConnection();
  const released: string[] = [];
  try {
    for (const row of rows) {
      const key = [LEASE_CLASS, leaseKey(row.id)];
      const { rows: probe } = await connection.query('select pg_try_advisory_lock($1, $2) as free', key);
      if (probe[0]?.free !== true) continue;
      try {
        // A queue is locked by the same worker as its running job, in the same statement; both go together.
        const { rows: done } = await connection.query(
          `with job as (
             update graphile_worker._private_jobs set locked_by = null, locked_at = null
              where id = $1 and locked_by = $2 and attempts = $3
             returning id, job_queue_id
           ), queue as (
             update graphile_worker._private_job_queues q set locked_by = null, locked_at = null
               from job where q.id = job.job_queue_id and q.locked_by = $2
           )
           select id::text from job`,
          [row.id, row.locked_by, row.attempts],
        );
        if (done.length > 0) released.push(row.id);
      } finally {
        await connection.query('select pg_advisory_unlock($1, $2)', key);
      }
    }
    // A queue stays locked if its running job's row was deleted (a tenant purge): a worker locks a job and its
    // queue in one statement, so a queue lock without a job of that queue locked by the same worker is an orphan.
    await connection.query(
      `update graphile_worker._private_job_queues q set locked_by = null, locked_at = null
        where q.locked_by is not null and q.locked_at < now() - make_interval(secs => $1)
          and not exists (select 1 from graphile_worker._private_jobs j
                           where j.job_queue_id = q.id and j.locked_by = q.locked_by)`,
      [graceSeconds],
    );
  } finally {
    await client.releaseConnection(connection);
  }
  return released;
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
      const jobs = await releaseDeadJobs(db, tasks);
      if (jobs.length > 0) logger.warn({ jobs }, 'released jobs whose worker died');
    } catch (error) {
      logger.debug({ err: error }, 'dead worker sweep failed');
    }
  };
  const timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  timer.unref();
  setTimeout(() => void sweep(), 1000).unref();
}
