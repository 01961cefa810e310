import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { createApiToken, listApiTokens, revokeApiToken, type ApiToken } from '../db/api-token-store';
import type { Trx } from '../db/database';
import { notFound } from '../platform/errors';
import { plainText, validate } from '../platform/validation';
import type { ApiDeps } from './api-router';
import { route } from './analytics-params';
import { actorOf } from './data-routes';

const createBody = z.strictObject({ name: plainText.trim().min(1, 'name the token').max(100) });
const tokenId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const present = (t: ApiToken) => ({
  id: t.id,
  name: t.name,
  created_by: t.createdBy,
  created_at: t.createdAt,
  last_used_at: t.lastUsedAt,
});

/**
 * API tokens for scripts and BI tools, managed from the configure page: create (the secret is shown once), list
 * (never a secret), revoke. Who may call each route is decided in route-access.ts.
 */
export function apiTokenRouter(deps: ApiDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: '4kb' });
  const inTenant = <T>(res: Response, fn: (trx: Trx) => Promise<T>) =>
    deps.db.withTenant(res.locals.viewer!.tenant.id, fn);
  const actor = (res: Response) => actorOf(res.locals.viewer!.accountId);

  router.get(
    '/tokens',
    route(async (_req, res) => {
      const tokens = await inTenant(res, listApiTokens);
      res.json({ tokens: tokens.map(present) });
    }),
  );

  router.post(
    '/tokens',
    json,
    route(async (req, res) => {
      const { name } = validate(createBody, req.body ?? {}, 'body');
      const created = await inTenant(res, (trx) =>
        createApiToken(trx, res.locals.viewer!.tenant.id, { name, createdBy: actor(res), now: deps.now() }),
      );
      res.status(201).json({ ...present(created), token: created.token });
    }),
  );

  router.delete(
    '/tokens/:id',
    route(async (req, res) => {
      const id = validate(tokenId, req.params.id, 'id');
      const revoked = await inTenant(res, (trx) =>
        revokeApiToken(trx, res.locals.viewer!.tenant.id, { id, revokedBy: actor(res), now: deps.now() }),
      );
      if (!revoked) throw notFound('no such token');
      res.status(204).end();
    }),
  );

  return router;
}
