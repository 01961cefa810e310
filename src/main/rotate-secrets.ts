import { loadConfig } from '../config/config';
import { createLogger } from '../platform/logger';
import { bootstrap } from './bootstrap';

/**
 * `npm run rotate-secrets`: re-seals every tenant's shared secret, and every Forge installation's stored system
 * token, with the first key of TALLY_ENCRYPTION_KEY (SECURITY.md, "Rotating TALLY_ENCRYPTION_KEY"). Idempotent:
 * run it again at any time. Exits 1 when a secret is sealed with a key the ring does not hold (it names those
 * installations), 0 once every secret is sealed with the first key, so the older keys can be dropped. A Forge
 * token no key opens is named but does not fail the run: Forge sends a new one with the next invocation.
 */
const config = loadConfig();
const logger = createLogger(config.logLevel);
const runtime = await bootstrap(config, logger, { migrate: false });
const reseal = async () => ({
  result: await runtime.tenants.resealSecrets(),
  forge: await runtime.tenants.resealForgeTokens(),
});
const { result, forge } = await reseal().finally(() => runtime.stop());
logger.info({ ...result, forge, keyId: runtime.box.keyId }, 'shared secrets re-sealed');
process.stdout.write(
  `Key ${runtime.box.keyId}: ${result.resealed} secret(s) re-sealed, ${result.current} already current, ` +
    `${result.unreadable.length} unreadable.\n`,
);
for (const clientKey of result.unreadable) {
  process.stdout.write(`  unreadable (no configured key opens it): ${clientKey}\n`);
}
process.stdout.write(
  `Forge system tokens: ${forge.resealed} re-sealed, ${forge.current} already current, ` +
    `${forge.unreadable.length} unreadable (replaced by the next invocation).\n`,
);
for (const installationId of forge.unreadable) {
  process.stdout.write(`  unreadable Forge token, waits for a new one: ${installationId}\n`);
}
process.exit(result.unreadable.length > 0 ? 1 : 0);
