import type { TaskList } from 'graphile-worker';
import type { JobDeps } from './tasks';

/** Scheduled maintenance jobs: retention purge, personal-data reporting (filled in by the trust work). */
export function maintenanceTasks(_deps: JobDeps): TaskList {
  return {};
}

/** graphile-worker crontab lines for maintenanceTasks. */
export const maintenanceCrontab = '';
