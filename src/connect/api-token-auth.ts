import type { Request } from 'express';
import { API_TOKEN_PREFIX, findApiTokenKey } from '../db/api-token-store';
import type { Database } from '../db/database';
import { authenticate, type AuthDeps, type Viewer } from './auth';
import { forgeViewer, type ForgeAuthDeps } from './forge-auth';
import { TokenError } from './jwt';
import type { ViewerScope } from './session-scope';

/** What an API token may read: the whole workspace, private repositories included, never the admin routes. */
export const API_TOKEN_SCOPE: ViewerScope = { kind: 'workspace', admin: false, repositories: null };

/**
 * The two kinds of `Authorization: Bearer`: a JWT (three dot-separated parts: Forge invocation tokens) or an API
 * token (`tly_…`, base64url, never a dot). Neither can pass for the other.
 */
export function bearerKind(token: string): 'jwt' | 'api-token' | null {
  if (token.startsWith(API_TOKEN_PREFIX)) return token.includes('.') ? null : 'api-token';
  return token.split('.').length === 3 ? 'jwt' : null;
}

function bearerOf(req: Request): string | null {
  const header = req.get('authorization');
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match ? match[1]! : null;
}

/** The viewer of an API token: its tenant (installed) and the workspace read scope. A 401 otherwise. */
export async function apiTokenViewer(deps: ApiAuthDeps, token: string): Promise<Viewer> {
  const key = await findApiTokenKey(deps.db, token);
  if (!key) throw new TokenError('unknown or revoked API token');
  const tenant = await deps.tenants.findById(key.tenantId);
  if (!tenant) throw new TokenError('unknown or revoked API token');
  if (tenant.state !== 'installed') throw new TokenError('Tally is not installed here', 'not_installed');
  return { tenant, scope: API_TOKEN_SCOPE, apiToken: { id: key.tokenId } };
}

export interface ApiAuthDeps extends AuthDeps {
  db: Database;
  /** The Forge door, when open: a bearer JWT is then a Forge invocation token (docs/forge.md). */
  forge?: ForgeAuthDeps;
}

/**
 * Who is calling `/api/v1`: `Authorization: JWT <session token>` (the pages), `Bearer <API token>`, or, when the
 * Forge door is open, `Bearer <Forge invocation token>` (a JWT); with the door closed a bearer JWT is a 401.
 */
export function apiViewer(deps: ApiAuthDeps): (req: Request) => Promise<Viewer> {
  return async (req) => {
    const bearer = bearerOf(req);
    if (bearer === null) return authenticate(deps, 'session', req);
    switch (bearerKind(bearer)) {
      case 'api-token':
        return apiTokenViewer(deps, bearer);
      case 'jwt':
        if (deps.forge) return forgeViewer(deps.forge, req);
        throw new TokenError('bearer JWTs are not accepted here');
      default:
        throw new TokenError('malformed bearer token');
    }
  };
}
