import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as Sentry from '@sentry/node';
import pg from 'pg';
import { APP_ROLE } from '../../src/db/embedded-postgres';
import { createLogger } from '../../src/platform/logger';
import { initMonitoring } from '../../src/platform/monitoring';
import { startTestApp, type TestApp } from '../support/app';
import { install, lifecycleJwt, newWorkspace } from '../support/bitbucket';
import { startSentryStandIn, type SentryStandIn } from '../support/sentry';
import { deliver, pushData } from '../support/webhooks';

/**
 * Error reports carry no request body, cookie, token or query string: a 500 during an install or a webhook reaches
 * Sentry (here a local stand-in for its ingest host) without the shared secret or the payload. The 500s are real:
 * the database refuses the application role a table it needs.
 */
describe('error reports', () => {
  let sentry: SentryStandIn;
  let app: TestApp;
  const ws = newWorkspace();
  // Made at run time: Sentry sends source lines around each frame, which must not count as a leak.
  const person = `Grace Hopper ${randomBytes(6).toString('hex')}`;
  const email = `grace-${randomBytes(6).toString('hex')}@example.com`;
  const webhookJwt = lifecycleJwt(ws.clientKey, ws.sharedSecret, '/webhooks/repo-push');
  const installJwt = lifecycleJwt(ws.clientKey, ws.sharedSecret, '/installed');
  const statuses: Record<string, number> = {};

  const revoke = async (privilege: string, table: string) => {
    const client = new pg.Client({ connectionString: app.database.adminUrl });
    await client.connect();
    await client.query(`revoke ${privilege} on ${table} from ${APP_ROLE}`);
    await client.end();
  };

  before(async () => {
    sentry = await startSentryStandIn();
    await initMonitoring(
      { sentryDsn: sentry.dsn, environment: 'test', datadog: { enabled: false } },
      createLogger('silent'),
    );
    app = await startTestApp();
    assert.equal((await install(app, ws)).status, 204);

    await revoke('insert', 'webhook_deliveries');
    const data = pushData(`{${randomUUID()}}`, `${ws.slug}/repo`, 'main', 'a'.repeat(40), null);
    const actor = { ...data.actor, display_name: person, email };
    statuses.webhook = (
      await deliver(
        app.url,
        ws,
        '/webhooks/repo-push',
        'repo:push',
        JSON.stringify({ event: 'repo:push', data: { ...data, actor } }),
        {
          authorization: `JWT ${webhookJwt}`,
        },
      )
    ).status;

    await revoke('select', 'tenants');
    statuses.install = (await install(app, ws, ws.sharedSecret)).status;
    await Sentry.flush(5000);
  });

  after(async () => {
    await Sentry.close();
    await sentry.close();
    await app.close();
  });

  it('reach Sentry for a 500 during an install and a webhook', () => {
    assert.deepEqual(statuses, { webhook: 500, install: 500 });
    const all = sentry.envelopes.join('\n');
    assert.match(all, /permission denied for table webhook_deliveries/);
    assert.match(all, /permission denied for table tenants/);
    assert.match(all, /"url":"http:\/\/127\.0\.0\.1:\d+\/installed"/);
    assert.match(all, /"url":"http:\/\/127\.0\.0\.1:\d+\/webhooks\/repo-push"/);
  });

  it('carry neither the shared secret nor the payload nor any token', () => {
    const all = sentry.envelopes.join('\n');
    for (const value of [ws.sharedSecret, ws.uuid, ws.slug, person, email, webhookJwt, installJwt]) {
      assert.ok(!all.includes(value), `error report leaks ${value.slice(0, 12)}…`);
    }
    assert.doesNotMatch(all, /authorization|cookie|ip_address|jwt=/i);
    const events = sentry.envelopes
      .flatMap((envelope) => envelope.split('\n'))
      .filter((line) => line.startsWith('{"exception"'))
      .map((line) => JSON.parse(line) as { request: Record<string, unknown> });
    assert.equal(events.length, 2);
    for (const event of events)
      assert.deepEqual(Object.keys(event.request).sort(), ['headers', 'method', 'url']);
  });
});
