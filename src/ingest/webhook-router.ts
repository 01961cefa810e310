import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { requireConnectJwt, type AuthDeps } from '../connect/auth';
import type { Database } from '../db/database';
import { DeliveryStore, UnstorableDeliveryError } from '../db/webhook-delivery-store';
import { HttpError } from '../platform/errors';
import { validate } from '../platform/validation';
import type { Logger } from '../platform/logger';
import { envelopeFor, isWebhookEvent, type WebhookEvent } from './webhook-payloads';

export interface WebhookRoute {
  event: string;
  url: string;
}

export interface WebhookDeps extends AuthDeps {
  /** Built with the job below (createDeliveryStore), one per web process. */
  deliveries: DeliveryStore;
  logger: Logger;
}

/** The job that processes a stored delivery (src/ingest/sync/process-webhook.ts). */
export const PROCESS_WEBHOOK_TASK = 'process_webhook';

/** Where deliveries are stored, each with its process_webhook job (pushes run before backfill work). */
export function createDeliveryStore(db: Database): DeliveryStore {
  return new DeliveryStore(db, { task: PROCESS_WEBHOOK_TASK, priority: -10, maxAttempts: 25 });
}

const deliveryId = z.string().trim().min(1).max(128);

/**
 * One route per descriptor webhook: verify the Connect JWT, validate the envelope, then store the delivery and
 * enqueue its job in one transaction (shared with the deliveries that arrive meanwhile: group commit), and only
 * then answer. A repeated delivery (same X-Request-UUID) is acknowledged without a second job. The sync itself
 * never runs in the request.
 */
export function webhookRouter(deps: WebhookDeps, routes: WebhookRoute[]): Router {
  const router = express.Router();
  for (const route of routes) {
    if (!isWebhookEvent(route.event)) throw new Error(`No payload schema for webhook event ${route.event}`);
    const event: WebhookEvent = route.event;
    const envelope = envelopeFor(event);
    router.post(
      route.url,
      requireConnectJwt(deps, 'webhook'),
      express.json({ limit: '256kb', type: () => true }),
      async (req: Request, res: Response, next) => {
        try {
          const headerEvent = req.get('x-event-key');
          if (headerEvent !== undefined && headerEvent !== event)
            throw new HttpError('invalid_request', 'X-Event-Key does not match');
          const requestUuid = validate(deliveryId, req.get('x-request-uuid'), 'X-Request-UUID');
          const payload = validate(envelope, req.body, `${event} payload`);
          const tenantId = res.locals.viewer!.tenant.id;
          const payloadJson = JSON.stringify(payload.data);
          const attempt = Number.parseInt(req.get('x-attempt-number') ?? '1', 10);
          const stored = await deps.deliveries.record({
            tenantId,
            requestUuid,
            event,
            hookUuid: req.get('x-hook-uuid')?.slice(0, 128) ?? null,
            attempt: Number.isSafeInteger(attempt) && attempt > 0 && attempt < 100 ? attempt : 1,
            payloadJson,
          });
          deps.logger.info({ tenantId, event, requestUuid, duplicate: !stored }, 'webhook stored');
          res.status(204).end();
        } catch (error) {
          next(
            error instanceof UnstorableDeliveryError ? new HttpError('invalid_text', error.message) : error,
          );
        }
      },
    );
  }
  return router;
}
