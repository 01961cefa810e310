import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ERASURE_COLUMNS } from '../../src/db/personal-data-columns';
import { createTestDatabase, type TestDatabase } from '../support/db';

/**
 * Erasure rewrites only the columns src/db/personal-data-columns.ts calls personal. This reads the catalog, so a
 * text, json or text[] column added to a tenant table (or to the registry) without being classified there fails
 * here without anyone editing the test.
 */
describe('erasure column classification', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let catalog: { table: string; column: string }[];

  before(async () => {
    database = await createTestDatabase();
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    const { rows } = await admin.query(`
      select c.relname as table, a.attname as column
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
         and (c.relname = 'tenants' or exists (select 1 from pg_attribute t
               where t.attrelid = c.oid and t.attname = 'tenant_id' and not t.attisdropped))
         and (select coalesce(e.typname, b.typname) from pg_type b left join pg_type e on e.oid = b.typelem
               where b.oid = a.atttypid) in ('text', 'varchar', 'bpchar', 'json', 'jsonb', 'citext', 'name')
       order by 1, 2`);
    catalog = rows;
  });
  after(async () => {
    await admin.end();
    await database.drop();
  });

  it('classifies every text, json and text[] column of every tenant table and of the registry', () => {
    assert.ok(catalog.length > 60, 'reads many columns');
    const unclassified = catalog
      .filter(({ table, column }) => ERASURE_COLUMNS[table]?.[column] === undefined)
      .map(({ table, column }) => `${table}.${column}`);
    assert.deepEqual(
      unclassified,
      [],
      'add these to src/db/personal-data-columns.ts, personal or structural',
    );
  });

  it('lists no column that does not exist', () => {
    const present = new Set(catalog.map(({ table, column }) => `${table}.${column}`));
    const stale = Object.entries(ERASURE_COLUMNS)
      .flatMap(([table, columns]) => Object.keys(columns).map((column) => `${table}.${column}`))
      .filter((name) => !present.has(name));
    assert.deepEqual(stale, []);
  });

  it('calls no check-constrained or key column personal, and every classification says why', async () => {
    const { rows } = await admin.query(`
      select c.relname as table, a.attname as column, k.contype as type
        from pg_constraint k join pg_class c on c.oid = k.conrelid
        join pg_attribute a on a.attrelid = c.oid and a.attnum = any(k.conkey)
       where c.relnamespace = 'public'::regnamespace and k.contype in ('c', 'f')`);
    const personal = rows
      .filter(({ table, column }) => ERASURE_COLUMNS[table]?.[column]?.personal)
      .map(({ table, column, type }) => `${table}.${column} (${type === 'c' ? 'check' : 'foreign key'})`);
    assert.deepEqual(personal, []);
    for (const columns of Object.values(ERASURE_COLUMNS))
      for (const c of Object.values(columns)) assert.ok(c.why.length > 5);
  });
});
