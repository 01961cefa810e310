import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { OWNER_ROLE } from '../../src/db/embedded-postgres';

export interface TestDatabase {
  name: string;
  /** The superuser: fixtures and catalog checks (the template was migrated by the owner role). */
  adminUrl: string;
  /** The owner role, like compose's tally_owner (NOSUPERUSER, NOBYPASSRLS): owns the schema, runs migrations. */
  ownerUrl: string;
  /** The restricted application role, as web and worker connect. */
  appUrl: string;
  drop(): Promise<void>;
}

function urls() {
  const admin = process.env.TALLY_TEST_ADMIN_URL;
  const owner = process.env.TALLY_TEST_OWNER_URL;
  const app = process.env.TALLY_TEST_APP_URL;
  if (!admin || !owner || !app)
    throw new Error('Run tests with `npm test` (it starts PostgreSQL and sets TALLY_TEST_*_URL).');
  return { admin, owner, app };
}

const withDb = (url: string, name: string) => url.replace(/\/[^/]+$/, `/${name}`);

/** A fresh, migrated database cloned from the run's template; drop() removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = urls();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: withDb(base.admin, 'postgres') });
  await client.connect();
  // Owned by the owner role, as in compose (which makes it the owner of the public schema too).
  await client.query(`create database "${name}" template tally_template owner ${OWNER_ROLE}`);
  await client.end();
  return {
    name,
    adminUrl: withDb(base.admin, name),
    ownerUrl: withDb(base.owner, name),
    appUrl: withDb(base.app, name),
    async drop() {
      const c = new pg.Client({ connectionString: withDb(base.admin, 'postgres') });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}
