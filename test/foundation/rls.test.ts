import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/database';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';

/**
 * Tenant isolation is enforced by PostgreSQL itself. This test reads the catalog, so a new table with a
 * tenant_id column that forgets RLS (or its policy) fails here without anyone editing the test.
 */

// Values for columns with CHECK constraints; every other column gets a value by type.
const CONSTRAINED: Record<string, string> = {
  sync_state: 'ready',
  status: 'added',
  kind: 'branch',
  state: 'OPEN',
  role: 'REVIEWER',
  source: 'commit',
  subject: 'commit',
};

function valueFor(column: string, type: string, tenantId: string): unknown {
  if (column === 'tenant_id') return tenantId;
  if (column in CONSTRAINED) return CONSTRAINED[column];
  if (type === 'uuid') return randomUUID();
  if (type === 'bigint' || type === 'integer' || type === 'smallint') return 1;
  if (type === 'boolean') return false;
  if (type.startsWith('timestamp') || type === 'date') return new Date();
  if (type === 'jsonb' || type === 'json') return '{}';
  if (type === 'ARRAY') return [];
  return 'x';
}

describe('row-level security', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let app: Database;
  let tables: string[] = [];
  const tenantA = randomUUID();
  const tenantB = randomUUID();

  before(async () => {
    database = await createTestDatabase();
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    app = createDatabase(database.appUrl, createLogger('silent'));
    const { rows } = await admin.query(`
      select c.table_name from information_schema.columns c
        join information_schema.tables t using (table_schema, table_name)
       where c.table_schema = 'public' and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE'`);
    tables = rows.map((r) => r.table_name as string);
    await seed(tenantA);
    await seed(tenantB);
  });
  after(async () => {
    await admin.end();
    await app.close();
    await database.drop();
  });

  /**
   * One row per tenant table for the tenant, parents before children (FK order from the catalog). A row a trigger
   * already wrote (derived tables) is kept.
   */
  async function seed(tenantId: string) {
    const { rows: fks } = await admin.query(`
      select distinct tc.table_name as child, ccu.table_name as parent
        from information_schema.table_constraints tc
        join information_schema.constraint_column_usage ccu using (constraint_schema, constraint_name)
       where tc.constraint_type = 'FOREIGN KEY' and tc.table_schema = 'public'`);
    const done = new Set<string>();
    const visit = async (table: string) => {
      if (done.has(table)) return;
      done.add(table);
      for (const fk of fks.filter((f) => f.child === table && f.parent !== table)) await visit(fk.parent);
      const { rows: columns } = await admin.query(
        `select column_name, data_type, is_nullable, column_default, is_identity
           from information_schema.columns where table_schema = 'public' and table_name = $1 order by ordinal_position`,
        [table],
      );
      const chosen = columns.filter((c) => c.is_nullable === 'NO' || c.column_name === 'tenant_id');
      const names = chosen.map((c) => `"${c.column_name}"`).join(', ');
      const params = chosen.map((_c, i) => `$${i + 1}`).join(', ');
      await admin.query(
        `insert into "${table}" (${names}) overriding system value values (${params}) on conflict do nothing`,
        chosen.map((c) => valueFor(c.column_name, c.data_type, tenantId)),
      );
    };
    for (const table of tables) await visit(table);
  }

  it('finds the tenant tables', () => {
    for (const t of [
      'repositories',
      'commits',
      'commit_files',
      'branches',
      'contributors',
      'contributor_emails',
      'pull_requests',
      'pull_request_participants',
      'webhook_deliveries',
      'audit_log',
    ]) {
      assert.ok(tables.includes(t), t);
    }
  });

  it('has RLS enabled and forced on every table with a tenant_id, with tenant_id first in its primary key', async () => {
    for (const table of tables) {
      const { rows } = await admin.query(
        `select relrowsecurity, relforcerowsecurity,
                (select count(*)::int from pg_policies where schemaname = 'public' and tablename = $1) as policies
           from pg_class where oid = $1::regclass`,
        [table],
      );
      assert.equal(rows[0].relrowsecurity, true, `${table}: RLS enabled`);
      assert.equal(rows[0].relforcerowsecurity, true, `${table}: RLS forced`);
      assert.ok(rows[0].policies > 0, `${table}: has a policy`);
      const { rows: pk } = await admin.query(
        `select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
          where i.indrelid = $1::regclass and i.indisprimary`,
        [table],
      );
      assert.equal(pk[0]?.attname, 'tenant_id', `${table}: tenant_id leads the primary key`);
    }
  });

  it('tenant B sees, updates and deletes none of tenant A’s rows', async () => {
    for (const table of tables) {
      await app.withTenant(tenantB, async (trx) => {
        const seen = await trx(table).count({ n: '*' }).where({ tenant_id: tenantA });
        assert.equal(Number(seen[0]!.n), 0, `${table}: select`);
        const own = await trx(table).count({ n: '*' });
        assert.equal(Number(own[0]!.n), 1, `${table}: B sees exactly its own row`);
        const updated = await trx(table).where({ tenant_id: tenantA }).update({ tenant_id: tenantA });
        assert.equal(updated, 0, `${table}: update`);
        const deleted = await trx(table).where({ tenant_id: tenantA }).del();
        assert.equal(deleted, 0, `${table}: delete`);
      });
      const { rows } = await admin.query(`select count(*)::int as n from "${table}" where tenant_id = $1`, [
        tenantA,
      ]);
      assert.equal(rows[0].n, 1, `${table}: A's row is intact`);
    }
  });

  it('tenant B cannot move its rows to tenant A or write rows for A', async () => {
    for (const table of tables) {
      await assert.rejects(
        app.withTenant(tenantB, (trx) => trx(table).update({ tenant_id: tenantA })),
        /row-level security/,
        `${table}: update into A`,
      );
    }
  });

  it('with no tenant set, every tenant table shows 0 rows', async () => {
    for (const table of tables) {
      const rows = await app.knex(table).count({ n: '*' });
      assert.equal(Number(rows[0]!.n), 0, table);
      const inTx: number = await app.knex.transaction(async (trx) => {
        await trx.raw(`select set_config('app.tenant_id', '', true)`);
        const counted = await trx(table).count({ n: '*' });
        return Number(counted[0]!.n);
      });
      assert.equal(inTx, 0, `${table} (empty setting)`);
    }
  });

  it('the tenant registry is closed outside withSystem; a tenant sees only its own registry row', async () => {
    await admin.query(
      `insert into tenants (id, client_key, base_url, base_api_url, shared_secret_enc, client_info, state)
       values ($1, 'a', 'https://bitbucket.org', 'https://api.bitbucket.org', 'v1:x', '{}', 'installed'),
              ($2, 'b', 'https://bitbucket.org', 'https://api.bitbucket.org', 'v1:x', '{}', 'installed')`,
      [tenantA, tenantB],
    );
    assert.equal((await app.knex('tenants')).length, 0);
    const mine = await app.withTenant(tenantA, (trx) => trx('tenants').select('client_key'));
    assert.deepEqual(mine, [{ client_key: 'a' }]);
    const all = await app.withSystem('test', (trx) => trx('tenants').select('client_key'));
    assert.equal(all.length, 2);
    // System access opens the registry only, never tenant data.
    const commits = await app.withSystem('test', (trx) => trx('commits').count({ n: '*' }));
    assert.equal(Number(commits[0]!.n), 0);
  });

  it('the application role owns nothing and cannot bypass RLS', async () => {
    const { rows } = await admin.query(
      `select rolsuper, rolbypassrls, (select count(*)::int from pg_class where relowner = r.oid) as owned
         from pg_roles r where rolname = 'tally_app'`,
    );
    assert.deepEqual(rows[0], { rolsuper: false, rolbypassrls: false, owned: 0 });
  });
});
