import express, { type Router } from 'express';
import { requireConfigurePage } from '../connect/auth';
import { z } from 'zod';
import { activeConsent, grantConsent, MAX_CONSENT_DAYS, revokeConsent } from '../db/support-consent-store';
import { plainText, validate } from '../platform/validation';
import type { ApiDeps } from './api-router';
import { actorOf } from './data-routes';

const grantBody = z.object({
  days: z.number().int().min(1).max(MAX_CONSENT_DAYS),
  reason: plainText.trim().min(3).max(500),
});

/**
 * Consent to support access, from the configure page: grant for N days with a reason, revoke any time.
 * The database enforces it (the support role's RLS policies read support_consents).
 */
export function supportConsentRouter(deps: ApiDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: '4kb' });

  router.get('/support/consent', async (_req, res, next) => {
    try {
      const consent = await deps.db.withTenant(res.locals.viewer!.tenant.id, (trx) =>
        activeConsent(trx, deps.now()),
      );
      res.json({ consent });
    } catch (error) {
      next(error);
    }
  });

  router.post('/support/consent', requireConfigurePage, json, async (req, res, next) => {
    try {
      const body = validate(grantBody, req.body ?? {}, 'body');
      const viewer = res.locals.viewer!;
      const consent = await deps.db.withTenant(viewer.tenant.id, (trx) =>
        grantConsent(trx, viewer.tenant.id, {
          ...body,
          grantedBy: actorOf(viewer.accountId),
          now: deps.now(),
        }),
      );
      res.status(201).json({ consent });
    } catch (error) {
      next(error);
    }
  });

  router.delete('/support/consent', requireConfigurePage, async (_req, res, next) => {
    try {
      const viewer = res.locals.viewer!;
      const revoked = await deps.db.withTenant(viewer.tenant.id, (trx) =>
        revokeConsent(trx, viewer.tenant.id, { revokedBy: actorOf(viewer.accountId), now: deps.now() }),
      );
      res.json({ revoked });
    } catch (error) {
      next(error);
    }
  });

  return router;
}
