import { BitbucketClient, type RetryPolicy } from '../bitbucket/client';
import type { RequestBudget, RequestPriority } from '../bitbucket/budget';
import type { Tenant, TenantStore } from '../db/tenant-store';
import type { Logger } from '../platform/logger';

export interface ClientFactoryDeps {
  tenants: TenantStore;
  budget: RequestBudget;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  maxBudgetWaitMs?: number;
  maxPrepaid?: number;
}

export interface TenantSession {
  tenant: Tenant;
  client: BitbucketClient;
  /** The workspace as it goes into API paths: its `{uuid}` (stable across renames) or else its slug. */
  workspace: string;
}

/** A REST client for an installed tenant, or null when the tenant is gone or uninstalled (its jobs just stop). */
export async function openTenantSession(
  deps: ClientFactoryDeps,
  tenantId: string,
  priority: RequestPriority,
): Promise<TenantSession | null> {
  const tenant = await deps.tenants.findById(tenantId);
  if (!tenant || tenant.state !== 'installed') return null;
  const workspace = workspaceOf(tenant);
  const sharedSecret = await deps.tenants.sharedSecret(tenant.clientKey);
  if (!workspace || !sharedSecret) return null;
  return { tenant, client: tenantClient(deps, tenant, sharedSecret, priority), workspace };
}

/** The workspace as it goes into API paths: its `{uuid}` (stable across renames) or else its slug. */
export const workspaceOf = (tenant: Tenant): string | null => tenant.workspaceUuid ?? tenant.workspaceSlug;

/** A client signing with the given secret (the stored one, or a pending install's, which is being verified). */
export function tenantClient(
  deps: ClientFactoryDeps,
  tenant: Tenant,
  sharedSecret: string,
  priority: RequestPriority,
): BitbucketClient {
  const appKey = typeof tenant.clientInfo.key === 'string' ? tenant.clientInfo.key : 'tally';
  return new BitbucketClient({
    appKey,
    credentials: {
      tenantId: tenant.id,
      clientKey: tenant.clientKey,
      sharedSecret,
      baseApiUrl: tenant.baseApiUrl,
    },
    budget: deps.budget,
    priority,
    logger: deps.logger.child({ tenantId: tenant.id }),
    retry: deps.retry,
    timeoutMs: deps.timeoutMs,
    maxBudgetWaitMs: deps.maxBudgetWaitMs,
    maxPrepaid: deps.maxPrepaid,
  });
}
