import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * pg_dump and pg_restore of the server's major version. pg_dump refuses a server newer than itself, and an
 * archive written by a newer pg_dump may not restore with an older pg_restore, so backup and restore use the
 * client of exactly the server's major. Where it is looked for, first match wins:
 * 1. the explicit path (PG_DUMP_PATH / PG_RESTORE_PATH), which must be that major: no silent fallback;
 * 2. Debian's per-major directory, /usr/lib/postgresql/<major>/bin (package postgresql-client-<major>);
 * 3. every directory on PATH.
 */

export type PgTool = 'pg_dump' | 'pg_restore';

export class PgToolMissing extends Error {}

export interface FindPgToolOptions {
  /** PG_DUMP_PATH or PG_RESTORE_PATH. */
  explicit?: string;
  /** Where Debian installs each major's binaries. */
  debianRoot?: string;
  /** Defaults to process.env.PATH. */
  searchPath?: string;
}

const run = promisify(execFile);

/** The server's major version (15 for 15.18, 10 and up). */
export async function serverMajor(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('show server_version_num');
    return Math.floor(Number(rows[0].server_version_num) / 10000);
  } finally {
    await client.end();
  }
}

/** The major version a binary reports (`pg_dump (PostgreSQL) 15.18 (Debian …)` → 15), or null if it cannot run. */
export async function toolMajor(file: string): Promise<number | null> {
  try {
    const { stdout } = await run(file, ['--version'], { timeout: 10_000 });
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

const executable = (file: string) =>
  access(file, constants.X_OK).then(
    () => true,
    () => false,
  );

/** The path of `tool` for a server of major `major`, or PgToolMissing naming both versions and the package. */
export async function findPgTool(
  tool: PgTool,
  major: number,
  options: FindPgToolOptions = {},
): Promise<string> {
  const install = `install postgresql-client-${major} (Debian/Ubuntu; apt.postgresql.org has every supported major)`;
  const variable = tool === 'pg_dump' ? 'PG_DUMP_PATH' : 'PG_RESTORE_PATH';
  if (options.explicit) {
    const found = await toolMajor(options.explicit);
    if (found === major) return options.explicit;
    throw new PgToolMissing(
      `${variable}=${options.explicit} is ${found === null ? 'not a working ' + tool : `${tool} ${found}`}, ` +
        `but the server is PostgreSQL ${major}: point it at a ${tool} ${major}, or ${install}`,
    );
  }
  const candidates = [
    path.join(options.debianRoot ?? '/usr/lib/postgresql', String(major), 'bin', tool),
    ...(options.searchPath ?? process.env.PATH ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((dir) => path.join(dir, tool)),
  ];
  const seen: string[] = [];
  for (const file of candidates) {
    if (!(await executable(file))) continue;
    const found = await toolMajor(file);
    if (found === major) return file;
    seen.push(`${tool} ${found ?? '?'} at ${file}`);
  }
  throw new PgToolMissing(
    `the server is PostgreSQL ${major} but no ${tool} ${major} was found ` +
      `(${seen.length ? `found ${seen.join(', ')}` : `none on PATH`}): ${install}, or set ${variable}`,
  );
}
