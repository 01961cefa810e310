import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { scrubSecrets } from '../../src/platform/monitoring';
import { keyIdOf, SecretBox, UnreadableSecretError } from '../../src/platform/secret-box';
import { startTestApp, type TestApp } from '../support/app';
import { install, installPayload, lifecycleJwt, newWorkspace, pageUrl, postJson } from '../support/bitbucket';

describe('shared secrets', () => {
  let app: TestApp;
  const ws = newWorkspace();
  before(async () => {
    app = await startTestApp();
    await install(app, ws);
    await install(app, ws, ws.sharedSecret);
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
      assert.match(rows[0].shared_secret_enc, new RegExp(`^v2:${app.runtime.box.keyId}:`));
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
    const box = new SecretBox([Buffer.alloc(32, 7)]);
    const sealed = box.seal('s3cret', 'client-a');
    assert.equal(box.open(sealed, 'client-a'), 's3cret');
    assert.throws(() => box.open(sealed, 'client-b'), UnreadableSecretError);
    assert.throws(() => new SecretBox([Buffer.alloc(32, 8)]).open(sealed, 'client-a'), UnreadableSecretError);
  });

  it('keeps a key ring: the first key seals, every key opens, the key id is in the value', () => {
    const [older, newer, stranger] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3)];
    const byOld = new SecretBox([older]).seal('s3cret', 'client-a');
    const ring = new SecretBox([newer, older]);
    assert.match(byOld, new RegExp(`^v2:${keyIdOf(older)}:`));
    assert.equal(ring.open(byOld, 'client-a'), 's3cret');
    assert.equal(ring.isCurrent(byOld), false);
    const byNew = ring.seal('s3cret', 'client-a');
    assert.match(byNew, new RegExp(`^v2:${ring.keyId}:`));
    assert.equal(ring.isCurrent(byNew), true);
    assert.equal(new SecretBox([newer]).open(byNew, 'client-a'), 's3cret');
    assert.throws(
      () => new SecretBox([stranger, older]).open(byNew, 'client-a'),
      (error: unknown) => {
        assert.ok(error instanceof UnreadableSecretError);
        assert.equal(error.keyId, keyIdOf(newer));
        return true;
      },
    );
    // The id names a key without giving any of it away: a one-way digest, not a slice of the key.
    assert.match(keyIdOf(newer), /^[0-9a-f]{16}$/);
    assert.ok(!newer.toString('hex').includes(keyIdOf(newer)));
    assert.notEqual(keyIdOf(newer), keyIdOf(older));
  });

  it('opens values sealed before the key ring (no key id) with whichever key sealed them', () => {
    // Written by the secret box of earlier releases under the key 0x07 × 32; existing databases hold such values.
    const legacy = 'v1:YJ79CEBrzuomYI/gVlf3+9vCoaESQ3wh0ZPrv4ci30kIIV18I5SJyuAFyb5mCcP/';
    const ring = new SecretBox([Buffer.alloc(32, 9), Buffer.alloc(32, 7)]);
    assert.equal(ring.open(legacy, 'client-a'), 'legacy-shared-secret');
    assert.equal(ring.isCurrent(legacy), false);
    assert.throws(() => new SecretBox([Buffer.alloc(32, 9)]).open(legacy, 'client-a'), UnreadableSecretError);
    assert.throws(() => ring.open('v0:garbage', 'client-a'), UnreadableSecretError);
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
