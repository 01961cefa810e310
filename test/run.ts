/**
 * `npm test`: starts one embedded PostgreSQL for the whole run, migrates a template database, and runs every
 * test file with node's test runner. Each file clones its own database from the template (test/support/db.ts).
 * `npm test -- test/some.test.ts` runs only the files given.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, APP_ROLE } from '../src/db/embedded-postgres';
import { migrate } from '../src/db/migrate';
import { createLogger } from '../src/platform/logger';

function findTests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return findTests(full);
    return name.endsWith('.test.ts') || name.endsWith('.test.tsx') ? [full] : [];
  });
}

const requested = process.argv.slice(2);
const files = requested.length > 0 ? requested : findTests('test').sort();
// The data folder lives under the system temp dir: as root, PostgreSQL runs as a user that must be able to enter it.
const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-test-'));
chmodSync(dir, 0o755);
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn');
const db = await startEmbeddedPostgres(dir, logger, { fast: true, database: 'tally_template' });
// As the owner role, like compose's tally_owner (NOSUPERUSER, NOBYPASSRLS): what migrations see is what production sees.
await migrate(db.adminUrl, APP_ROLE);
// Disconnect everything from the template so files can clone it.
const admin = new pg.Client({ connectionString: db.superuserUrl.replace(/\/tally_template$/, '/postgres') });
await admin.connect();
await admin.query(
  `select pg_terminate_backend(pid) from pg_stat_activity where datname = 'tally_template' and pid <> pg_backend_pid()`,
);
await admin.end();

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    ...files,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_ENV: 'test',
      TALLY_TEST_ADMIN_URL: db.superuserUrl,
      TALLY_TEST_OWNER_URL: db.adminUrl,
      TALLY_TEST_APP_URL: db.appUrl,
    },
  },
);
const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
await db.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(code);
