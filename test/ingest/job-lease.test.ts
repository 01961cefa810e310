import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/database';
import { releaseDeadWorkers, withJobLease } from '../../src/ingest/job-lease';
import { BACKFILL_TASKS, enqueueTenantBackfill } from '../../src/ingest/scheduler';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';

describe('job leases: recovery from dead workers', () => {
  let database: TestDatabase;
  let db: Database;
  let admin: pg.Client;
  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.appUrl, createLogger('silent'));
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await db.close();
    await database.drop();
  });

  /** A backfill job as a worker that took it a minute ago leaves it: job and queue locked by that worker. */
  async function lockedJob(worker: string): Promise<string> {
    const tenantId = randomUUID();
    await enqueueTenantBackfill(db.knex, tenantId);
    const { rows } = await admin.query(
      `update graphile_worker._private_jobs set locked_by = $1, locked_at = now() - interval '1 minute'
        where payload->>'tenantId' = $2 returning id::text, job_queue_id`,
      [worker, tenantId],
    );
    await admin.query(
      `update graphile_worker._private_job_queues set locked_by = $1, locked_at = now() - interval '1 minute'
        where id = $2`,
      [worker, rows[0].job_queue_id],
    );
    return rows[0].id;
  }

  const lockOf = async (jobId: string) =>
    (await admin.query('select locked_by from graphile_worker._private_jobs where id = $1', [jobId])).rows[0]
      .locked_by as string | null;

  it('unlocks the jobs and queues of a worker that holds no lease, and leaves a live worker alone', async () => {
    const deadJob = await lockedJob('worker-dead');
    const liveJob = await lockedJob('worker-live');
    let released: string[] = [];
    await withJobLease(db, liveJob, async () => {
      released = await releaseDeadWorkers(db, Object.values(BACKFILL_TASKS));
    });
    assert.deepEqual(released, ['worker-dead']);
    assert.equal(await lockOf(deadJob), null);
    assert.equal(await lockOf(liveJob), 'worker-live');
    const queues = await admin.query(
      'select locked_by from graphile_worker._private_job_queues where locked_by is not null',
    );
    assert.deepEqual(
      queues.rows.map((r) => r.locked_by),
      ['worker-live'],
    );
  });

  it('gives a freshly locked job time to take its lease', async () => {
    const tenantId = randomUUID();
    await enqueueTenantBackfill(db.knex, tenantId);
    const { rows } = await admin.query(
      `update graphile_worker._private_jobs set locked_by = 'worker-new', locked_at = now()
        where payload->>'tenantId' = $1 returning id::text`,
      [tenantId],
    );
    const released = await releaseDeadWorkers(db, Object.values(BACKFILL_TASKS));
    assert.ok(!released.includes('worker-new'));
    assert.equal(await lockOf(rows[0].id), 'worker-new');
  });

  it('unlocks a queue left locked by a job whose row was deleted (a tenant purge)', async () => {
    const jobId = await lockedJob('worker-purged');
    await admin.query('delete from graphile_worker._private_jobs where id = $1', [jobId]);
    await releaseDeadWorkers(db, Object.values(BACKFILL_TASKS));
    const { rows } = await admin.query(
      `select count(*)::int as n from graphile_worker._private_job_queues where locked_by = 'worker-purged'`,
    );
    assert.equal(rows[0].n, 0);
  });
});
