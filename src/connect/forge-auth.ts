import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { Database } from '../db/database';
import { listRepositories } from '../db/repository-store';
import type { InTransaction, Tenant, TenantStore } from '../db/tenant-store';
import type { Logger } from '../platform/logger';
import type { Viewer } from './auth';
import { bearerToken, systemTokenOf, type ForgeInvocation, type ForgeVerifier } from './forge-token';
import { TokenError } from './jwt';
import type { ViewerScope } from './session-scope';

/**
 * Where a viewer's repository permissions come from, given the user token (src/bitbucket/user-permissions.ts,
 * cached per viewer): `readable` the repositories the user has a permission in; `refused` when Bitbucket refuses
 * the token or it is someone else's; `unavailable` when Bitbucket cannot answer now.
 */
export interface ViewerPermissionSource {
  lookup(
    tenantId: string,
    query: { apiBaseUrl: string; workspaceUuid: string; userToken: string; accountId: string },
  ): Promise<{ readable: string[] } | { refused: string } | { unavailable: string }>;
}

export interface ForgeAuthDeps {
  tenants: TenantStore;
  verifier: ForgeVerifier;
  /** Runs in the transaction that installs a new (or returning) Forge tenant: its backfill starts there. */
  afterInstall?: InTransaction;
  /** With these, a UI call's user token (`x-forge-oauth-user`) opens the private repositories its viewer may read. */
  userPermissions?: { db: Database; source: ViewerPermissionSource; logger: Logger };
}

/** The header Forge puts the viewer's user token in (when the manifest's remote asks for `appUserToken`). */
export const USER_TOKEN_HEADER = 'x-forge-oauth-user';

/** An opaque bearer token: printable ASCII without spaces, of a sane length. */
const userTokenSchema = z.string().regex(/^[\x21-\x7e]{8,8192}$/);

/** Bitbucket's admin-only Forge pages: the workspace settings page is Connect's configure page (docs/forge.md). */
const ADMIN_MODULES = new Set(['bitbucket:workspaceSettingsMenuPage']);

/** The viewer's own page in a workspace: "My contributions", in place of Connect's profile tab (docs/forge.md). */
const PERSONAL_MODULES = new Set(['bitbucket:workspacePersonalSettingsPage']);

/**
 * The viewer scope of a UI invocation, from its module context, in the scope model Connect's session tokens use
 * (src/connect/session-scope.ts): a page that shows a repository (`context.extension.repository.uuid`) sees that
 * repository only; the workspace settings page (admins only, in Bitbucket) is the admin scope and Tally's
 * configure page; the personal settings page ("My contributions") sees the viewer's own contributions in public
 * repositories; any other workspace page sees the workspace's public repositories. Those last two widen to the
 * private repositories the viewer may read when the call carries a user token (withUserPermissions). No module
 * context (events, backend calls): no viewer, a 401.
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
  if (invocation.moduleType !== null && PERSONAL_MODULES.has(invocation.moduleType)) {
    if (invocation.accountId === null) throw new TokenError('a personal page invocation names no principal');
    return {
      scope: {
        kind: 'profile',
        admin: false,
        repositories: null,
        contributor: `a:${invocation.accountId}`,
        publicOnly: true,
      },
      page: 'profile',
    };
  }
  return {
    scope: { kind: 'workspace', admin: false, repositories: null, publicOnly: true },
    page: 'workspace',
  };
}

const forgeJson = express.json({ limit: '256kb', type: () => true });

/**
 * A Forge request's JSON body, read only once its invocation token passed (an unauthenticated caller's body is
 * never read). Body-parser's errors (bad JSON 400, too large 413) reach the app's error handler (src/api/http-errors.ts).
 */
export function readInvocationBody(req: Request, res: Response): Promise<unknown> {
  return new Promise((resolve, reject) =>
    forgeJson(req, res, (error?: unknown) => (error ? reject(error) : resolve(req.body))),
  );
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
  return {
    tenant,
    accountId: invocation.accountId ?? undefined,
    page,
    scope: await withUserPermissions(deps, req, invocation, tenant, scope),
  };
}

/**
 * A public-only scope (a member's workspace page, "My contributions") with a user token becomes an explicit set:
 * the workspace's public repositories plus those Bitbucket says the viewer has a permission in (the endpoint
 * leaves out public repositories granted to nobody in particular). Without a user token, or when Bitbucket cannot
 * answer now, the scope stays public-only; a token Bitbucket refuses, or someone else's, is a 401. Admin and
 * repository scopes never look at the user token. The token goes to the invocation's allowlisted apiBaseUrl only.
 */
async function withUserPermissions(
  deps: ForgeAuthDeps,
  req: Request,
  invocation: ForgeInvocation,
  tenant: Tenant,
  scope: ViewerScope,
): Promise<ViewerScope> {
  const header = req.get(USER_TOKEN_HEADER);
  const permissions = deps.userPermissions;
  if (header === undefined || !scope.publicOnly || !permissions) return scope;
  const userToken = userTokenSchema.safeParse(header);
  if (!userToken.success) throw new TokenError('malformed user token');
  if (invocation.accountId === null || tenant.workspaceUuid === null) return scope;
  const answer = await permissions.source.lookup(tenant.id, {
    apiBaseUrl: invocation.apiBaseUrl,
    workspaceUuid: tenant.workspaceUuid,
    userToken: userToken.data,
    accountId: invocation.accountId,
  });
  if ('refused' in answer) throw new TokenError(`user token refused: ${answer.refused}`);
  if ('unavailable' in answer) {
    permissions.logger.warn(
      { tenantId: tenant.id, reason: answer.unavailable },
      'viewer permissions unavailable; public repositories only',
    );
    return scope;
  }
  const publicOnes = await permissions.db.withTenant(tenant.id, (trx) =>
    listRepositories(trx, tenant.id, { uuids: null, publicOnly: true }),
  );
  const readable = new Set([...publicOnes.map((r) => r.uuid.toLowerCase()), ...answer.readable]);
  return { ...scope, repositories: [...readable].sort(), publicOnly: false };
}
