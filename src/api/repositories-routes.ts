import express, { type Router } from 'express';
import { listRepositories } from '../db/repository-store';
import type { ApiDeps } from './api-router';
import { visibleRepositories } from './viewer-scope';

/**
 * `GET /api/v1/repositories`: the tenant's repositories and their backfill progress. Field names are part of the
 * API (tools and the UI read them). Deleted repositories are left out, and so are those outside the viewer's scope.
 */
export function repositoriesRoutes(deps: ApiDeps): Router {
  const router = express.Router();
  router.get('/repositories', async (_req, res, next) => {
    try {
      const tenantId = res.locals.viewer!.tenant.id;
      const visible = visibleRepositories(res);
      const repositories = await deps.db.withTenant(tenantId, (trx) =>
        listRepositories(trx, tenantId, visible),
      );
      res.json({
        // `public_only`: private repositories are left out (a profile page); the page says so.
        visibility: visible.publicOnly ? 'public_only' : 'all',
        repositories: repositories.map((r) => ({
          uuid: r.uuid,
          full_name: r.fullName,
          // Bitbucket's project of the repository (null until Tally has read it, or in a workspace without them).
          project: r.project,
          state: r.syncState,
          commits_known: r.commitsKnown,
          commits_with_lines: r.commitsWithLines,
          requests_used: r.requestsUsed,
          eta_seconds: r.etaSeconds,
        })),
      });
    } catch (error) {
      next(error);
    }
  });
  return router;
}
