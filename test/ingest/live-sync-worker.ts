/**
 * A worker process with the ingest tasks, for tests that kill it (SIGKILL) mid-job. Environment:
 * LIVE_SYNC_APP_URL (the application role's database URL) and LIVE_SYNC_KEY (the app's encryption key, hex).
 * Prints "ready" once it takes jobs.
 */
import { createDatabase } from '../../src/db/database';
import { TenantStore } from '../../src/db/tenant-store';
import type { Runtime } from '../../src/main/bootstrap';
import { createLogger } from '../../src/platform/logger';
import { SecretBox } from '../../src/platform/secret-box';
import type { TestApp } from '../support/app';
import { FAST_RETRY, startIngestWorker } from './backfill-harness';

const appUrl = process.env.LIVE_SYNC_APP_URL!;
const logger = createLogger('warn');
const db = createDatabase(appUrl, logger);
const box = new SecretBox([Buffer.from(process.env.LIVE_SYNC_KEY!, 'hex')]);
const runtime = {
  config: { requestsPerHour: 1_000_000 },
  logger,
  db,
  box,
  tenants: new TenantStore(db, box),
  appUrl,
  now: () => new Date(),
  stop: () => db.close(),
} as unknown as Runtime;
await startIngestWorker({ runtime } as TestApp, { bitbucket: FAST_RETRY });
process.stdout.write('ready\n');
