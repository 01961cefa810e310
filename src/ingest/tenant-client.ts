import { BitbucketClient, type RetryPolicy, type TenantCredentials } from '../bitbucket/client';
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
  /** Forge: how long a call without a usable system token waits (tests shorten it). */
  credentialsRetryMs?: number;
}

export interface TenantSession {
  tenant: Tenant;
  client: BitbucketClient;
  /** The workspace as it goes into API paths: its `{uuid}` (stable across renames) or else its slug. */
  workspace: string;
}

/**
 * A REST client for an installed tenant, or null when the tenant is gone or uninstalled (its jobs just stop). A
 * Forge tenant's client carries its newest system token; without a usable one its calls throw
 * CredentialsUnavailableError, which the jobs answer by trying again later.
 */
export async function openTenantSession(
  deps: ClientFactoryDeps,
  tenantId: string,
  priority: RequestPriority,
): Promise<TenantSession | null> {
  const tenant = await deps.tenants.findById(tenantId);
  if (!tenant || tenant.state !== 'installed') return null;
  const workspace = workspaceOf(tenant);
  if (!workspace) return null;
  if (tenant.platform === 'forge') {
    const stored = await deps.tenants.forgeSystemToken(tenant.id);
    const credentials = {
      tenantId: tenant.id,
      baseApiUrl: tenant.baseApiUrl,
      systemToken: stored?.token ?? null,
      systemTokenExpiresAt: stored?.expiresAt ?? null,
    };
    return { tenant, client: newClient(deps, tenant, credentials, priority), workspace };
  }
  const sharedSecret = await deps.tenants.sharedSecret(tenant.clientKey);
  if (!sharedSecret) return null;
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
  const credentials = {
    tenantId: tenant.id,
    clientKey: tenant.clientKey,
    sharedSecret,
    baseApiUrl: tenant.baseApiUrl,
  };
  return newClient(deps, tenant, credentials, priority);
}

function newClient(
  deps: ClientFactoryDeps,
  tenant: Tenant,
  credentials: TenantCredentials,
  priority: RequestPriority,
): BitbucketClient {
  const appKey = typeof tenant.clientInfo.key === 'string' ? tenant.clientInfo.key : 'tally';
  return new BitbucketClient({
    appKey,
    credentials,
    onTokenRefused: () => deps.tenants.markForgeTokenRefused(tenant.id),
    credentialsRetryMs: deps.credentialsRetryMs,
    budget: deps.budget,
    priority,
    logger: deps.logger.child({ tenantId: tenant.id }),
    retry: deps.retry,
    timeoutMs: deps.timeoutMs,
    maxBudgetWaitMs: deps.maxBudgetWaitMs,
    maxPrepaid: deps.maxPrepaid,
  });
}
