import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/config';
import { freePort, startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { migrate, roleOf } from '../../src/db/migrate';
import { createLogger } from '../../src/platform/logger';
import { createRuntime, type Runtime } from '../../src/main/bootstrap';
import { createWebApp, listenWeb } from '../../src/main/web';

export interface BenchStack {
  url: string;
  runtime: Runtime;
  adminUrl: string;
  close(): Promise<void>;
}

/**
 * A real Tally for benchmarks: embedded PostgreSQL in a temp folder (production durability settings), migrated,
 * and the web role on a random loopback port. Logs are silenced so logging cost does not hide the figure.
 */
export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-bench-'));
  chmodSync(dir, 0o755);
  const logger = createLogger(process.env.BENCH_LOG_LEVEL ?? 'silent');
  const pg = await startEmbeddedPostgres(dir, logger);
  await migrate(pg.adminUrl, roleOf(pg.appUrl));
  const port = await freePort();
  const parsed = parseConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: pg.appUrl,
    TALLY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    BITBUCKET_ALLOWED_HOSTS: '127.0.0.1',
    INSTALL_RATE_LIMIT: '100000',
    LOG_LEVEL: 'silent',
    ...env,
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  const config = parsed.config;
  const runtime = createRuntime({
    config,
    logger,
    appUrl: pg.appUrl,
    adminUrl: pg.adminUrl,
    keys: config.encryptionKeys!,
    poolMax: 20,
  });
  const server = await listenWeb(await createWebApp(runtime), port, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    runtime,
    // The superuser, for the benchmarks' fixtures and ANALYZE (the schema belongs to the owner role).
    adminUrl: pg.superuserUrl,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await runtime.stop();
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
