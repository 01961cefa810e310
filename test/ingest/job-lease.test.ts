import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Logger as QueueLogger, run, type Runner } from 'graphile-worker';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/database';
import { enqueueJob } from '../../src/db/job-queue';
import { LEASE_CLASS, leaseKey, releaseDeadJobs, withJobLease } from '../../src/ingest/job-lease';
import { BACKFILL_TASKS, enqueueTenantBackfill } from '../../src/ingest/scheduler';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';

const silent = createLogger('silent');

/** Polls `check` until it holds; fails after `tries` rounds (graphile-worker marks jobs after the task returns). */
async function eventually(what: string, check: () => Promise<boolean>, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`never: ${what}`);
}

describe('job leases: recovery from dead workers', () => {
  let database: TestDatabase;
  let db: Database;
  let admin: pg.Client;
  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.appUrl, silent);
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await db.close();
    await database.drop();
  });

  const tasks = Object.values(BACKFILL_TASKS);

  /** A backfill job as a worker that took it a minute ago leaves it: job and queue locked by that worker. */
  async function lockedJob(
    worker: string,
    tenantId = randomUUID(),
  ): Promise<{ id: string; attempts: number }> {
    await enqueueTenantBackfill(db.knex, tenantId);
    const { rows } = await admin.query(
      `update graphile_worker._private_jobs
          set locked_by = $1, locked_at = now() - interval '1 minute', attempts = attempts + 1
        where payload->>'tenantId' = $2 returning id::text, attempts, job_queue_id`,
      [worker, tenantId],
    );
    await admin.query(
      `update graphile_worker._private_job_queues set locked_by = $1, locked_at = now() - interval '1 minute'
        where id = $2`,
      [worker, rows[0].job_queue_id],
    );
    return { id: rows[0].id, attempts: rows[0].attempts };
  }

  const jobLock = async (jobId: string) =>
    (await admin.query('select locked_by from graphile_worker._private_jobs where id = $1', [jobId])).rows[0]
      ?.locked_by as string | null | undefined;
  const queueLock = async (jobId: string) =>
    (
      await admin.query(
        `select q.locked_by from graphile_worker._private_job_queues q
           join graphile_worker._private_jobs j on j.job_queue_id = q.id where j.id = $1`,
        [jobId],
      )
    ).rows[0]?.locked_by as string | null | undefined;

  it('unlocks only the job whose lease is gone, with its queue; the same worker’s leased job stays locked', async () => {
    const dead = await lockedJob('worker-a');
    const live = await lockedJob('worker-a');
    let released: string[] = [];
    await withJobLease(
      db,
      live,
      async () => {
        released = await releaseDeadJobs(db, tasks);
      },
      silent,
    );
    assert.deepEqual(released, [dead.id]);
    assert.equal(await jobLock(dead.id), null);
    assert.equal(await queueLock(dead.id), null);
    assert.equal(await jobLock(live.id), 'worker-a');
    assert.equal(await queueLock(live.id), 'worker-a');
    // graphile-worker completes the live job: the lease goes once the row has.
    await admin.query('delete from graphile_worker._private_jobs where id = $1', [live.id]);
  });

  it('keeps the lease after the task returns, until graphile-worker has marked the attempt', async () => {
    const job = await lockedJob('worker-b');
    await withJobLease(db, job, async () => undefined, silent);
    // The task has returned but the row is still locked for this attempt: not free for the taking.
    assert.deepEqual(await releaseDeadJobs(db, tasks, 0), []);
    assert.equal(await jobLock(job.id), 'worker-b');
    // graphile-worker marks the attempt failed (as its failJob does), and a worker that then dies takes it again:
    // only the new attempt, now without a lease, is released.
    await admin.query(
      `update graphile_worker._private_jobs set locked_by = null, locked_at = null where id = $1`,
      [job.id],
    );
    await admin.query(
      `update graphile_worker._private_jobs
          set locked_by = 'worker-gone', locked_at = now() - interval '1 minute', attempts = attempts + 1
        where id = $1`,
      [job.id],
    );
    await eventually('the finished attempt’s lease is released', async () =>
      (await releaseDeadJobs(db, tasks, 0)).includes(job.id),
    );
    assert.equal(await jobLock(job.id), null);
  });

  it('takes the leases again when their session dies under running jobs', async () => {
    const job = await lockedJob('worker-c');
    const holder = async () =>
      (
        await admin.query(
          `select l.pid from pg_locks l
            where l.locktype = 'advisory' and l.classid = $1 and l.objid = $2 and l.granted`,
          [LEASE_CLASS, leaseKey(job.id)],
        )
      ).rows[0]?.pid as number | undefined;
    await withJobLease(
      db,
      job,
      async () => {
        const first = await holder();
        assert.ok(first, 'the lease is held');
        await admin.query('select pg_terminate_backend($1)', [first]);
        await eventually('the lease is held by a new session', async () => {
          const now = await holder();
          return now !== undefined && now !== first;
        });
        assert.deepEqual(await releaseDeadJobs(db, tasks, 0), []);
      },
      silent,
    );
    await admin.query('delete from graphile_worker._private_jobs where id = $1', [job.id]);
  });

  it('gives a freshly locked job time to take its lease', async () => {
    const tenantId = randomUUID();
    await enqueueTenantBackfill(db.knex, tenantId);
    const { rows } = await admin.query(
      `update graphile_worker._private_jobs set locked_by = 'worker-new', locked_at = now()
        where payload->>'tenantId' = $1 returning id::text`,
      [tenantId],
    );
    assert.ok(!(await releaseDeadJobs(db, tasks)).includes(rows[0].id));
    assert.equal(await jobLock(rows[0].id), 'worker-new');
  });

  it('unlocks a queue left locked by a job whose row was deleted (a tenant purge)', async () => {
    const job = await lockedJob('worker-purged');
    await admin.query('delete from graphile_worker._private_jobs where id = $1', [job.id]);
    await releaseDeadJobs(db, tasks);
    const { rows } = await admin.query(
      `select count(*)::int as n from graphile_worker._private_job_queues where locked_by = 'worker-purged'`,
    );
    assert.equal(rows[0].n, 0);
  });
});

describe('job leases under a starved pool', () => {
  const TASK = 'lease_probe';
  const SWEEP_GRACE_SECONDS = 1;
  let database: TestDatabase;
  let admin: pg.Client;
  before(async () => {
    database = await createTestDatabase();
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await database.drop();
  });

  it('never runs a job twice at once while a sweeper runs flat out, and frees the job of a dead worker', async () => {
    const running = new Map<number, number>();
    const runningQueues = new Set<string>();
    const runs = new Map<number, number>();
    const overlaps: string[] = [];
    // Two worker processes: four concurrent jobs each on a pool of one connection, so jobs wait for the pool
    // several times longer than the sweeper's grace period.
    const workers: { db: Database; runner?: Runner }[] = [
      { db: createDatabase(database.appUrl, silent, 1) },
      { db: createDatabase(database.appUrl, silent, 1) },
    ];
    const sweeperDb = createDatabase(database.appUrl, silent);
    const probe =
      (db: Database) => async (raw: unknown, helpers: { job: { id: string; attempts: number } }) => {
        const { n, queue } = raw as { n: number; queue?: string };
        await withJobLease(
          db,
          helpers.job,
          async () => {
            runs.set(n, (runs.get(n) ?? 0) + 1);
            if (running.has(n)) overlaps.push(`job ${n} started while running`);
            if (queue && runningQueues.has(queue)) overlaps.push(`queue ${queue} ran two jobs at once`);
            running.set(n, (running.get(n) ?? 0) + 1);
            if (queue) runningQueues.add(queue);
            try {
              await db.knex.transaction((trx) => trx.raw('select pg_sleep(0.4)'));
            } finally {
              if (queue) runningQueues.delete(queue);
              running.set(n, running.get(n)! - 1);
              if (running.get(n) === 0) running.delete(n);
            }
          },
          silent,
        );
      };

    const JOBS = 16;
    for (let n = 0; n < JOBS; n++) {
      // Half in two named queues (one job at a time each), half free.
      const queue = n % 2 === 0 ? `q${n % 4}` : undefined;
      await enqueueJob(sweeperDb.knex, TASK, { tenantId: randomUUID(), n, queue }, { queueName: queue });
    }
    // One more, taken a minute ago by a worker that died (its job and queue locked, no lease).
    await enqueueJob(
      sweeperDb.knex,
      TASK,
      { tenantId: randomUUID(), n: JOBS, queue: 'q0' },
      { queueName: 'q0' },
    );
    await admin.query(
      `with j as (
         update graphile_worker._private_jobs
            set locked_by = 'worker-dead', locked_at = now() - interval '1 minute', attempts = 1
          where payload->>'n' = $1 returning job_queue_id)
       update graphile_worker._private_job_queues q set locked_by = 'worker-dead', locked_at = now() - interval '1 minute'
         from j where q.id = j.job_queue_id`,
      [String(JOBS)],
    );

    let sweeping = true;
    const released: string[] = [];
    const sweeper = (async () => {
      while (sweeping) {
        released.push(...(await releaseDeadJobs(sweeperDb, [TASK], SWEEP_GRACE_SECONDS)));
        await sleep(20);
      }
    })();
    try {
      for (const worker of workers) {
        worker.runner = await run({
          connectionString: database.appUrl,
          concurrency: 4,
          noHandleSignals: true,
          pollInterval: 100,
          taskList: { [TASK]: probe(worker.db) },
          logger: new QueueLogger(() => () => undefined),
        });
      }
      await eventually(
        'every job has run',
        async () =>
          (await admin.query('select count(*)::int as n from graphile_worker._private_jobs')).rows[0].n === 0,
        1200,
      );
    } finally {
      sweeping = false;
      await sweeper;
      for (const worker of workers) await worker.runner?.stop();
      for (const worker of workers) await worker.db.close();
      await sweeperDb.close();
    }
    assert.deepEqual(overlaps, []);
    for (let n = 0; n <= JOBS; n++) assert.equal(runs.get(n), 1, `job ${n} ran once`);
    // The sweeper freed exactly the dead worker's job, nothing of the live ones.
    assert.equal(released.length, 1);
  });
});
