import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/config';
import { createDatabase } from '../../src/db/database';
import { assertRestrictedRole } from '../../src/db/migrate';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase } from '../support/db';

describe('configuration', () => {
  it('production reports every missing or unsafe setting at once', () => {
    const result = parseConfig({
      NODE_ENV: 'production',
      BASE_URL: 'http://tally.example.com',
      BITBUCKET_ALLOWED_HOSTS: '127.0.0.1',
      TALLY_ENCRYPTION_KEY: 'short',
    });
    assert.equal(result.ok, false);
    const text = result.ok ? '' : result.problems.join('\n');
    for (const key of [
      'PORT',
      'DATABASE_URL',
      'BASE_URL',
      'BITBUCKET_ALLOWED_HOSTS',
      'TALLY_ENCRYPTION_KEY',
    ]) {
      assert.match(text, new RegExp(key));
    }
  });

  it('accepts a complete production configuration', () => {
    const result = parseConfig({
      NODE_ENV: 'production',
      PORT: '8080',
      BASE_URL: 'https://tally.example.com/',
      DATABASE_URL: 'postgres://tally_app:pw@db/tally',
      TALLY_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    assert.ok(result.ok);
    assert.equal(result.config.baseUrl, 'https://tally.example.com');
    assert.deepEqual(result.config.bitbucketAllowedHosts, ['bitbucket.org', 'api.bitbucket.org']);
    assert.equal(result.config.requestsPerHour, 950);
  });

  it('TALLY_ENCRYPTION_KEY takes a comma-separated key ring, sealing key first', () => {
    const [a, b] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    const ring = parseConfig({ TALLY_ENCRYPTION_KEY: ` ${a.toString('hex')} , ${b.toString('base64')} ` });
    assert.ok(ring.ok);
    assert.deepEqual(ring.config.encryptionKeys, [a, b]);
    const bad = parseConfig({
      TALLY_ENCRYPTION_KEY: `${a.toString('hex')},not-a-key,${a.toString('base64')}`,
    });
    assert.equal(bad.ok, false);
    const text = bad.ok ? '' : bad.problems.join('\n');
    assert.match(text, /key 2 of 3 must be 32 bytes/);
    assert.match(text, /a key is listed twice/);
    assert.ok(!text.includes(a.toString('hex')) && !text.includes('not-a-key'), 'keys are never echoed');
  });

  it('the server prints the problems and exits 1', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main/server.ts'], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: 'eighty' },
      encoding: 'utf8',
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /PORT/);
    assert.match(run.stderr, /DATABASE_URL/);
  });

  it('start-up refuses a database role that could bypass row-level security', async () => {
    const database = await createTestDatabase();
    const owner = createDatabase(database.adminUrl, createLogger('silent'));
    const app = createDatabase(database.appUrl, createLogger('silent'));
    try {
      await assert.rejects(assertRestrictedRole(owner.knex), /superuser/);
      await assertRestrictedRole(app.knex);
    } finally {
      await owner.close();
      await app.close();
      await database.drop();
    }
  });
});
