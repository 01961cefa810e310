import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { errorBody } from '../platform/error-codes';
import { badRequest, forbidden, HttpError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { jsonProblem, validate } from '../platform/validation';
import type { TenantStore } from '../db/tenant-store';
import { authenticate, type AuthDeps } from './auth';
import { peek, TokenError } from './jwt';

const MAX_TEXT = 2048;
// Identifiers and URLs: no control characters at all (PostgreSQL text cannot hold NUL).
const text = (max = MAX_TEXT) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\x00-\x1f\x7f]*$/, 'control characters are not allowed');

/** Hosts that may install Tally: Bitbucket's, plus configured development hosts (`host` or `host:port`). */
export function isAllowedHost(rawUrl: string, allowedHosts: string[], requireHttps: boolean): boolean {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && (requireHttps || url.protocol !== 'http:')) return false;
  if (url.username || url.password) return false;
  return allowedHosts.includes(url.hostname) || allowedHosts.includes(url.host);
}

const principal = z
  .object({
    type: z.string().max(64).optional(),
    uuid: text(128).optional(),
    username: text(256).optional(),
    display_name: z.string().max(512).optional(),
    slug: text(256).optional(),
  })
  .loose();

const lifecycleBase = z
  .object({
    key: text(128),
    clientKey: text(512),
    baseUrl: text(),
    baseApiUrl: text(),
    productType: z.literal('bitbucket'),
    publicKey: z.string().max(4096).optional(),
    principal: principal.optional(),
  })
  .loose();

export const installedPayload = lifecycleBase.extend({
  eventType: z.literal('installed'),
  sharedSecret: z.string().min(16).max(512),
});

export const uninstalledPayload = lifecycleBase.extend({
  eventType: z.literal('uninstalled'),
});

const refuse = (res: Response, error: HttpError) =>
  void res.status(error.status).json(errorBody(error.code, error.message));

export interface LifecycleDeps extends AuthDeps {
  tenants: TenantStore;
  allowedHosts: string[];
  requireHttps: boolean;
  logger: Logger;
}

/**
 * Lifecycle routes. `POST /installed` is guarded here and then handed to ACE's own install route, which stores the
 * installation through the knex store; `POST /uninstalled` (which ACE does not register) is handled here.
 * First installs are unsigned in Bitbucket (trust on first use), so the hosts must be on the allowlist;
 * a reinstall must be signed with the stored secret.
 */
export function lifecycleRouter(deps: LifecycleDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: '64kb' });

  router.post('/installed', json, async (req, res, next) => {
    try {
      // The whole payload is stored (client_info, jsonb): what it cannot hold is refused here, not by the insert.
      const problem = jsonProblem(req.body);
      if (problem) throw new HttpError(problem.code, `install payload: ${problem.message}`);
      const body = validate(installedPayload, req.body, 'install payload');
      if (body.key !== deps.appKey) throw badRequest('install payload is for another app');
      for (const field of ['baseUrl', 'baseApiUrl'] as const) {
        if (!isAllowedHost(body[field], deps.allowedHosts, deps.requireHttps)) {
          deps.logger.warn({ clientKey: body.clientKey, field }, 'install refused: host not allowed');
          throw forbidden(`${field} is not a Bitbucket host`);
        }
      }
      const token = req.get('authorization');
      if (token) {
        const peeked = peek(token.replace(/^JWT\s+/i, ''));
        // ACE would fetch a public key from the network for RS256; Bitbucket never signs that way.
        if (!peeked || peeked.alg !== 'HS256') throw new TokenError('unsupported JWT');
      }
      const existing = await deps.tenants.findByClientKey(body.clientKey);
      if (existing) {
        const viewer = await authenticate(deps, 'lifecycle', req);
        if (viewer.tenant.clientKey !== body.clientKey) throw new TokenError('JWT is for another client');
      }
      req.body = body;
      deps.logger.info({ clientKey: body.clientKey, reinstall: Boolean(existing) }, 'install accepted');
      next(); // on to ACE's install route, which saves through the store adapter
    } catch (error) {
      if (error instanceof HttpError) return refuse(res, error);
      next(error);
    }
  });

  router.post('/uninstalled', json, async (req, res, next) => {
    try {
      const payload = validate(uninstalledPayload, req.body, 'uninstall payload');
      const viewer = await authenticate(deps, 'lifecycle', req);
      if (viewer.tenant.clientKey !== payload.clientKey) throw new TokenError('JWT is for another client');
      const tenant = await deps.tenants.markUninstalled(payload.clientKey);
      deps.logger.info({ clientKey: payload.clientKey, deleteAfter: tenant?.deleteAfter }, 'uninstalled');
      res.status(204).end();
    } catch (error) {
      if (error instanceof HttpError) return refuse(res, error);
      next(error);
    }
  });

  return router;
}
