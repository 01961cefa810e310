import type { BudgetPolicy } from '../db/request-budget-store';
import express, { type Router } from 'express';
import { apiViewer } from '../connect/api-token-auth';
import { requireViewer, type AuthDeps } from '../connect/auth';
import type { ForgeAuthDeps } from '../connect/forge-auth';
import type { Database } from '../db/database';
import { apiTokenRateLimit } from './api-token-limit';
import { apiTokenRouter } from './api-token-routes';
import { boundedJson } from './bounded-json';
import { commitRouter } from './commit-routes';
import { dataRouter } from './data-routes';
import { exportRouter } from './export-routes';
import { openApiRouter } from './openapi-routes';
import { pullRequestRouter } from './pull-request-routes';
import { repositoriesRoutes } from './repositories-routes';
import { routeAccess } from './route-access';
import { settingsRouter } from './settings-routes';
import { statsRouter } from './stats-routes';
import { supportConsentRouter } from './support-consent-routes';
import { teamRouter } from './team-routes';
import { visibilityOf } from './viewer-scope';

export interface ApiDeps extends AuthDeps {
  db: Database;
  now: () => Date;
  /** The configured request budget (BITBUCKET_REQUESTS_PER_HOUR an hour), which announced limits override. */
  requestBudget: BudgetPolicy;
  /** Requests an API token may make per minute (120 unless given). */
  apiTokenRequestsPerMinute?: number;
  /** The Forge door, when open (FORGE_APP_ID set): `Authorization: Bearer <invocation token>` is accepted too. */
  forge?: ForgeAuthDeps;
}

/**
 * The JSON/CSV API under /api/v1, authenticated by Tally's session token (Authorization: JWT …), an API token
 * (Authorization: Bearer tly_…, rate-limited and counted per token) or, when the Forge door is open, a Forge
 * invocation token (Authorization: Bearer <JWT>; src/connect/forge-auth.ts), all giving a viewer scope of one model.
 * Routers stay thin: validate, call, present.
 */
export function apiRouter(deps: ApiDeps): Router {
  const router = express.Router();
  // The API's own description is public (served before authentication).
  router.use(openApiRouter());
  router.use(requireViewer(apiViewer(deps)));
  // Before the access decision: a refused request of a token counts too.
  router.use(apiTokenRateLimit({ ...deps, perMinute: deps.apiTokenRequestsPerMinute ?? 120 }));
  router.use(boundedJson);
  // Every route below needs an access decision (route-access.ts); one without answers 404.
  router.use(routeAccess());

  router.get('/me', (_req, res) => {
    const viewer = res.locals.viewer!;
    const scope = viewer.scope!;
    res.json({
      clientKey: viewer.tenant.clientKey,
      workspace: viewer.tenant.workspaceSlug,
      accountId: viewer.accountId ?? null,
      scope: {
        page: viewer.page ?? null,
        kind: scope.kind,
        admin: scope.admin,
        repositories: scope.repositories,
        contributor: scope.contributor ?? null,
        visibility: visibilityOf(scope),
      },
    });
  });

  // Feature routers, each in its own file under src/api/, are mounted below.
  router.use(dataRouter(deps));
  router.use(supportConsentRouter(deps));
  router.use(repositoriesRoutes(deps));
  router.use(statsRouter(deps));
  router.use(pullRequestRouter(deps));
  router.use(exportRouter(deps));
  router.use(commitRouter(deps));
  router.use(settingsRouter(deps));
  router.use(apiTokenRouter(deps));
  router.use(teamRouter(deps));
  return router;
}
