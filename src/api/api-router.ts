import express, { type Router } from 'express';
import { requireConnectJwt, type AuthDeps } from '../connect/auth';

/**
 * The JSON/CSV API under /api/v1, authenticated by Tally's session token (Authorization: JWT …).
 * Routers stay thin: validate, call, present.
 */
export function apiRouter(deps: AuthDeps, mountFeatures: (router: Router) => void = () => undefined): Router {
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

  mountFeatures(router);
  return router;
}
