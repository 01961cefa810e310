import express, { type Router } from 'express';
import { z } from 'zod';
import type { Logger } from '../platform/logger';
import { noControlText, validate } from '../platform/validation';
import { forgeTenant, readInvocationBody, verifiedInvocation, type ForgeAuthDeps } from './forge-auth';
import { unwrapForgeEvent, workspaceOf } from './forge-token';
import { TokenError } from './jwt';

const text = (max: number) => noControlText.min(1).max(max);

/** A lifecycle event as Forge posts it to a remote endpoint (docs/forge.md); only `context` is read. */
const lifecycleEvent = z
  .object({
    eventType: z.enum(['avi:forge:installed:app', 'avi:forge:upgraded:app']).optional(),
    id: text(256).optional(),
    context: z
      .object({ installContext: text(512).optional(), workspaceId: text(512).optional() })
      .loose()
      .optional(),
  })
  .loose();

/**
 * A scheduled trigger's request (developer.atlassian.com/platform/forge/events-reference/scheduled-trigger/): its
 * `context` names the cloud and the trigger's module key; nothing in it is needed, so only its shape is checked.
 */
const scheduledInvocation = z
  .object({
    context: z
      .object({ cloudId: text(512).optional(), moduleKey: text(256).optional() })
      .loose()
      .optional(),
    contextToken: noControlText.max(16_384).optional(),
  })
  .loose();

/**
 * The Forge door's lifecycle endpoint (mounted only when FORGE_APP_ID is set): `POST /forge/installed`, the
 * `endpoint` of the manifest's trigger on `avi:forge:installed:app` and `avi:forge:upgraded:app`. The invocation
 * token is checked first (401), then the body (400); the installation's tenant is created or brought back, with
 * its workspace from the token's installation contexts or, failing those, the event's context. Forge sends no
 * uninstall event (docs/forge.md says what Tally does instead).
 */
export function forgeLifecycleRouter(deps: ForgeAuthDeps & { logger: Logger }): Router {
  const router = express.Router();
  router.post('/installed', async (req, res, next) => {
    try {
      const invocation = await verifiedInvocation(deps, req);
      const body = validate(lifecycleEvent, unwrapForgeEvent(await readInvocationBody(req, res)), 'event');
      const fromEvent = workspaceOf(body.context?.installContext) ?? workspaceOf(body.context?.workspaceId);
      if (invocation.workspaceUuid && fromEvent && fromEvent !== invocation.workspaceUuid)
        throw new TokenError('the event names another workspace than its invocation token');
      const tenant = await forgeTenant(
        deps,
        {
          ...invocation,
          workspaceUuid: invocation.workspaceUuid ?? fromEvent,
        },
        req,
      );
      deps.logger.info({ tenantId: tenant.id, installationId: tenant.clientKey }, 'forge installed');
      res.status(204).end();
    } catch (error) {
      next(error);
    }
  });
  /*
   * `POST /forge/scheduled`: the manifest's hourly scheduledTrigger. A quiet workspace (no pushes, no page views)
   * is invoked anyway, so its invocation is recorded and its system token kept fresh the same way as any other
   * invocation's, and the uninstall sweep (docs/forge.md) never mistakes it for an uninstalled one. Nothing else.
   */
  router.post('/scheduled', async (req, res, next) => {
    try {
      const invocation = await verifiedInvocation(deps, req);
      // Forge documents no body for a remote's scheduled trigger: none at all is taken as an empty one.
      validate(
        scheduledInvocation,
        unwrapForgeEvent((await readInvocationBody(req, res)) ?? {}),
        'invocation',
      );
      await forgeTenant(deps, invocation, req);
      res.status(204).end();
    } catch (error) {
      next(error);
    }
  });
  return router;
}
