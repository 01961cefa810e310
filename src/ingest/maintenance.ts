import type { TaskList } from 'graphile-worker';
import { readDescriptor } from '../connect/descriptor';
import {
  MAX_ACCOUNTS_PER_REPORT,
  PersonalDataReportingClient,
  type ReportOutcome,
} from '../connect/personal-data-reporting';
import { erasePerson } from '../db/personal-data-store';
import {
  accountsDue,
  applyDisplayName,
  markNeedsRefresh,
  markReported,
  readReportingState,
  refreshAccountInventory,
  saveReportingState,
} from '../db/personal-data-reporting-store';
import { tenantTurn, type TenantTurnFailure } from '../db/maintenance-failures';
import { purgeExpiredTenants, RETENTION_PURGE_TASK, type PurgeSummary } from '../db/tenant-purge';
import { pruneProcessedDeliveries } from '../db/webhook-delivery-store';
import { liveJobKeys } from '../db/job-queue';
import { listRepositories } from '../db/repository-store';
import type { Tenant } from '../db/tenant-store';
import { enqueueRepositoryStep, enqueueTenantBackfill, repositoryJobKey, tenantJobKey } from './scheduler';
import type { JobDeps } from './tasks';

export { RETENTION_PURGE_TASK };
export const PERSONAL_DATA_REPORT_TASK = 'personal_data_report';
export const WEBHOOK_PRUNE_TASK = 'prune_webhook_deliveries';
export const REPAIR_JOB_CHAINS_TASK = 'repair_job_chains';
export const FORGE_SWEEP_TASK = 'sweep_forge_installations';

/**
 * graphile-worker crontab: every job decides for itself whether anything is due (the purge by each tenant's
 * delete_after, the report by the stored cycle and Retry-After, the prune by each delivery's age, the repair by the
 * queue), so a missed run costs nothing. The purge runs every 10 minutes because unverified installs are due an
 * hour after they arrived.
 */
export const maintenanceCrontab = [
  `*/10 * * * * ${RETENTION_PURGE_TASK} ?max=1`,
  `37 * * * * ${PERSONAL_DATA_REPORT_TASK} ?max=1`,
  `52 * * * * ${WEBHOOK_PRUNE_TASK} ?max=1`,
  `*/10 * * * * ${REPAIR_JOB_CHAINS_TASK} ?max=1`,
  `17 * * * * ${FORGE_SWEEP_TASK} ?max=1`,
].join('\n');

/**
 * Processed webhook deliveries are kept 14 days: long enough that a redelivery (Bitbucket resends within seconds;
 * a person may press "resend" days later) is still recognised by its X-Request-UUID and not processed twice.
 */
export const WEBHOOK_RETENTION_DAYS = 14;
/** Rows deleted per transaction: short transactions, no long lock on a busy tenant's intake. */
const PRUNE_BATCH = 5000;

export interface MaintenanceOptions {
  /** PERSONAL_DATA_REPORTING_URL; Atlassian's API by default. */
  personalDataReportingUrl?: string;
  appKey?: string;
  /**
   * Fetches an account's current display name (Bitbucket `GET /2.0/users/{account_id}`). Without it, accounts that
   * Atlassian reports as `updated` are only marked `needs_refresh` for the sync to pick up.
   */
  fetchDisplayName?: (tenant: Tenant, accountId: string) => Promise<string | null>;
}

/** Scheduled maintenance jobs: retention purge and personal-data reporting. Both read the clock from deps.now. */
export function maintenanceTasks(deps: JobDeps, options: MaintenanceOptions = {}): TaskList {
  const client = new PersonalDataReportingClient({
    baseUrl: options.personalDataReportingUrl ?? 'https://api.atlassian.com',
    appKey: options.appKey ?? readDescriptor().key,
  });
  return {
    [RETENTION_PURGE_TASK]: async () => {
      await runRetentionPurge(deps);
    },
    [WEBHOOK_PRUNE_TASK]: async () => {
      await runWebhookPrune(deps);
    },
    [REPAIR_JOB_CHAINS_TASK]: async () => {
      await repairJobChains(deps);
    },
    [FORGE_SWEEP_TASK]: async () => {
      await runForgeSweep(deps);
    },
    [PERSONAL_DATA_REPORT_TASK]: async (_payload, helpers) => {
      await runPersonalDataReport(deps, client, {
        ...options,
        // Retry-After is honoured to the second by a one-off job, besides the hourly check.
        scheduleRetry: (runAt) =>
          helpers
            .addJob(PERSONAL_DATA_REPORT_TASK, {}, { runAt, jobKey: PERSONAL_DATA_REPORT_TASK })
            .then(() => {}),
      });
    },
  };
}

/**
 * Deletes every tenant whose 60 days after uninstall have passed by deps.now(), and every first install that
 * Bitbucket has not confirmed within the hour; each tenant's failure is its own.
 */
export function runRetentionPurge(deps: JobDeps): Promise<PurgeSummary[]> {
  return purgeExpiredTenants(deps.db, deps.now(), deps.logger);
}

/**
 * Forge's missing uninstall event, stood in for (docs/forge.md): Forge tenants silent for 30 days with no usable
 * system token are marked uninstalled, their data kept 60 days as after a Connect uninstall.
 */
export async function runForgeSweep(deps: JobDeps): Promise<Tenant[]> {
  const swept = await deps.tenants.sweepSilentForgeInstallations(deps.now());
  for (const tenant of swept)
    deps.logger.info(
      { tenantId: tenant.id, installationId: tenant.clientKey, deleteAfter: tenant.deleteAfter },
      'forge installation silent: marked uninstalled',
    );
  return swept;
}

/**
 * Deletes every tenant's processed deliveries received more than WEBHOOK_RETENTION_DAYS ago, in batches, tenant by
 * tenant. Deliveries not yet processed stay whatever their age. A tenant whose turn fails is logged and recorded in
 * maintenance_failures, and the others go on; the next hourly run tries it again.
 */
export async function runWebhookPrune(
  deps: JobDeps,
  options: { batchSize?: number } = {},
): Promise<{ deleted: Record<string, number>; failed: TenantTurnFailure[] }> {
  const now = deps.now();
  const before = new Date(now.getTime() - WEBHOOK_RETENTION_DAYS * 86_400_000);
  const batchSize = options.batchSize ?? PRUNE_BATCH;
  const deleted: Record<string, number> = {};
  const failed: TenantTurnFailure[] = [];
  for (const tenant of await deps.tenants.list()) {
    const turn = await tenantTurn(deps, WEBHOOK_PRUNE_TASK, tenant.id, now, async () => {
      let total = 0;
      let n: number;
      do {
        n = await deps.db.withTenant(tenant.id, (trx) =>
          pruneProcessedDeliveries(trx, tenant.id, before, batchSize),
        );
        total += n;
      } while (n === batchSize);
      return total;
    });
    if (turn.ok) deleted[tenant.id] = turn.value;
    else failed.push(turn.failure);
  }
  deps.logger.info(
    { tenants: Object.keys(deleted).length, failed: failed.length },
    'webhook deliveries pruned',
  );
  return { deleted, failed };
}

/** A report with failed tenants runs again this soon, for those tenants' accounts only (the others are reported). */
export const FAILED_TENANT_RETRY_SECONDS = 3600;

/**
 * Backfill steps and the relisting each enqueue their successor, so a chain ends for good when a step uses up its
 * attempts, or when a worker dies between a step's write and its successor's enqueue. This pass gives every
 * installed tenant its relisting again, and every repository still listing or fetching diffstats its next step,
 * when the queue holds no job that will still run for it. Pending and uninstalled tenants get nothing.
 */
export async function repairJobChains(deps: JobDeps): Promise<{ tenants: number; repositories: number }> {
  const installed = (await deps.tenants.list()).filter((t) => t.state === 'installed');
  const liveTenants = await liveJobKeys(
    deps.db.knex,
    installed.map((t) => tenantJobKey(t.id)),
  );
  let tenants = 0;
  let repositories = 0;
  for (const tenant of installed) {
    if (!liveTenants.has(tenantJobKey(tenant.id))) {
      await enqueueTenantBackfill(deps.db.knex, tenant.id);
      tenants++;
    }
    repositories += await deps.db.withTenant(tenant.id, async (trx) => {
      const busy = (await listRepositories(trx, tenant.id)).flatMap((r) =>
        r.syncState === 'listing' || r.syncState === 'diffstats' ? [{ id: r.id, phase: r.syncState }] : [],
      );
      const live = await liveJobKeys(
        trx,
        busy.map((r) => repositoryJobKey(tenant.id, r.id)),
      );
      const missing = busy.filter((r) => !live.has(repositoryJobKey(tenant.id, r.id)));
      for (const r of missing) await enqueueRepositoryStep(trx, tenant.id, r.id, r.phase);
      return missing.length;
    });
  }
  if (tenants + repositories > 0) deps.logger.warn({ tenants, repositories }, 'job chains re-created');
  return { tenants, repositories };
}

export interface ReportSummary {
  ran: boolean;
  requests: number;
  reported: number;
  closed: number;
  updated: number;
  rateLimited: boolean;
  nextRunAt: Date;
  /** Tenants whose turn failed (a non-2xx answer, an unreadable secret, …): recorded, and retried within the hour. */
  failed: TenantTurnFailure[];
}

/**
 * One personal data report across all tenants (uninstalled ones too: their data is still stored until the purge).
 * Each tenant reports the accounts it stores, in batches of at most 90, signed with its own installation's secret.
 * `closed` accounts are erased at once; `updated` ones get their display name fetched again (or are marked).
 * Progress is kept per account (reported_at), so a run cut short by a 429 resumes where it stopped. A tenant whose
 * turn fails is logged and recorded in maintenance_failures, and the others go on; the next run comes within the
 * hour instead of a cycle later, and reports only what is still due: the failed tenants' accounts.
 */
export async function runPersonalDataReport(
  deps: JobDeps,
  client: Pick<PersonalDataReportingClient, 'report'>,
  options: Pick<MaintenanceOptions, 'fetchDisplayName'> & {
    scheduleRetry?: (runAt: Date) => Promise<void>;
  } = {},
): Promise<ReportSummary> {
  const now = deps.now();
  const state = await readReportingState(deps.db);
  const summary = { requests: 0, reported: 0, closed: 0, updated: 0 };
  const failed: TenantTurnFailure[] = [];
  if (state.nextRunAt && state.nextRunAt > now) {
    return { ran: false, ...summary, rateLimited: false, nextRunAt: state.nextRunAt, failed };
  }
  const run: ReportRun = { deps, client, options, now, cycleSeconds: state.cycleSeconds, summary };
  const finish = async (nextRunAt: Date, rateLimited: boolean): Promise<ReportSummary> => {
    await saveReportingState(deps.db, {
      cycleSeconds: run.cycleSeconds,
      nextRunAt,
      lastRunAt: now,
      lastResult: { ...summary, rateLimited, failed: failed.map((f) => f.tenantId) },
    });
    deps.logger.info({ ...summary, rateLimited, failed: failed.length, nextRunAt }, 'personal data report');
    return { ran: true, ...summary, rateLimited, nextRunAt, failed };
  };

  for (const tenant of await deps.tenants.list()) {
    // A pending install has stored nothing about anyone, and its secret is nobody's word yet.
    if (tenant.state === 'pending') continue;
    const turn = await tenantTurn(deps, PERSONAL_DATA_REPORT_TASK, tenant.id, now, () =>
      reportTenant(run, tenant),
    );
    if (!turn.ok) failed.push(turn.failure);
    else if (turn.value) {
      await options.scheduleRetry?.(turn.value);
      return finish(turn.value, true);
    }
  }
  const next = failed.length > 0 ? FAILED_TENANT_RETRY_SECONDS : run.cycleSeconds;
  return finish(new Date(now.getTime() + next * 1000), false);
}

interface ReportRun {
  deps: JobDeps;
  client: Pick<PersonalDataReportingClient, 'report'>;
  options: Pick<MaintenanceOptions, 'fetchDisplayName'>;
  now: Date;
  /** Atlassian's Cycle-Period, as last answered. */
  cycleSeconds: number;
  summary: { requests: number; reported: number; closed: number; updated: number };
}

/** Reports one tenant's due accounts. Resolves with the time to retry at when Atlassian answered 429. */
async function reportTenant(run: ReportRun, tenant: Tenant): Promise<Date | null> {
  const { deps, now, summary } = run;
  const sharedSecret = await deps.tenants.sharedSecret(tenant.clientKey);
  if (!sharedSecret) return null;
  const due = await deps.db.withTenant(tenant.id, async (trx) => {
    await refreshAccountInventory(trx, tenant.id, now);
    return accountsDue(trx, now, run.cycleSeconds);
  });
  for (let i = 0; i < due.length; i += MAX_ACCOUNTS_PER_REPORT) {
    const batch = due.slice(i, i + MAX_ACCOUNTS_PER_REPORT);
    const outcome: ReportOutcome = await run.client.report(
      { clientKey: tenant.clientKey, sharedSecret },
      batch,
    );
    summary.requests++;
    if (outcome.cyclePeriodSeconds) run.cycleSeconds = outcome.cyclePeriodSeconds;
    if (outcome.kind === 'rate-limited') return new Date(now.getTime() + outcome.retryAfterSeconds * 1000);
    for (const account of outcome.accounts) {
      if (account.status === 'closed') {
        await erasePerson(
          deps.db,
          tenant.id,
          { accountId: account.accountId },
          'system:personal-data-reporting',
          now,
        );
        summary.closed++;
      } else {
        await refreshAccount(deps, tenant, account.accountId, now, run.options.fetchDisplayName);
        summary.updated++;
      }
    }
    await deps.db.withTenant(tenant.id, (trx) =>
      markReported(
        trx,
        batch.map((a) => a.accountId),
        now,
      ),
    );
    summary.reported += batch.length;
  }
  return null;
}

async function refreshAccount(
  deps: JobDeps,
  tenant: Tenant,
  accountId: string,
  now: Date,
  fetchDisplayName: MaintenanceOptions['fetchDisplayName'],
): Promise<void> {
  const displayName = fetchDisplayName ? await fetchDisplayName(tenant, accountId) : null;
  await deps.db.withTenant(tenant.id, (trx) =>
    displayName ? applyDisplayName(trx, accountId, displayName, now) : markNeedsRefresh(trx, accountId),
  );
}
