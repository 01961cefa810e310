import type { Request } from 'express';
import type { InTransaction, Tenant, TenantStore } from '../db/tenant-store';
import type { Viewer } from './auth';
import { bearerToken, systemTokenOf, type ForgeInvocation, type ForgeVerifier } from './forge-token';
import { TokenError } from './jwt';
import type { ViewerScope } from './session-scope';

export interface ForgeAuthDeps {
  tenants: TenantStore;
  verifier: ForgeVerifier;
  /** Runs in the transaction that installs a new (or returning) Forge tenant: its backfill starts there. */
  afterInstall?: InTransaction;
}

/** Bitbucket's admin-only Forge pages: the workspace settings page is Connect's configure page (docs/forge.md). */
const ADMIN_MODULES = new Set(['bitbucket:workspaceSettingsMenuPage']);

/**
 * The viewer scope of a UI invocation, from its module context, in the scope model Connect's session tokens use
 * (src/connect/session-scope.ts): a page that shows a repository (`context.extension.repository.uuid`) sees that
 * repository only; the workspace settings page (admins only, in Bitbucket) is the admin scope and Tally's
 * configure page; any other workspace page sees the workspace's public repositories, since Forge, like Connect,
 * does not tell Tally which private repositories the viewer may read. No module context (events, backend calls):
 * no viewer, a 401.
 */
export function scopeForInvocation(invocation: ForgeInvocation): { scope: ViewerScope; page: string } {
  if (!invocation.hasContext) throw new TokenError('invocation token carries no module context');
  if (invocation.repositoryUuid !== null)
    return {
      scope: { kind: 'repository', admin: false, repositories: [invocation.repositoryUuid] },
      page: 'repository',
    };
  if (invocation.moduleType !== null && ADMIN_MODULES.has(invocation.moduleType))
    return { scope: { kind: 'workspace', admin: true, repositories: null }, page: 'configure' };
  return {
    scope: { kind: 'workspace', admin: false, repositories: null, publicOnly: true },
    page: 'workspace',
  };
}

/** The request's verified invocation token (401 TokenError otherwise). */
export async function verifiedInvocation(deps: ForgeAuthDeps, req: Request): Promise<ForgeInvocation> {
  const token = bearerToken(req.get('authorization'));
  if (!token) throw new TokenError('missing invocation token');
  return deps.verifier.verify(token);
}

/**
 * The installation's tenant, created on first sight (docs/forge.md), with the request's system token kept as its
 * newest (the worker's Bitbucket calls use it). Nothing is requested from its apiBaseUrl here.
 */
export async function forgeTenant(
  deps: ForgeAuthDeps,
  invocation: ForgeInvocation,
  req: Request,
): Promise<Tenant> {
  const systemToken = systemTokenOf(req.get('x-forge-oauth-system'));
  const tenant = await deps.tenants.saveForgeInstallation(
    { ...invocation, systemToken },
    { afterInstall: deps.afterInstall },
  );
  if (!tenant) throw new TokenError('invocation token does not match its installation');
  await deps.tenants.recordForgeInvocation(tenant, systemToken);
  return tenant;
}

/** The viewer of an `/api/v1` request made by a Forge UI through its remote. */
export async function forgeViewer(deps: ForgeAuthDeps, req: Request): Promise<Viewer> {
  const invocation = await verifiedInvocation(deps, req);
  // The scope is decided before any write: a token without a page context creates no tenant.
  const { scope, page } = scopeForInvocation(invocation);
  const tenant = await forgeTenant(deps, invocation, req);
  return { tenant, accountId: invocation.accountId ?? undefined, page, scope };
}
