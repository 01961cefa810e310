import type { Server } from 'node:http';
import { loadConfig } from '../config/config';
import { createLogger } from '../platform/logger';
import { initMonitoring } from '../platform/monitoring';
import { bootstrap } from './bootstrap';
import { handleShutdownSignals } from './signals';
import type { WorkerHandle } from './worker';

type Role = 'all' | 'web' | 'worker';

function parseRole(argv: string[]): Role {
  const flag = argv.find((a) => a.startsWith('--role='));
  const role = flag ? flag.slice('--role='.length) : 'all';
  if (role !== 'all' && role !== 'web' && role !== 'worker') {
    process.stderr.write(`Unknown --role=${role}: use web, worker, or leave it out for both.\n`);
    process.exit(1);
  }
  return role;
}

const role = parseRole(process.argv.slice(2));
const config = loadConfig();
const logger = createLogger(config.logLevel);
await initMonitoring(
  { sentryDsn: config.sentryDsn, environment: config.env, datadog: config.datadog },
  logger,
);

const runtime = await bootstrap(config, logger);
let server: Server | undefined;
let worker: WorkerHandle | undefined;
let stopping = false;
/** How long a graceful stop may take before the process gives up on it (orchestrators kill at about 30 s). */
const SHUTDOWN_DEADLINE_MS = 25_000;
// Our handlers from the start: a signal that arrives while the roles start still stops them gracefully.
handleShutdownSignals((signal) => void shutdown(signal));

// Each role loads only its own modules (a worker never loads express or ACE: less memory per worker).
if (role !== 'worker') {
  const { createWebApp, listenWeb } = await import('./web');
  server = await listenWeb(await createWebApp(runtime), config.port);
  logger.info({ port: config.port }, 'web listening');
  process.stdout.write(`Tally is running. Descriptor: ${config.baseUrl}/atlassian-connect.json\n`);
}
if (role !== 'web') {
  const { startWorker } = await import('./worker');
  worker = await startWorker(runtime);
  logger.info('worker started');
}

async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  // Something that never settles (a stuck job, a connection that never answers) must not keep the process alive.
  setTimeout(() => {
    logger.error({ signal, deadlineMs: SHUTDOWN_DEADLINE_MS }, 'graceful shutdown took too long; exiting');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await worker?.stop();
  await runtime.stop();
  process.exit(0);
}
