import { Logger as QueueLogger, parseCrontab, run, type Runner } from 'graphile-worker';
import { maintenanceCrontab, maintenanceTasks } from '../ingest/maintenance';
import { ingestTasks, type JobDeps } from '../ingest/tasks';
import type { Runtime } from './bootstrap';

export interface WorkerHandle {
  runner: Runner;
  stop(): Promise<void>;
}

export function jobDeps(runtime: Runtime): JobDeps {
  return {
    // Jobs run long statements (rollup rebuilds, purges, large batches): their own timeout, not the web's.
    db: runtime.db.withStatementTimeout(runtime.config.jobStatementTimeoutMs),
    tenants: runtime.tenants,
    logger: runtime.logger,
    requestsPerHour: runtime.config.requestsPerHour,
    now: runtime.now,
  };
}

/** The worker role: a graphile-worker runner on the application role's connection (so RLS applies to jobs too). */
export async function startWorker(
  runtime: Runtime,
  options: { concurrency?: number } = {},
): Promise<WorkerHandle> {
  const log = runtime.logger.child({ component: 'queue' });
  const deps = jobDeps(runtime);
  const runner = await run({
    connectionString: runtime.appUrl,
    concurrency: options.concurrency ?? 4,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: {
      ...ingestTasks(deps),
      ...maintenanceTasks(deps, { personalDataReportingUrl: runtime.config.personalDataReportingUrl }),
    },
    parsedCronItems: parseCrontab(maintenanceCrontab),
    logger: new QueueLogger((scope) => (level, message, meta) => {
      const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
      log[method]({ scope, ...meta }, message);
    }),
  });
  return { runner, stop: () => runner.stop() };
}
