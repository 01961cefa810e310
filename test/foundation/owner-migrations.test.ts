import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { up as refillUp } from '../../migrations/202612075000_refill_derived_read_models';
import { PROJECT_PR_ROLLUPS } from '../../src/analytics/pull-request-facts';
import { runRollupRebuild } from '../../src/analytics/rollup-rebuild';
import { CUBES, rebuildRollups } from '../../src/analytics/rollups';
import { createDatabase, createKnex, type Database } from '../../src/db/database';
import { APP_ROLE, OWNER_ROLE } from '../../src/db/embedded-postgres';
import { migrate, MIGRATIONS } from '../../src/db/migrate';
import { createLogger } from '../../src/platform/logger';
import { insertTenantRow, newPerson, seedTenant } from '../trust/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/db';

/** What migration 20261125300100 derives from older read models, and the pull-request read models it added. */
const DERIVED = [
  'contributor_rollups_total',
  'workspace_punchcard_rollups_monthly',
  'workspace_punchcard_rollups_yearly',
  'pull_request_reviewers',
];
const PULL_REQUEST_MODELS = [
  'pull_request_facts',
  'pull_request_review_facts',
  'pull_request_rollups_daily',
  'pull_request_duration_rollups_daily',
  'pull_request_reviewer_rollups_daily',
  // Per repository (202612088001): derived from the facts like the others.
  'repository_pull_request_rollups_daily',
  ...['daily', 'monthly', 'yearly'].flatMap((grain) => [
    `repository_pull_request_duration_rollups_${grain}`,
    `repository_pull_request_reviewer_rollups_${grain}`,
  ]),
];

describe('migrations as a non-superuser owner', () => {
  let database: TestDatabase;
  let db: Database;
  let admin: pg.Client;
  const tenants = [randomUUID(), randomUUID()];

  /** Every row of the tables, as text, read by the superuser (past RLS). */
  const snapshot = async (tables: string[]) => {
    const out: Record<string, string[]> = {};
    for (const table of tables) {
      const { rows } = await admin.query(`select t::text as row from "${table}" t order by 1`);
      out[table] = rows.map((r) => r.row as string);
    }
    return out;
  };
  const rebuildJobs = async () =>
    (
      await admin.query(
        `select j.payload->>'tenantId' as tenant from graphile_worker._private_jobs j
           join graphile_worker._private_tasks t on t.id = j.task_id
          where t.identifier = 'rebuild_rollups' order by 1`,
      )
    ).rows.map((r) => r.tenant as string);

  /** As the owner: migrations undone down to (and with) the one named by prefix, then every one run again. */
  const downToAndUpAgain = async (prefix: string) => {
    const owner = createKnex(database.ownerUrl, 1);
    try {
      for (;;) {
        const [, undone] = (await owner.migrate.down(MIGRATIONS)) as [number, string[]];
        if (undone.some((name) => name.startsWith(prefix))) break;
      }
    } finally {
      await owner.destroy();
    }
    await migrate(database.ownerUrl, APP_ROLE);
  };

  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.appUrl, createLogger('silent'));
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    // Two tenants with commits and pull requests, and every read model built as the app builds it.
    for (const [i, tenantId] of tenants.entries()) {
      await insertTenantRow(database.adminUrl, tenantId);
      await seedTenant(db, tenantId, [
        newPerson(`Ada ${i}`),
        newPerson(`Grace ${i}`),
        newPerson(`Linus ${i}`),
      ]);
      await db.withTenant(tenantId, (trx) => rebuildRollups(trx));
    }
  });
  after(async () => {
    await admin.end();
    await db.close();
    await database.drop();
  });

  it('the suite’s schema belongs to an owner role that is no superuser and cannot bypass RLS', async () => {
    const { rows } = await admin.query(`
      select distinct r.rolname, r.rolsuper, r.rolbypassrls
        from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_roles r on r.oid = c.relowner
       where n.nspname in ('public', 'graphile_worker') and c.relkind in ('r', 'v', 'S')`);
    assert.deepEqual(rows, [{ rolname: OWNER_ROLE, rolsuper: false, rolbypassrls: false }]);
  });

  it('20261125300100 run by that owner fills every tenant’s derived read models and queues their rebuilds', async () => {
    const before = await snapshot([...DERIVED, ...PULL_REQUEST_MODELS]);
    for (const table of [...DERIVED, 'pull_request_facts'])
      for (const tenantId of tenants)
        assert.ok(
          before[table]!.some((row) => row.includes(tenantId)),
          `${table} has rows of tenant ${tenantId}`,
        );
    // Back to just before 20261125300100 and through it again, as the owner.
    const owner = createKnex(database.ownerUrl, 1);
    try {
      for (;;) {
        const [, undone] = (await owner.migrate.down(MIGRATIONS)) as [number, string[]];
        if (undone.some((name) => name.startsWith('20261125300100'))) break;
      }
      assert.deepEqual(await rebuildJobs(), []);
      const [, done] = (await owner.migrate.up(MIGRATIONS)) as [number, string[]];
      assert.deepEqual(done, ['20261125300100_analytics_more_rollups.ts']);
    } finally {
      await owner.destroy();
    }
    assert.deepEqual(await snapshot(DERIVED), Object.fromEntries(DERIVED.map((t) => [t, before[t]])));
    assert.deepEqual(await rebuildJobs(), [...tenants].sort());
    await migrate(database.ownerUrl, APP_ROLE);
    // The queued rebuilds give both tenants their pull-request read models back, exactly.
    for (const tenantId of tenants) await runRollupRebuild(db, { tenantId });
    assert.deepEqual(
      await snapshot(PULL_REQUEST_MODELS),
      Object.fromEntries(PULL_REQUEST_MODELS.map((t) => [t, before[t]])),
    );
  });

  it('202612075000 repairs a database where 20261125300100 once filled nothing', async () => {
    await admin.query(`delete from graphile_worker._private_jobs`);
    const before = await snapshot([...DERIVED, ...PULL_REQUEST_MODELS]);
    // What that migration left under a NOBYPASSRLS owner: empty tables, of which live upkeep has since filled a
    // little (one contributor total kept here).
    for (const table of [...DERIVED, ...PULL_REQUEST_MODELS]) {
      const keep =
        table === 'contributor_rollups_total' ? `and ctid <> (select min(ctid) from ${table})` : '';
      await admin.query(`delete from "${table}" where true ${keep}`);
    }
    assert.equal((await snapshot(['contributor_rollups_total'])).contributor_rollups_total!.length, 1);

    const owner = createKnex(database.ownerUrl, 1);
    try {
      await owner.transaction((trx) => refillUp(trx));
    } finally {
      await owner.destroy();
    }
    assert.deepEqual(await snapshot(DERIVED), Object.fromEntries(DERIVED.map((t) => [t, before[t]])));
    assert.deepEqual(await rebuildJobs(), [...tenants].sort());
    for (const tenantId of tenants) await runRollupRebuild(db, { tenantId });
    assert.deepEqual(
      await snapshot(PULL_REQUEST_MODELS),
      Object.fromEntries(PULL_REQUEST_MODELS.map((t) => [t, before[t]])),
    );

    // Run again on a sound database, it changes nothing and queues nothing.
    await admin.query(`delete from graphile_worker._private_jobs`);
    const again = createKnex(database.ownerUrl, 1);
    try {
      await again.transaction((trx) => refillUp(trx));
    } finally {
      await again.destroy();
    }
    assert.deepEqual(await snapshot([...DERIVED, ...PULL_REQUEST_MODELS]), before);
    assert.deepEqual(await rebuildJobs(), []);
  });

  it('202612079500, 79501, 88000, 88001 and 89300 run by that owner build every tenant’s repository × contributor, shifted, repository punch-card and repository pull-request rollups, and the authors of pull-request facts', async () => {
    const built = [
      'repository_contributor_rollups_daily',
      'repository_contributor_rollups_monthly',
      'repository_contributor_rollups_yearly',
      'repository_contributor_rollups_total',
      'workspace_rollups_hourly_15',
      'workspace_rollups_hourly_30',
      'workspace_punchcard_rollups_monthly_15',
      'workspace_punchcard_rollups_yearly_15',
      'workspace_punchcard_rollups_monthly_30',
      'workspace_punchcard_rollups_yearly_30',
      'repository_punchcard_rollups_monthly',
      'repository_punchcard_rollups_yearly',
      'repository_pull_request_rollups_daily',
      'repository_pull_request_duration_rollups_yearly',
      'repository_pull_request_reviewer_rollups_yearly',
      // 202612089300: the pull request's author on its facts and review facts.
      'pull_request_facts',
      'pull_request_review_facts',
    ];
    // The seeded pull requests carry no merge time: given one, they have durations to roll up.
    await admin.query(`update pull_requests set merged_on = created_on + interval '5 hours'`);
    for (const tenantId of tenants) await db.withTenant(tenantId, (trx) => rebuildRollups(trx));
    // As live upkeep built them.
    const before = await snapshot(built);
    for (const table of built)
      for (const tenantId of tenants)
        assert.ok(
          before[table]!.some((row) => row.includes(tenantId)),
          `${table} has rows of tenant ${tenantId}`,
        );
    await downToAndUpAgain('202612079500');
    assert.deepEqual(await snapshot(built), before);
  });
  it('202612089100 and 89400 run by that owner number every tenant’s projects and build their facts’ project and project rollups, commits and pull requests', async () => {
    const built = [
      'projects',
      'repositories',
      'commit_facts',
      ...Object.values(CUBES)
        .filter((c) => c.project)
        .map((c) => c.table),
      // 202612089400: pull-request and review facts carry the project; per-project pull-request rollups.
      'pull_request_facts',
      'pull_request_review_facts',
      PROJECT_PR_ROLLUPS.daily,
      ...Object.values(PROJECT_PR_ROLLUPS.durations),
      ...Object.values(PROJECT_PR_ROLLUPS.reviewers),
    ];
    // Every repository in a project (one per tenant), as a listing stores them, and upkeep built on it.
    await admin.query(
      `update repositories set project_uuid = '{' || md5(tenant_id::text) || '}', project_key = 'P', project_name = 'P'`,
    );
    for (const tenantId of tenants) await db.withTenant(tenantId, (trx) => rebuildRollups(trx));
    const before = await snapshot(built);
    for (const table of built)
      for (const tenantId of tenants)
        assert.ok(
          before[table]!.some((row) => row.includes(tenantId)),
          `${table} has rows of tenant ${tenantId}`,
        );
    await downToAndUpAgain('202612089100');
    assert.deepEqual(await snapshot(built), before);
  });
});
