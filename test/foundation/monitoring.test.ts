import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as Sentry from '@sentry/node';
import { createLogger } from '../../src/platform/logger';
import { captureError, initMonitoring } from '../../src/platform/monitoring';
import { startSentryStandIn } from '../support/sentry';

describe('monitoring', () => {
  it('is silent when not configured', async () => {
    const state = await initMonitoring(
      { environment: 'test', datadog: { enabled: false } },
      createLogger('silent'),
    );
    assert.deepEqual(state, { sentry: false, datadog: false });
    captureError(new Error('nobody listens'));
  });

  it('reports errors to the configured Sentry DSN with secrets scrubbed', async () => {
    const sentry = await startSentryStandIn();
    try {
      const state = await initMonitoring(
        {
          sentryDsn: sentry.dsn,
          environment: 'test',
          datadog: { enabled: false },
        },
        createLogger('silent'),
      );
      assert.equal(state.sentry, true);
      // Made at run time: Sentry also sends source lines around the error, which must not count as a leak.
      const secret = randomBytes(16).toString('hex');
      const jwt = `eyJ${randomBytes(12).toString('hex')}.x.y`;
      Sentry.setExtra('install', { clientKey: 'k', sharedSecret: secret });
      Sentry.setExtra('url', `https://tally/pages/x?jwt=${jwt}`);
      captureError(new Error('boom'));
      await Sentry.flush(5000);
      const all = sentry.envelopes.join('\n');
      assert.match(all, /boom/);
      assert.ok(!all.includes(secret));
      assert.ok(!all.includes(jwt));
      assert.match(all, /\[redacted\]/);
    } finally {
      await Sentry.close();
      await sentry.close();
    }
  });
});
