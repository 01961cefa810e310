import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { scrubSecrets } from '../../src/platform/monitoring';
import { SecretBox } from '../../src/platform/secret-box';
import { startTestApp, type TestApp } from '../support/app';
import { install, installPayload, lifecycleJwt, newWorkspace, pageUrl, postJson } from '../support/bitbucket';

describe('shared secrets', () => {
  let app: TestApp;
  const ws = newWorkspace();
  before(async () => {
    app = await startTestApp();
    await install(app.url, ws);
    await install(app.url, ws, ws.sharedSecret);
    await fetch(pageUrl(app.url, '/pages/configure', ws));
    await postJson(
      `${app.url}/webhooks/repo-push`,
      { event: 'repo:push', data: {} },
      {
        authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/webhooks/repo-push')}`,
      },
    );
    await postJson(
      `${app.url}/uninstalled`,
      { ...installPayload(ws), eventType: 'uninstalled' },
      {
        authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/uninstalled')}`,
      },
    );
  });
  after(() => app.close());

  it('never appear in plaintext anywhere in the database', async () => {
    const client = new pg.Client({ connectionString: app.database.adminUrl });
    await client.connect();
    try {
      const { rows: columns } = await client.query(`
        select table_schema, table_name, column_name from information_schema.columns
         where table_schema in ('public', 'graphile_worker')
           and data_type in ('text', 'jsonb', 'json', 'character varying', 'ARRAY')`);
      assert.ok(columns.length > 10);
      for (const c of columns) {
        const { rows } = await client.query(
          `select count(*)::int as n from "${c.table_schema}"."${c.table_name}" where "${c.column_name}"::text like $1`,
          [`%${ws.sharedSecret}%`],
        );
        assert.equal(rows[0].n, 0, `${c.table_name}.${c.column_name}`);
      }
      const { rows } = await client.query('select shared_secret_enc from tenants where client_key = $1', [
        ws.clientKey,
      ]);
      assert.match(rows[0].shared_secret_enc, /^v1:/);
    } finally {
      await client.end();
    }
  });

  it('never appear in the logs, nor do the JWTs', () => {
    const all = app.logs.join('\n');
    assert.ok(all.includes('install accepted'), 'lifecycle events are logged');
    assert.ok(
      all.includes('"url":"/pages/configure?jwt=[redacted]"'),
      'requests are logged with the jwt redacted',
    );
    assert.ok(!all.includes(ws.sharedSecret));
    assert.ok(!/JWT ey/.test(all));
    assert.ok(!/jwt=ey/.test(all));
  });

  it('seals with AES-256-GCM bound to the client key', () => {
    const box = new SecretBox(Buffer.alloc(32, 7));
    const sealed = box.seal('s3cret', 'client-a');
    assert.equal(box.open(sealed, 'client-a'), 's3cret');
    assert.throws(() => box.open(sealed, 'client-b'));
    assert.throws(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed, 'client-a'));
  });

  it('scrubs secrets from error reports', () => {
    const event = scrubSecrets({
      request: { headers: { Authorization: 'JWT abc' }, url: 'https://t/pages/x?jwt=abc.def&a=1' },
      extra: { body: { sharedSecret: 'zzz', clientKey: 'k' } },
    });
    assert.deepEqual(event, {
      request: { headers: { Authorization: '[redacted]' }, url: 'https://t/pages/x?jwt=[redacted]&a=1' },
      extra: { body: { sharedSecret: '[redacted]', clientKey: 'k' } },
    });
  });
});
