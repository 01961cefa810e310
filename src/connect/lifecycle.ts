import express, { type Response, type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import { errorBody } from '../platform/error-codes';
import { badRequest, forbidden, HttpError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { jsonProblem, validate } from '../platform/validation';
import type { InTransaction, TenantStore } from '../db/tenant-store';
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
    // Forge installation ids are Forge tenants' keys (docs/forge.md): never a Connect clientKey.
    clientKey: text(512).refine((k) => !k.startsWith('ari:cloud:ecosystem::'), 'not a Connect clientKey'),
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

/** C0 and C1 control characters (NUL among them): no lifecycle field, not even a display name, has a use for one. */
const CONTROL = /\p{Cc}/u;

/** Whether any string in a parsed JSON body, key or value, holds a control character. */
export function hasControlCharacters(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return CONTROL.test(value);
  if (depth > 16 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasControlCharacters(v, depth + 1));
  return Object.entries(value).some(([k, v]) => CONTROL.test(k) || hasControlCharacters(v, depth + 1));
}

export interface LifecycleDeps extends AuthDeps {
  tenants: TenantStore;
  allowedHosts: string[];
  requireHttps: boolean;
  logger: Logger;
  /** `POST /installed` requests per source address per minute. */
  installsPerMinute: number;
  /** The install's first job, enqueued in the install's transaction (src/ingest/install-verification.ts). */
  afterInstall: InTransaction;
}

/**
 * Lifecycle routes, both handled here (ACE's own install route is off: it could not enqueue the install's first
 * job in the install's transaction). First installs are unsigned in Bitbucket (trust on first use): the hosts must
 * be on the allowlist, and the tenant stays `pending` until Bitbucket has answered a request signed with the new
 * credentials. A reinstall of a confirmed tenant must be signed with the stored secret.
 */
export function lifecycleRouter(deps: LifecycleDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: '64kb' });
  // In memory, per web process: a forged install already costs little, this bounds how many one address sends.
  const installLimit = rateLimit({
    windowMs: 60_000,
    limit: deps.installsPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    message: errorBody('rate_limited', 'too many installs from this address'),
  });
  // The whole payload is stored (client_info, jsonb): what it cannot hold (NUL, too deep) is invalid_text, and any
  // other control character, in any field, is not allowed either.
  const cleanBody: express.RequestHandler = (req, res, next) => {
    const problem = jsonProblem(req.body);
    if (problem) return refuse(res, new HttpError(problem.code, `lifecycle payload: ${problem.message}`));
    if (!hasControlCharacters(req.body)) return next();
    refuse(res, badRequest('control characters are not allowed in a lifecycle payload'));
  };

  router.post('/installed', installLimit, json, cleanBody, async (req, res, next) => {
    try {
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
        // Bitbucket signs lifecycle calls with HS256 only.
        if (!peeked || peeked.alg !== 'HS256') throw new TokenError('unsupported JWT');
      }
      // A pending tenant counts as unknown: nobody vouched for its secret, so it can neither be required nor
      // accepted as a signature (a squatted clientKey must not block the real first install).
      const existing = await deps.tenants.findByClientKey(body.clientKey);
      const reinstall = existing !== null && existing.state !== 'pending';
      if (reinstall) {
        const viewer = await authenticate(deps, 'lifecycle', req);
        if (viewer.tenant.clientKey !== body.clientKey) throw new TokenError('JWT is for another client');
      }
      const tenant = await deps.tenants.saveInstallation(body, {
        trusted: reinstall,
        afterSave: deps.afterInstall,
      });
      if (!tenant) throw new TokenError('a reinstall must be signed with the stored secret');
      deps.logger.info(
        { clientKey: body.clientKey, tenantId: tenant.id, reinstall, state: tenant.state },
        'install accepted',
      );
      res.status(204).end();
    } catch (error) {
      if (error instanceof HttpError) return refuse(res, error);
      next(error);
    }
  });

  router.post('/uninstalled', json, cleanBody, async (req, res, next) => {
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
