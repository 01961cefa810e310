import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { decryptStream, encryptStream } from '../platform/encrypted-stream';
import { createLogger } from '../platform/logger';
import { createDatabase, createKnex } from './database';
import type { LedgerEntry } from './deletion-ledger';
import { replayLedger } from './ledger-replay';
import { MIGRATIONS } from './migrate';
import { findPgTool, serverMajor } from './pg-tools';
import { ensureSupportRole } from './support-access';

/** Explicit pg_dump / pg_restore binaries (PG_DUMP_PATH, PG_RESTORE_PATH); otherwise found by pg-tools.ts. */
export interface PgToolPaths {
  pgDump?: string;
  pgRestore?: string;
}

/**
 * Encrypted logical backups with pg_dump/pg_restore (custom format) of the server's major version (pg-tools.ts).
 * The role in the URL must read every row: a superuser, or a role with BYPASSRLS (e.g. pg_read_all_data + BYPASSRLS);
 * pg_dump refuses to dump a table whose row-level security would hide rows from it.
 */

/** libpq settings from a URL, the password passed in the environment rather than on the command line. */
function libpq(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return {
    dbname: parsed.toString(),
    env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' },
  };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`${command} could not start: ${error.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} failed (exit ${code}): ${stderr.trim()}`)),
    );
  });
  return { child, exited };
}

/** Dumps the database to `file`, encrypted; written under a temporary name and renamed when complete. */
export async function backupDatabase(
  adminUrl: string,
  file: string,
  key: Buffer,
  tools: PgToolPaths = {},
): Promise<void> {
  const pgDump = await findPgTool('pg_dump', await serverMajor(adminUrl), { explicit: tools.pgDump });
  const { dbname, env } = libpq(adminUrl);
  const partial = `${file}.partial`;
  const dump = run(pgDump, ['--format=custom', '--no-password', `--dbname=${dbname}`], env);
  try {
    await Promise.all([
      pipeline(dump.child.stdout, encryptStream(key), createWriteStream(partial, { mode: 0o600 })),
      dump.exited,
    ]);
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

export class RestoreRefused extends Error {}

/** Relations (tables, views, sequences…) outside PostgreSQL's own schemas: a restore target must have none. */
export async function userRelationCount(adminUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`
      select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'`);
    return rows[0].n as number;
  } finally {
    await client.end();
  }
}

/**
 * Restores `file` into the empty database at adminUrl, in one transaction (all or nothing).
 * The backup is decrypted to a private scratch file first and restored only once its tag checks out.
 * Then every deletion of `ledger` that the backup does not know (made after it) is applied again.
 */
export async function restoreDatabase(
  adminUrl: string,
  file: string,
  key: Buffer,
  tools: PgToolPaths = {},
  /** The live deletion ledger, read before the restore: entries the backup lacks are re-applied. */
  ledger: LedgerEntry[] = [],
  now = new Date(),
): Promise<{ reapplied: LedgerEntry[] }> {
  const existing = await userRelationCount(adminUrl);
  if (existing > 0)
    throw new RestoreRefused(
      `the target database is not empty (${existing} relations): restore only into an empty one`,
    );
  const pgRestore = await findPgTool('pg_restore', await serverMajor(adminUrl), {
    explicit: tools.pgRestore,
  });
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'tally-restore-'));
  try {
    const plain = path.join(scratch, 'dump');
    await pipeline(createReadStream(file), decryptStream(key), createWriteStream(plain, { mode: 0o600 }));
    // Roles live in the cluster, not in the dump; the support role is Tally's own, so it is created here if missing.
    const knex = createKnex(adminUrl, 1);
    try {
      await ensureSupportRole(knex);
    } finally {
      await knex.destroy();
    }
    const { dbname, env } = libpq(adminUrl);
    const restore = run(
      pgRestore,
      ['--exit-on-error', '--single-transaction', '--no-password', `--dbname=${dbname}`, plain],
      env,
    );
    restore.child.stdout.resume();
    await restore.exited;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  // A backup older than this code (one without the ledger table, say) is brought up to the current schema first,
  // so the replay finds what it needs; grants follow with `npm run migrate`, as after every restore.
  const owner = createKnex(adminUrl, 1);
  try {
    await owner.migrate.latest(MIGRATIONS);
  } finally {
    await owner.destroy();
  }
  const db = createDatabase(adminUrl, createLogger('silent'), 2);
  try {
    return { reapplied: await replayLedger(db, ledger, now) };
  } finally {
    await db.close();
  }
}
