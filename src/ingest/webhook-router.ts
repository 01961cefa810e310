import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { requireConnectJwt, type AuthDeps } from '../connect/auth';
import type { Database } from '../db/database';
import { DeliveryStore, UnstorableDeliveryError } from '../db/webhook-delivery-store';
import { FairAdmission } from '../platform/admission';
import { errorBody } from '../platform/error-codes';
import { HttpError } from '../platform/errors';
import { jsonProblem, validate } from '../platform/validation';
import type { Logger } from '../platform/logger';
import { envelopeFor, isWebhookEvent, type WebhookEvent } from './webhook-payloads';

export interface WebhookRoute {
  event: string;
  url: string;
}

export interface WebhookDeps extends AuthDeps {
  /** Built with the job below (createDeliveryStore), one per web process. */
  deliveries: DeliveryStore;
  /** Deliveries held by this process at once (createIntakeAdmission), one per process. */
  admission: FairAdmission;
  logger: Logger;
}

/** The job that processes a stored delivery (src/ingest/sync/process-webhook.ts). */
export const PROCESS_WEBHOOK_TASK = 'process_webhook';
/** The job that syncs a repository's waiting pushes, all of them at once (src/ingest/sync/process-webhook.ts). */
export const SYNC_PUSHES_TASK = 'sync_pushes';

/** Where deliveries are stored, each with its job (pushes run before backfill work). */
export function createDeliveryStore(db: Database): DeliveryStore {
  return new DeliveryStore(db, {
    task: PROCESS_WEBHOOK_TASK,
    pushTask: SYNC_PUSHES_TASK,
    priority: -10,
    maxAttempts: 25,
  });
}

/**
 * A tenant may hold a quarter of the intake's deliveries at once: a flood of one tenant (or three) still leaves room
 * for everyone else, and a tenant alone still has hundreds of deliveries in progress.
 */
const TENANT_SHARE = 0.25;

/**
 * The bound on deliveries in progress in this process (from authentication to the answer): `limit` in all, a
 * tenant's share of it each. With bodies of at most 256 KB this bounds the intake's memory.
 */
export function createIntakeAdmission(limit: number): FairAdmission {
  return new FairAdmission(limit, TENANT_SHARE);
}

/** Bitbucket resends a 5xx at once (twice at most); Retry-After is for any client that honours it. */
const RETRY_AFTER_SECONDS = 1;

declare module 'express-serve-static-core' {
  interface Locals {
    /** Keeps the request's intake slot until the returned function is called (see admit). */
    holdIntakeSlot?: () => () => void;
  }
}

/**
 * Takes an intake slot for the tenant, or answers 503 when its share (or the whole intake) is used up. The slot is
 * held until the response is over and, once the delivery went to the store, until its write has settled: a sender
 * that hangs up early does not free a slot while its delivery still waits for a batch.
 */
export function admit(
  admission: FairAdmission,
  tenantOf: (res: Response) => string = (res) => res.locals.viewer!.tenant.id,
): RequestHandler {
  return (_req, res, next) => {
    const release = admission.tryAdmit(tenantOf(res));
    if (!release) {
      // The body is never read: a refused delivery costs no memory.
      res
        .status(503)
        .set('Retry-After', String(RETRY_AFTER_SECONDS))
        .json(errorBody('intake_full', 'too many deliveries in progress; retry shortly'));
      return;
    }
    let holds = 1;
    const letGo = () => {
      if (--holds === 0) release();
    };
    res.once('close', letGo);
    res.locals.holdIntakeSlot = () => {
      holds++;
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        letGo();
      };
    };
    next();
  };
}

const deliveryId = z.string().trim().min(1).max(128);

/**
 * One route per descriptor webhook: verify the Connect JWT, take an intake slot for the tenant (or 503), validate
 * the envelope, then store the delivery and enqueue its job in one transaction (shared with the deliveries that
 * arrive meanwhile: group commit), and only then answer. A repeated delivery (same X-Request-UUID) is acknowledged
 * without a second job. The sync itself never runs in the request.
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
      admit(deps.admission),
      express.json({ limit: '256kb', type: () => true }),
      async (req: Request, res: Response, next) => {
        try {
          const headerEvent = req.get('x-event-key');
          if (headerEvent !== undefined && headerEvent !== event)
            throw new HttpError('invalid_request', 'X-Event-Key does not match');
          const requestUuid = validate(deliveryId, req.get('x-request-uuid'), 'X-Request-UUID');
          // Checked whole before it is serialized for storage (a deep one would overflow JSON.stringify).
          const problem = jsonProblem(req.body);
          if (problem) throw new HttpError(problem.code, `${event} payload: ${problem.message}`);
          const payload = validate(envelope, req.body, `${event} payload`);
          const tenantId = res.locals.viewer!.tenant.id;
          const payloadJson = JSON.stringify(payload.data);
          const attempt = Number.parseInt(req.get('x-attempt-number') ?? '1', 10);
          deps.logger.debug({ tenantId, requestUuid }, 'webhook waits to be stored');
          const letGo = res.locals.holdIntakeSlot!();
          const stored = await deps.deliveries
            .record({
              tenantId,
              requestUuid,
              event,
              hookUuid: req.get('x-hook-uuid')?.slice(0, 128) ?? null,
              attempt: Number.isSafeInteger(attempt) && attempt > 0 && attempt < 100 ? attempt : 1,
              payloadJson,
            })
            .finally(letGo);
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
