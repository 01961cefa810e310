import { z } from 'zod';
import { endpoints } from '../bitbucket/endpoints';
import { enqueueJob } from '../db/job-queue';
import type { InTransaction, Tenant } from '../db/tenant-store';
import type { Trx } from '../db/database';
import { enqueueTenantBackfill } from './scheduler';
import { tenantClient, workspaceOf, type ClientFactoryDeps } from './tenant-client';

/**
 * First installs are unsigned (trust on first use), so anyone can POST a made-up installation to /installed.
 * Tally therefore stores a first install as `pending` and asks Bitbucket: one GET signed with the new credentials
 * against the payload's baseApiUrl (on the host allowlist). Bitbucket activates an installation's credentials only
 * after /installed has answered 2xx, so this is a job, enqueued in the install's transaction and retried with
 * backoff; a 2xx confirms the tenant and enqueues its first backfill in one transaction. A forged install costs one
 * request per attempt and is purged an hour after it arrived (src/db/tenant-purge.ts).
 */
export const VERIFY_INSTALLATION_TASK = 'verify_installation';

/** graphile-worker waits e^n seconds after the n-th failure: eight attempts span about 29 minutes. */
const VERIFY_ATTEMPTS = 8;
/** Bitbucket activates the credentials just after our 2xx; the first try waits a moment for that. */
const FIRST_TRY_DELAY_MS = 2000;

const page = z.object({ values: z.array(z.unknown()) }).loose();

export async function enqueueVerification(trx: Trx, tenantId: string): Promise<void> {
  await enqueueJob(
    trx,
    VERIFY_INSTALLATION_TASK,
    { tenantId },
    {
      jobKey: `verify:${tenantId}`,
      maxAttempts: VERIFY_ATTEMPTS,
      runAt: new Date(Date.now() + FIRST_TRY_DELAY_MS),
    },
  );
}

/** The install's first job, in the install's transaction: a pending tenant's verification, else its backfill. */
export const startAfterInstall: InTransaction = (trx, tenant: Tenant) =>
  tenant.state === 'pending' ? enqueueVerification(trx, tenant.id) : enqueueTenantBackfill(trx, tenant.id);

export type VerificationOutcome = 'confirmed' | 'not-pending' | 'no-workspace' | 'superseded';

/**
 * One verification attempt. Throws when Bitbucket does not answer 2xx (the queue retries with backoff); returns
 * what happened otherwise. A newer install of the same clientKey between the request and the answer replaced the
 * credentials: `superseded`, and that install's own verification decides.
 */
export async function verifyInstallation(
  deps: ClientFactoryDeps,
  { tenantId }: { tenantId: string },
): Promise<VerificationOutcome> {
  const pending = await deps.tenants.pendingCredentials(tenantId);
  if (!pending) return 'not-pending';
  const log = deps.logger.child({ tenantId, clientKey: pending.tenant.clientKey });
  const workspace = workspaceOf(pending.tenant);
  if (!workspace) {
    log.warn('install names no workspace: nothing to verify, left to the purge');
    return 'no-workspace';
  }
  const client = tenantClient(deps, pending.tenant, pending.sharedSecret, 'high');
  await client.get(endpoints.firstRepository(pending.tenant.baseApiUrl, workspace), page);
  const confirmed = await deps.tenants.confirmInstallation(
    tenantId,
    { sharedSecret: pending.sharedSecret, baseApiUrl: pending.tenant.baseApiUrl },
    (trx) => enqueueTenantBackfill(trx, tenantId),
  );
  if (!confirmed) return 'superseded';
  log.info('install verified with Bitbucket: backfill enqueued');
  return 'confirmed';
}
