import type { TaskList } from 'graphile-worker';
import type { Database } from '../db/database';
import type { TenantStore } from '../db/tenant-store';
import type { Logger } from '../platform/logger';

/** What every job needs; built once per worker process in src/main. */
export interface JobDeps {
  db: Database;
  tenants: TenantStore;
  logger: Logger;
  requestsPerHour: number;
  now: () => Date;
}

/** Backfill and sync jobs (filled in by the backfill and live-sync work). */
export function ingestTasks(_deps: JobDeps): TaskList {
  return {};
}
