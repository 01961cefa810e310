import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseKey, type Config } from '../config/config';
import { createDatabase, type Database } from '../db/database';
import { startEmbeddedPostgres } from '../db/embedded-postgres';
import { assertRestrictedRole, migrate, roleOf } from '../db/migrate';
import { TenantStore } from '../db/tenant-store';
import type { Logger } from '../platform/logger';
import { SecretBox } from '../platform/secret-box';

/** Everything the web and worker roles share: one database handle, the tenant registry, the secret box. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: Database;
  tenants: TenantStore;
  box: SecretBox;
  appUrl: string;
  adminUrl?: string;
  /** The clock every time-dependent rule reads (retention, budgets); tests inject their own. */
  now: () => Date;
  stop(): Promise<void>;
}

/** Development only: a key generated once under the data folder (production must set TALLY_ENCRYPTION_KEY). */
function developmentKey(dataDir: string): Buffer {
  const file = path.resolve(dataDir, 'encryption.key');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  const key = parseKey(readFileSync(file, 'utf8'));
  if (!key) throw new Error(`${file} does not hold a 32-byte key`);
  return key;
}

export async function bootstrap(
  config: Config,
  logger: Logger,
  options: { migrate?: boolean } = {},
): Promise<Runtime> {
  let appUrl = config.databaseUrl;
  let adminUrl = config.databaseAdminUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!appUrl) {
    const embedded = await startEmbeddedPostgres(config.dataDir, logger);
    logger.info('embedded PostgreSQL started');
    appUrl = embedded.appUrl;
    adminUrl = embedded.adminUrl;
    stopEmbedded = embedded.stop;
  }
  if (adminUrl && options.migrate !== false) {
    const applied = await migrate(adminUrl, roleOf(appUrl));
    logger.info({ applied }, 'migrations up to date');
  }
  const runtime = createRuntime({
    config,
    logger,
    appUrl,
    adminUrl,
    keys: config.encryptionKeys ?? [developmentKey(config.dataDir)],
    onStop: stopEmbedded,
  });
  await assertRestrictedRole(runtime.db.knex);
  return runtime;
}

/** The one place a Runtime is assembled (start-up, tests, benchmarks): database handle, secret box, registry. */
export function createRuntime(input: {
  config: Config;
  logger: Logger;
  appUrl: string;
  adminUrl?: string;
  /** The key ring, sealing key first. */
  keys: Buffer[];
  now?: () => Date;
  poolMax?: number;
  onStop?: () => Promise<void>;
}): Runtime {
  const db = createDatabase(input.appUrl, input.logger, input.poolMax, {
    statementTimeoutMs: input.config.statementTimeoutMs,
  });
  const box = new SecretBox(input.keys);
  return {
    config: input.config,
    logger: input.logger,
    db,
    box,
    tenants: new TenantStore(db, box, undefined, input.logger),
    now: input.now ?? (() => new Date()),
    appUrl: input.appUrl,
    adminUrl: input.adminUrl,
    async stop() {
      await db.close();
      await input.onStop?.();
    },
  };
}
