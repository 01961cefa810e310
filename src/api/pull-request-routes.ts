import express, { type Router } from 'express';
import { pullRequestStats } from '../analytics/pull-requests';
import { resolveScope } from '../analytics/scope';
import type { ApiDeps } from './api-router';
import { pullRequestScopedFilters } from './viewer-scope';
import {
  filterShape,
  intervalParam,
  parseQuery,
  pullRequestPeopleShape,
  route,
  scopeEcho,
} from './analytics-params';

/**
 * `GET /pull-requests/stats`: created / merged / declined per period, time to merge, cycle phases, reviewers; of a
 * person's pull requests (`author=`), reviews (`reviewer=`) or a team's (`team=`) too.
 */
export function pullRequestRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.get(
    '/pull-requests/stats',
    route(async (req, res) => {
      const q = parseQuery({ ...filterShape, ...pullRequestPeopleShape, interval: intervalParam }, req.query);
      const out = await deps.db.withTenant(res.locals.viewer!.tenant.id, async (trx) => {
        const scope = await resolveScope(trx, pullRequestScopedFilters(res, q), deps.now());
        return {
          ...scopeEcho(scope),
          interval: q.interval,
          ...(await pullRequestStats(trx, scope, q.interval)),
        };
      });
      res.json(out);
    }),
  );
  return router;
}
