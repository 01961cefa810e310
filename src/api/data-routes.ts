import express, { type Router } from 'express';
import { z } from 'zod';
import { listAudit } from '../db/audit-log';
import { deleteAllTenantData } from '../db/tenant-purge';
import { requireConfigurePage } from '../connect/auth';
import { HttpError } from '../platform/errors';
import { validate } from '../platform/validation';
import type { ApiDeps } from './api-router';
import { fitBytes, MAX_JSON_BYTES } from './bounded-json';

const deleteBody = z.object({ confirm: z.string().min(1).max(512) });

const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().positive().optional(),
});

const DELETE_TIMEOUT_MS = 120_000;

/** Who is acting, as audit entries name them. */
export const actorOf = (accountId: string | undefined) => `user:${accountId ?? 'unknown'}`;

/**
 * The tenant's own data: "delete all data" and the audit log (support reads included).
 * Deleting is for workspace admins: only a session token minted by the (admin-only) configure page may do it.
 */
export function dataRouter(deps: ApiDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: '4kb' });

  router.post('/data/delete', requireConfigurePage, json, async (req, res, next) => {
    try {
      const body = deleteBody.safeParse(req.body ?? {});
      if (!body.success)
        throw new HttpError('invalid_request', 'confirm the deletion with the workspace name');
      const viewer = res.locals.viewer!;
      const expected = viewer.tenant.workspaceSlug ?? viewer.tenant.clientKey;
      if (body.data.confirm !== expected)
        throw new HttpError('invalid_request', 'the confirmation does not match the workspace');
      // Done within the request: one indexed DELETE per table, which PostgreSQL does in seconds even for large
      // tenants; more than the API's statement timeout allows, so this transaction sets its own.
      await deleteAllTenantData(
        deps.db.withStatementTimeout(DELETE_TIMEOUT_MS),
        viewer.tenant.id,
        actorOf(viewer.accountId),
        deps.now(),
      );
      res.status(204).end();
    } catch (error) {
      next(error);
    }
  });

  router.get('/audit', async (req, res, next) => {
    try {
      const query = validate(auditQuery, req.query, 'query');
      const found = await deps.db.withTenant(res.locals.viewer!.tenant.id, (trx) => listAudit(trx, query));
      // Entries carry settings before and after (up to a few hundred kB each): a page ends early to stay small.
      const entries = fitBytes(found, MAX_JSON_BYTES / 2);
      res.json({
        entries,
        next:
          entries.length === query.limit || entries.length < found.length
            ? (entries[entries.length - 1]?.id ?? null)
            : null,
      });
    } catch (error) {
      next(error);
    }
  });

  return router;
}
