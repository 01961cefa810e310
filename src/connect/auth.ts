import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Tenant, TenantStore } from '../db/tenant-store';
import { UnreadableSecretError } from '../platform/secret-box';
import { errorBody } from '../platform/error-codes';
import { peek, qshOf, TokenError, verifyConnectToken, type ConnectClaims } from './jwt';
import { viewerScopeSchema, type ViewerScope } from './session-scope';

/**
 * Which Connect token a route takes:
 * - lifecycle / webhook: `Authorization: JWT`, iss = aud = clientKey, qsh over `POST&<path>&`;
 * - page: `?jwt=`, iss = clientKey, qsh over the full GET request (Bitbucket has no context-qsh);
 * - session: `Authorization: JWT`, Tally's own session token (iss = app key, aud = [clientKey]), no qsh.
 */
export type TokenKind = 'lifecycle' | 'webhook' | 'page' | 'session';

export interface Viewer {
  tenant: Tenant;
  /** The Bitbucket account that is looking (page and session tokens), when known. */
  accountId?: string;
  /** For session tokens: the Tally page the viewer is on (`configure` is admin-only in Bitbucket). */
  page?: string;
  /** For session tokens: what the viewer may read (always present on a session token's viewer). */
  scope?: ViewerScope;
  /** For API tokens (src/connect/api-token-auth.ts): the token speaking; never an admin. */
  apiToken?: { id: number };
}

declare module 'express-serve-static-core' {
  interface Locals {
    viewer?: Viewer;
  }
}

export function tokenFrom(req: Request, kind: TokenKind): string | null {
  if (kind === 'page') return typeof req.query.jwt === 'string' ? req.query.jwt : null;
  const header = req.get('authorization');
  const match = header ? /^JWT\s+(\S+)$/i.exec(header) : null;
  return match ? match[1]! : null;
}

function clientKeyOf(kind: TokenKind, claims: { iss: string; aud?: string | string[] }): string {
  if (kind === 'session') return Array.isArray(claims.aud) ? (claims.aud[0] ?? '') : (claims.aud ?? '');
  return claims.iss;
}

export interface AuthDeps {
  tenants: TenantStore;
  appKey: string;
}

/**
 * Authenticates a request with a Connect JWT of the given kind and puts the tenant into res.locals.viewer.
 * Every failure is a 401 with a short reason; nothing about the tenant is revealed.
 */
export async function authenticate(deps: AuthDeps, kind: TokenKind, req: Request): Promise<Viewer> {
  const token = tokenFrom(req, kind);
  if (!token) throw new TokenError('missing JWT');
  const peeked = peek(token);
  if (!peeked) throw new TokenError('malformed JWT');
  if (peeked.alg !== 'HS256') throw new TokenError('unsupported JWT algorithm');
  const clientKey = clientKeyOf(kind, peeked.claims);
  if (!clientKey) throw new TokenError('JWT names no client');
  const expectedQsh =
    kind === 'session'
      ? null
      : qshOf(req.method, kind === 'page' ? req.originalUrl : req.originalUrl.split('?')[0]!);
  // A cached secret may be stale after a reinstall rotated it on another replica: on failure, look again.
  let found = await findWithSecret(deps, clientKey);
  let claims: ConnectClaims;
  try {
    if (!found) throw new TokenError('unknown client');
    claims = verifyConnectToken(token, found.secret, expectedQsh);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    const fresh = await findWithSecret(deps, clientKey, true);
    if (!fresh) throw new TokenError('unknown client');
    if (found && fresh.secret === found.secret) throw error;
    found = fresh;
    claims = verifyConnectToken(token, found.secret, expectedQsh);
  }
  const { tenant } = found;
  if (kind !== 'lifecycle' && tenant.state !== 'installed')
    throw new TokenError('Tally is not installed here', 'not_installed');
  if (kind === 'session' && claims.iss !== deps.appKey) throw new TokenError('not a Tally session token');
  if ((kind === 'lifecycle' || kind === 'webhook') && claims.aud !== undefined) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(clientKey)) throw new TokenError('JWT audience does not match');
  }
  if (kind !== 'session') return { tenant, accountId: claims.sub };
  const scope = viewerScopeSchema.safeParse(claims.tally_scope);
  if (!scope.success) throw new TokenError('session token without a valid viewer scope');
  return { tenant, accountId: claims.sub, page: claims.tally_page, scope: scope.data };
}

/** A stored secret no configured key opens fails that tenant's requests with a 401 (TenantStore logs it). */
async function findWithSecret(deps: AuthDeps, clientKey: string, fresh = false) {
  try {
    return await deps.tenants.findWithSecret(clientKey, { fresh });
  } catch (error) {
    if (error instanceof UnreadableSecretError) throw new TokenError('installation cannot be verified');
    throw error;
  }
}

/** Express middleware form of authenticate(). */
export function requireConnectJwt(deps: AuthDeps, kind: TokenKind): RequestHandler {
  return requireViewer((req) => authenticate(deps, kind, req));
}

/** A middleware that puts the viewer an authenticator finds into res.locals.viewer; a TokenError is a 401. */
export function requireViewer(authenticator: (req: Request) => Promise<Viewer>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    authenticator(req).then(
      (viewer) => {
        res.locals.viewer = viewer;
        next();
      },
      (error: unknown) => {
        if (error instanceof TokenError) {
          res.status(401).json(errorBody(error.code, error.message));
        } else {
          next(error);
        }
      },
    );
  };
}

/**
 * Admin-only actions (settings, identity merges, consent, deleting data). Bitbucket shows the configure page to
 * workspace admins only, and only a session token minted by that page carries `tally_page: configure`.
 */
export const requireConfigurePage: RequestHandler = (_req, res, next) => {
  if (res.locals.viewer?.page === 'configure') return next();
  res.status(403).json(errorBody('admin_only', 'only workspace admins, on the configure page, may do this'));
};
