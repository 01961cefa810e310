import type { Knex } from 'knex';

export interface JobOptions {
  /** Jobs in one queue run one at a time, in order. */
  queueName?: string;
  /** Lower runs sooner (graphile-worker semantics). */
  priority?: number;
  runAt?: Date;
  maxAttempts?: number;
  /** At most one pending job per key. */
  jobKey?: string;
  jobKeyMode?: 'replace' | 'preserve_run_at' | 'unsafe_dedupe';
}

/**
 * Adds a graphile-worker job through SQL on the given connection or transaction, so a job enqueued together with
 * the data it will process commits or rolls back with it. Payloads carry `tenantId` (the retention purge finds a
 * tenant's jobs by it).
 */
export async function enqueueJob(
  db: Knex | Knex.Transaction,
  task: string,
  payload: { tenantId: string } & Record<string, unknown>,
  options: JobOptions = {},
): Promise<void> {
  await db.raw(
    `select graphile_worker.add_job(
       identifier => ?, payload => ?::json, queue_name => ?, run_at => ?, max_attempts => ?,
       job_key => ?, priority => ?, job_key_mode => ?)`,
    [
      task,
      JSON.stringify(payload),
      options.queueName ?? null,
      options.runAt ?? null,
      options.maxAttempts ?? null,
      options.jobKey ?? null,
      options.priority ?? null,
      options.jobKeyMode ?? 'replace',
    ],
  );
}

/**
 * Which of these job keys name a job that will still run: waiting, or running now. A job that used up its
 * attempts keeps its key but never runs again, so it does not count.
 */
export async function liveJobKeys(db: Knex | Knex.Transaction, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await db.raw<{ rows: { key: string }[] }>(
    `select key from graphile_worker._private_jobs
      where key = any(?::text[]) and (locked_at is not null or attempts < max_attempts)`,
    [keys],
  );
  return new Set(rows.map((r) => r.key));
}
