import express, { type Router } from 'express';
import { currentEtas, listRepositories } from '../db/repository-store';
import { backfillRequestsPerSecond, limitInForce } from '../db/request-budget-store';
import type { ApiDeps } from './api-router';
import { visibleRepositories } from './viewer-scope';

/**
 * `GET /api/v1/repositories`: the tenant's repositories and their backfill progress, with the hourly request
 * budget in force (the limit Bitbucket announces, else BITBUCKET_REQUESTS_PER_HOUR) and each repository's ETA at
 * that budget. Field names are part of the API (tools and the UI read them). Deleted repositories are left out, and
 * so are those outside the viewer's scope.
 */
export function repositoriesRoutes(deps: ApiDeps): Router {
  const router = express.Router();
  router.get('/repositories', async (_req, res, next) => {
    try {
      const tenantId = res.locals.viewer!.tenant.id;
      const visible = visibleRepositories(res);
      const { repositories, inForce, etas } = await deps.db.withTenant(tenantId, async (trx) => {
        const inForce = await limitInForce(trx, tenantId, deps.requestBudget, deps.now());
        // Every repository of the tenant shares the budget, visible or not, so all count towards each ETA.
        const rate = backfillRequestsPerSecond(inForce, deps.requestBudget.windowMs);
        const etas = await currentEtas(trx, tenantId, rate);
        return { repositories: await listRepositories(trx, tenantId, visible), inForce, etas };
      });
      res.json({
        // `public_only`: private repositories are left out (a profile page); the page says so.
        visibility: visible.publicOnly ? 'public_only' : 'all',
        requests_per_hour: inForce.requestsPerHour,
        requests_per_hour_source: inForce.source,
        repositories: repositories.map((r) => ({
          uuid: r.uuid,
          full_name: r.fullName,
          // Bitbucket's project of the repository (null until Tally has read it, or in a workspace without them).
          project: r.project,
          state: r.syncState,
          commits_known: r.commitsKnown,
          commits_with_lines: r.commitsWithLines,
          requests_used: r.requestsUsed,
          eta_seconds: etas.get(r.id) ?? null,
        })),
      });
    } catch (error) {
      next(error);
    }
  });
  return router;
}
