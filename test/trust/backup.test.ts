import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDatabase } from '../../src/db/database';
import { APP_ROLE } from '../../src/db/embedded-postgres';
import { enqueueJob } from '../../src/db/job-queue';
import { migrate } from '../../src/db/migrate';
import { erasePerson } from '../../src/db/personal-data-store';
import { deleteAllTenantData, purgeExpiredTenants } from '../../src/db/tenant-purge';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { findEverywhere, insertTenantRow, newPerson, seedTenant, tenantRowCounts } from './fixtures';

function cli(script: 'backup' | 'restore', file: string, env: Record<string, string>, args: string[] = []) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', `src/main/${script}.ts`, file, ...args],
      { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Row count and an md5 over the ordered rows of every table outside PostgreSQL's own schemas. */
async function fingerprint(url: string): Promise<Record<string, { rows: number; md5: string }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query(`
      select n.nspname as schema, c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
         and n.nspname not like 'pg\\_%' order by 1, 2`);
    const result: Record<string, { rows: number; md5: string }> = {};
    for (const { schema, table } of tables) {
      const name = `"${schema}"."${table}"`;
      const { rows } = await client.query(
        `select count(*)::int as rows, coalesce(md5(string_agg(t::text, E'\\n' order by t::text)), '') as md5
           from ${name} t`,
      );
      result[`${schema}.${table}`] = rows[0];
    }
    return result;
  } finally {
    await client.end();
  }
}

describe('encrypted backup and restore', () => {
  let source: TestDatabase;
  let dir: string;
  const key = randomBytes(32).toString('hex');
  const marker = `Plaintext marker ${randomUUID()}`;
  const created: string[] = [];
  let adminBase: string;

  /** A new, empty database in the same cluster (roles are cluster-wide, as in production). */
  async function emptyDatabase(): Promise<string> {
    const name = `restore_${randomBytes(5).toString('hex')}`;
    const client = new pg.Client({ connectionString: adminBase.replace(/\/[^/]+$/, '/postgres') });
    await client.connect();
    await client.query(`create database "${name}"`);
    await client.end();
    created.push(name);
    return adminBase.replace(/\/[^/]+$/, `/${name}`);
  }

  /** Restores `file` into a new empty database, with the source's ledger, as the runbook does. */
  async function restoreFresh(file: string) {
    const target = await emptyDatabase();
    const restore = await cli('restore', file, {
      DATABASE_ADMIN_URL: target,
      BACKUP_ENCRYPTION_KEY: key,
      LEDGER_SOURCE_URL: source.adminUrl,
    });
    assert.equal(restore.code, 0, restore.stderr);
    return { target, restore };
  }

  before(async () => {
    source = await createTestDatabase();
    adminBase = source.adminUrl;
    dir = mkdtempSync(path.join(os.tmpdir(), 'tally-backup-test-'));
    const db = createDatabase(source.appUrl, createLogger('silent'));
    const tenantId = randomUUID();
    await insertTenantRow(source.adminUrl, tenantId, { note: marker });
    await seedTenant(db, tenantId, [newPerson('Logan Howlett'), newPerson('Hank McCoy')], {
      commitsPerPerson: 25,
    });
    await db.withTenant(tenantId, (trx) => enqueueJob(trx, 'backfill_repository', { tenantId }));
    await db.close();
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: adminBase.replace(/\/[^/]+$/, '/postgres') });
    await client.connect();
    for (const name of created) await client.query(`drop database if exists "${name}" with (force)`);
    await client.end();
    await source.drop();
  });

  it('round trip: every table’s row count and checksum are identical after restore into an empty database', async () => {
    const file = path.join(dir, 'tally.backup');
    const backup = await cli('backup', file, {
      DATABASE_ADMIN_URL: source.adminUrl,
      BACKUP_ENCRYPTION_KEY: key,
    });
    assert.equal(backup.code, 0, backup.stderr);
    const bytes = readFileSync(file);
    assert.equal(bytes.subarray(0, 7).toString(), 'TALLYBK');
    assert.equal(bytes.includes(Buffer.from(marker)), false, 'encrypted: no plaintext in the file');
    assert.equal(bytes.includes(Buffer.from('PGDMP')), false, 'not a bare pg_dump file');

    const { target } = await restoreFresh(file);

    const before = await fingerprint(source.adminUrl);
    const after = await fingerprint(target);
    assert.ok(Object.keys(before).length > 15, 'many tables compared');
    assert.ok(before['public.commits']!.rows === 50 && before['graphile_worker._private_jobs']!.rows === 1);
    assert.deepEqual(after, before);
  });

  it('refuses to restore into a database that is not empty, and changes nothing there', async () => {
    const file = path.join(dir, 'tally.backup');
    const before = await fingerprint(source.adminUrl);
    const out = await cli('restore', file, {
      DATABASE_ADMIN_URL: source.adminUrl,
      BACKUP_ENCRYPTION_KEY: key,
      LEDGER_SOURCE_URL: source.adminUrl,
    });
    assert.equal(out.code, 3);
    assert.match(out.stderr, /Restore refused: the target database is not empty/);
    assert.deepEqual(await fingerprint(source.adminUrl), before);
  });

  it('a tampered file or the wrong key restores nothing', async () => {
    const file = path.join(dir, 'tally.backup');
    const tampered = path.join(dir, 'tampered.backup');
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(tampered, bytes);
    for (const [name, keyUsed] of [
      [tampered, key],
      [file, randomBytes(32).toString('hex')],
    ] as const) {
      const target = await emptyDatabase();
      const out = await cli('restore', name, { DATABASE_ADMIN_URL: target, BACKUP_ENCRYPTION_KEY: keyUsed }, [
        '--without-ledger',
      ]);
      assert.equal(out.code, 1);
      assert.match(out.stderr, /corrupt or was encrypted with another key/);
      assert.deepEqual(await fingerprint(target), {}, 'the target stays empty');
    }
  });

  it('a restore re-applies every erasure and purge made after the backup, from a ledger of hashes', async () => {
    const db = createDatabase(source.appUrl, createLogger('silent'));
    const admin = new pg.Client({ connectionString: source.adminUrl });
    await admin.connect();
    try {
      const [kept, purged, wiped] = [randomUUID(), randomUUID(), randomUUID()];
      const alice = newPerson('Alice Ledger');
      const bob = newPerson('Bob Ledger');
      const early = newPerson('Early Erased');
      for (const tenantId of [kept, purged, wiped]) await insertTenantRow(source.adminUrl, tenantId);
      await seedTenant(db, kept, [alice, bob, early]);
      await seedTenant(db, purged, [bob]);
      await seedTenant(db, wiped, [bob]);
      // Erased before the backup: the backup's own ledger has it, so the restore leaves it alone.
      await erasePerson(db, kept, { email: early.email }, 'support:tester', new Date());
      const file = path.join(dir, 'ledger.backup');
      const backup = await cli('backup', file, {
        DATABASE_ADMIN_URL: source.adminUrl,
        BACKUP_ENCRYPTION_KEY: key,
      });
      assert.equal(backup.code, 0, backup.stderr);

      // After the backup: an erasure, a retention purge and an admin's "delete all data".
      await erasePerson(db, kept, { accountId: alice.accountId }, 'support:tester', new Date());
      await admin.query(
        `update tenants set state = 'uninstalled', uninstalled_at = now() - interval '61 days',
                delete_after = now() - interval '1 day' where id = $1`,
        [purged],
      );
      assert.deepEqual(
        (await purgeExpiredTenants(db, new Date(), createLogger('silent'))).map((p) => p.tenantId),
        [purged],
      );
      await deleteAllTenantData(db, wiped, 'user:admin', new Date());
      const { rows: ledger } = await admin.query(`select * from deletion_ledger order by at`);
      assert.deepEqual(
        ledger.map((e) => e.action),
        ['person.erased', 'person.erased', 'tenant.purged', 'tenant.data_deleted'],
      );
      const plain = JSON.stringify(ledger).toLowerCase();
      for (const secret of [
        alice.email,
        alice.accountId,
        alice.uuid.slice(1, -1),
        early.email,
        kept,
        purged,
        wiped,
      ])
        assert.equal(plain.includes(secret.toLowerCase()), false, `the ledger names no one: ${secret}`);

      const { target, restore } = await restoreFresh(file);
      assert.match(restore.stdout, /re-applied 3 deletion\(s\) made after the backup/);

      const restored = new pg.Client({ connectionString: target });
      await restored.connect();
      try {
        assert.deepEqual(
          await findEverywhere(restored, [alice.email, alice.name, alice.accountId, early.email]),
          [],
        );
        const counts = async (tenantId: string) => {
          const out: Record<string, number> = {};
          for (const [table, n] of Object.entries(await tenantRowCounts(target, tenantId)))
            if (n) out[table] = n;
          return out;
        };
        assert.deepEqual(await counts(purged), {}, 'the purged tenant stays gone');
        assert.equal((await restored.query(`select 1 from tenants where id = $1`, [purged])).rowCount, 0);
        assert.deepEqual(await counts(wiped), { audit_log: 1 }, 'only the deletion’s own audit entry');
        assert.equal((await restored.query(`select 1 from tenants where id = $1`, [wiped])).rowCount, 1);
        const { rows: bobs } = await restored.query(
          `select count(*)::int as n from commits where tenant_id = $1 and author_email = $2`,
          [kept, bob.email],
        );
        assert.equal(bobs[0].n, 3, 'everyone else is still there');
        const { rows: replayed } = await restored.query(
          `select count(*)::int as n from audit_log where tenant_id = $1 and actor = 'system:restore'`,
          [kept],
        );
        assert.equal(replayed[0].n, 1, 'the erasure before the backup is not applied again');
        const { rows: ids } = await restored.query(`select id from deletion_ledger order by id`);
        assert.deepEqual(
          ids.map((r) => r.id),
          ledger.map((e) => e.id).sort(),
          'the restored ledger has every entry, with the same ids',
        );
      } finally {
        await restored.end();
      }
    } finally {
      await admin.end();
      await db.close();
    }
  });

  it('a backup from before the ledger existed is migrated, then the later erasure re-applied', async () => {
    const old = await createTestDatabase();
    const db = createDatabase(old.appUrl, createLogger('silent'));
    const admin = new pg.Client({ connectionString: old.adminUrl });
    await admin.connect();
    try {
      const tenantId = randomUUID();
      const carol = newPerson('Carol Before');
      await insertTenantRow(old.adminUrl, tenantId);
      await seedTenant(db, tenantId, [carol, newPerson('Dan Before')]);
      // The schema as it was before the ledger's migration.
      await admin.query(`drop table deletion_ledger`);
      await admin.query(`delete from knex_migrations where name like '%deletion_ledger%'`);
      const file = path.join(dir, 'before-ledger.backup');
      const backup = await cli('backup', file, {
        DATABASE_ADMIN_URL: old.adminUrl,
        BACKUP_ENCRYPTION_KEY: key,
      });
      assert.equal(backup.code, 0, backup.stderr);
      // The code is upgraded (the ledger appears), then the person is erased.
      await migrate(old.ownerUrl, APP_ROLE);
      await erasePerson(db, tenantId, { email: carol.email }, 'support:tester', new Date());

      const target = await emptyDatabase();
      const restore = await cli('restore', file, {
        DATABASE_ADMIN_URL: target,
        BACKUP_ENCRYPTION_KEY: key,
        LEDGER_SOURCE_URL: old.adminUrl,
      });
      assert.equal(restore.code, 0, restore.stderr);
      assert.match(restore.stdout, /re-applied 1 deletion/);
      const restored = new pg.Client({ connectionString: target });
      await restored.connect();
      try {
        assert.deepEqual(await findEverywhere(restored, [carol.email, carol.name, carol.accountId]), []);
      } finally {
        await restored.end();
      }
    } finally {
      await admin.end();
      await db.close();
      await old.drop();
    }
  });

  it('refuses a pg_dump of another major, naming both versions and the package', async () => {
    const standIn = path.join(dir, 'pg_dump');
    writeFileSync(standIn, '#!/bin/sh\necho "pg_dump (PostgreSQL) 18.1"\n', { mode: 0o755 });
    const file = path.join(dir, 'other-major.backup');
    const out = await cli('backup', file, {
      DATABASE_ADMIN_URL: source.adminUrl,
      BACKUP_ENCRYPTION_KEY: key,
      PG_DUMP_PATH: standIn,
    });
    assert.equal(out.code, 1);
    assert.match(out.stderr, /PG_DUMP_PATH=.* is pg_dump 18, but the server is PostgreSQL 15/);
    assert.match(out.stderr, /postgresql-client-15/);
    assert.equal(existsSync(file) || existsSync(`${file}.partial`), false, 'nothing written');
  });

  it('needs a key and a file', async () => {
    const out = await cli('backup', '', { DATABASE_ADMIN_URL: source.adminUrl });
    assert.equal(out.code, 2);
    assert.match(out.stderr, /BACKUP_ENCRYPTION_KEY/);
  });
});
