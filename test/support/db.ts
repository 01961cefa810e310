import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  name: string;
  /** Owner (superuser in tests): migrations, fixtures, catalog checks. */
  adminUrl: string;
  /** The restricted application role, as web and worker connect. */
  appUrl: string;
  drop(): Promise<void>;
}

function urls() {
  const admin = process.env.TALLY_TEST_ADMIN_URL;
  const app = process.env.TALLY_TEST_APP_URL;
  if (!admin || !app)
    throw new Error('Run tests with `npm test` (it starts PostgreSQL and sets TALLY_TEST_*_URL).');
  return { admin, app };
}

const withDb = (url: string, name: string) => url.replace(/\/[^/]+$/, `/${name}`);

/** A fresh, migrated database cloned from the run's template; drop() removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = urls();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: withDb(base.admin, 'postgres') });
  await client.connect();
  await client.query(`create database "${name}" template tally_template`);
  await client.end();
  return {
    name,
    adminUrl: withDb(base.admin, name),
    appUrl: withDb(base.app, name),
    async drop() {
      const c = new pg.Client({ connectionString: withDb(base.admin, 'postgres') });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}
