import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { parseConfig } from '../../src/config/config';
import { freePort } from '../../src/db/embedded-postgres';
import { createLogger } from '../../src/platform/logger';
import { createRuntime, type Runtime } from '../../src/main/bootstrap';
import { createWebApp, listenWeb } from '../../src/main/web';
import { createTestDatabase, type TestDatabase } from './db';

export interface TestApp {
  url: string;
  /** The Express app it serves (its routes can be listed: test/support/routes.ts). */
  express: Express;
  runtime: Runtime;
  database: TestDatabase;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  close(): Promise<void>;
}

/** Tally's web role on a random port, against its own fresh database, logging into memory. */
export interface TestAppOptions {
  env?: Record<string, string>;
  /** The clock the app reads (retention, budgets); tests move it instead of sleeping. */
  now?: () => Date;
  /** Serve this database instead of a fresh one (a redeploy with other settings); close() then leaves it. */
  database?: TestDatabase;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const port = await freePort();
  const parsed = parseConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: database.appUrl,
    TALLY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    BITBUCKET_ALLOWED_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'debug',
    // Tests load fixtures through the web role's pool on a shared, busy machine: more room than production's 5 s.
    STATEMENT_TIMEOUT_MS: '30000',
    // Tests install many workspaces from one address; the limit itself is tested with a low value.
    INSTALL_RATE_LIMIT: '100000',
    ...options.env,
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  const config = parsed.config;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('debug', sink);
  const runtime = createRuntime({
    config,
    logger,
    appUrl: database.appUrl,
    adminUrl: database.adminUrl,
    keys: config.encryptionKeys!,
    now: options.now,
  });
  const express = await createWebApp(runtime);
  const server = await listenWeb(express, port, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    express,
    runtime,
    database,
    logs,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await runtime.stop();
      if (!options.database) await database.drop();
    },
  };
}
