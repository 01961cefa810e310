import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parseConfig } from '../../src/config/config';
import { createDatabase } from '../../src/db/database';
import { jobDeps } from '../../src/main/worker';
import { createLogger } from '../../src/platform/logger';
import { apiClient } from '../analytics/helpers';
import { startTestApp, type TestApp } from '../support/app';
import { install, newWorkspace } from '../support/bitbucket';

/**
 * Issue 13: the application's connections carry a statement_timeout (short: API requests); jobs set a longer one
 * with SET LOCAL in their own transactions; a request whose statement is cancelled answers 503 query_timeout.
 */
describe('statement timeouts', () => {
  let app: TestApp;
  const ws = newWorkspace('slow');
  before(async () => {
    app = await startTestApp({ env: { STATEMENT_TIMEOUT_MS: '300', JOB_STATEMENT_TIMEOUT_MS: '45000' } });
    assert.equal((await install(app, ws)).status, 204);
  });
  after(() => app.close());

  const setting = async (db: ReturnType<typeof createDatabase>) =>
    (await db.withSystem('test', (trx) => trx.raw('show statement_timeout'))).rows[0]
      .statement_timeout as string;

  it('defaults: 5 s for the web role, 10 minutes for jobs; nonsense is refused at start-up', () => {
    const parsed = parseConfig({ NODE_ENV: 'development' });
    assert.ok(parsed.ok);
    assert.equal(parsed.config.statementTimeoutMs, 5000);
    assert.equal(parsed.config.jobStatementTimeoutMs, 600_000);
    for (const value of ['0', '-5', 'soon', '1e12'])
      assert.equal(parseConfig({ STATEMENT_TIMEOUT_MS: value }).ok, false);
  });

  it('the pool default is the short one; jobs and long requests set theirs for their transaction only', async () => {
    assert.equal(await setting(app.runtime.db), '300ms');
    assert.equal(await setting(jobDeps(app.runtime).db), '45s');
    // One connection: a transaction's own timeout does not leak to the next user of the connection.
    const one = createDatabase(app.database.appUrl, createLogger('silent'), 1, { statementTimeoutMs: 300 });
    try {
      assert.equal(await setting(one.withStatementTimeout(60_000)), '1min');
      assert.equal(await setting(one), '300ms');
      await assert.rejects(
        one.withSystem('test', (trx) => trx.raw('select pg_sleep(0.6)')),
        (error: { code?: string }) => error.code === '57014',
      );
      await one.withStatementTimeout(5000).withSystem('test', (trx) => trx.raw('select pg_sleep(0.6)'));
      // Even outside a transaction, the connection's default holds.
      await assert.rejects(
        one.knex.raw('select pg_sleep(0.6)'),
        (error: { code?: string }) => error.code === '57014',
      );
    } finally {
      await one.close();
    }
  });

  it('an API request whose statement runs too long answers 503 query_timeout, and the next one works', async () => {
    const api = apiClient(app.url, ws);
    const admin = new pg.Client({ connectionString: app.database.adminUrl });
    await admin.connect();
    try {
      // Holding a lock makes the request's statement wait past the timeout: the same as a slow query.
      await admin.query('begin');
      await admin.query('lock table tenant_settings in access exclusive mode');
      const res = await api.get('/settings');
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 503);
      assert.equal(body.error.code, 'query_timeout');
      await admin.query('rollback');
      assert.equal((await api.get('/settings')).status, 200);
    } finally {
      await admin.end();
    }
    assert.ok(!app.logs.some((line) => line.includes('"request failed"')), 'not logged as a fault of Tally');
  });
});
