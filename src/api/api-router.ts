import express, { type Router } from 'express';
import { requireConnectJwt, type AuthDeps } from '../connect/auth';
import type { Database } from '../db/database';

export interface ApiDeps extends AuthDeps {
  db: Database;
  now: () => Date;
}

/**
 * The JSON/CSV API under /api/v1, authenticated by Tally's session token (Authorization: JWT …).
 * Routers stay thin: validate, call, present.
 */
export function apiRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.use(requireConnectJwt(deps, 'session'));

  router.get('/me', (_req, res) => {
    const viewer = res.locals.viewer!;
    res.json({
      clientKey: viewer.tenant.clientKey,
      workspace: viewer.tenant.workspaceSlug,
      accountId: viewer.accountId ?? null,
    });
  });

  // Feature routers, each in its own file under src/api/, are mounted below.
  return router;
}
