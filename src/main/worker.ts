import { Logger as QueueLogger, run, type Runner, type TaskList } from 'graphile-worker';
import type { Runtime } from './bootstrap';

export interface WorkerHandle {
  runner: Runner;
  stop(): Promise<void>;
}

/** The worker role: a graphile-worker runner on the application role's connection (so RLS applies to jobs too). */
export async function startWorker(runtime: Runtime, taskList: TaskList = {}): Promise<WorkerHandle> {
  const log = runtime.logger.child({ component: 'queue' });
  const runner = await run({
    connectionString: runtime.appUrl,
    concurrency: 4,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList,
    logger: new QueueLogger((scope) => (level, message, meta) => {
      const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
      log[method]({ scope, ...meta }, message);
    }),
  });
  return { runner, stop: () => runner.stop() };
}
