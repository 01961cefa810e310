import { loadConfig } from '../config/config';
import { createLogger } from '../platform/logger';
import { bootstrap } from './bootstrap';

/**
 * `npm run rotate-secrets`: re-seals every tenant's shared secret with the first key of TALLY_ENCRYPTION_KEY
 * (SECURITY.md, "Rotating TALLY_ENCRYPTION_KEY"). Idempotent: run it again at any time. Exits 1 when a secret is
 * sealed with a key the ring does not hold (it names those installations), 0 once every secret is sealed with the
 * first key, so the older keys can be dropped.
 */
const config = loadConfig();
const logger = createLogger(config.logLevel);
const runtime = await bootstrap(config, logger, { migrate: false });
const result = await runtime.tenants.resealSecrets().finally(() => runtime.stop());
logger.info({ ...result, keyId: runtime.box.keyId }, 'shared secrets re-sealed');
process.stdout.write(
  `Key ${runtime.box.keyId}: ${result.resealed} secret(s) re-sealed, ${result.current} already current, ` +
    `${result.unreadable.length} unreadable.\n`,
);
for (const clientKey of result.unreadable) {
  process.stdout.write(`  unreadable (no configured key opens it): ${clientKey}\n`);
}
process.exit(result.unreadable.length > 0 ? 1 : 0);
