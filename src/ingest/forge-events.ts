import { createHash } from 'node:crypto';
import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import {
  forgeTenant,
  readInvocationBody,
  verifiedInvocation,
  type ForgeAuthDeps,
} from '../connect/forge-auth';
import { unwrapForgeEvent, workspaceOf } from '../connect/forge-token';
import { TokenError } from '../connect/jwt';
import type { Tenant } from '../db/tenant-store';
import { UnstorableDeliveryError } from '../db/webhook-delivery-store';
import { HttpError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { jsonProblem, noControlText, plainText, validate } from '../platform/validation';
import { webhookData, type WebhookData, type WebhookEvent } from './webhook-payloads';
import { admit, type WebhookDeps } from './webhook-router';

/**
 * Bitbucket's events for Forge apps (developer.atlassian.com/platform/forge/events-reference/bitbucket/), the parts
 * Tally reads. Unknown fields pass through; known ones must have the right shape. A Forge push names one ref
 * (`push.ref`, `before`, `after`); a tag push has no `commits`, `truncated` or `mainbranch`.
 */
const uuidText = noControlText.min(1).max(100);
const name = noControlText.min(1).max(1024);
const hash = z.string().regex(/^[0-9a-f]{7,40}$/i, 'not a commit hash');
const resource = z.object({ uuid: uuidText }).loose();
const common = {
  timestamp: noControlText.max(64).optional(),
  actor: z
    .object({ type: noControlText.max(64).optional() })
    .loose()
    .optional(),
  repository: z.object({ uuid: uuidText, slug: name.optional() }).loose(),
  project: resource.optional(),
  workspace: resource,
};
const repositoryEvent = (type: string) => z.object({ eventType: z.literal(type), ...common }).loose();
const pullRequestEvent = (type: string) =>
  z
    .object({
      eventType: z.literal(type),
      ...common,
      pullrequest: z
        .object({
          id: z
            .number()
            .int()
            .positive()
            .max(2 ** 31 - 1),
          state: z.enum(['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED']).optional(),
          title: z
            .object({ value: plainText.max(10_000) })
            .loose()
            .optional(),
        })
        .loose(),
    })
    .loose();

const pushEvent = z
  .object({
    eventType: z.literal('avi:bitbucket:push:repository'),
    ...common,
    push: z
      .object({
        ref: name,
        before: hash.optional(),
        after: hash.optional(),
        created: z.boolean(),
        closed: z.boolean(),
        forced: z.boolean(),
        truncated: z.boolean().optional(),
        mainbranch: z.boolean().optional(),
        commits: z.array(z.object({ hash }).loose()).max(1000).optional(),
      })
      .loose(),
  })
  .loose();

export const forgeEvent = z.discriminatedUnion('eventType', [
  pushEvent,
  repositoryEvent('avi:bitbucket:created:repository'),
  repositoryEvent('avi:bitbucket:updated:repository'),
  repositoryEvent('avi:bitbucket:deleted:repository'),
  pullRequestEvent('avi:bitbucket:created:pullrequest'),
  pullRequestEvent('avi:bitbucket:updated:pullrequest'),
  pullRequestEvent('avi:bitbucket:fulfilled:pullrequest'),
  pullRequestEvent('avi:bitbucket:rejected:pullrequest'),
]);

export type ForgeEvent = z.infer<typeof forgeEvent>;

/** The webhook event each Forge event is processed as (a created repository: adopted and backfilled as an update). */
const AS_WEBHOOK = {
  'avi:bitbucket:push:repository': 'repo:push',
  'avi:bitbucket:created:repository': 'repo:updated',
  'avi:bitbucket:updated:repository': 'repo:updated',
  'avi:bitbucket:deleted:repository': 'repo:deleted',
  'avi:bitbucket:created:pullrequest': 'pullrequest:created',
  'avi:bitbucket:updated:pullrequest': 'pullrequest:updated',
  'avi:bitbucket:fulfilled:pullrequest': 'pullrequest:fulfilled',
  'avi:bitbucket:rejected:pullrequest': 'pullrequest:rejected',
} as const satisfies Record<string, WebhookEvent>;

/**
 * A Forge event as the delivery the webhook pipeline processes (src/ingest/sync/): the same fields the Connect
 * payload has for what the sync reads. A push becomes one change of one ref; the sync reads the ref's head from
 * the API anyway, the payload only says which ref moved.
 */
export function asWebhook(event: ForgeEvent): { event: WebhookEvent; data: unknown } {
  const repository = {
    type: 'repository' as const,
    uuid: event.repository.uuid,
    full_name: `${event.workspace.uuid}/${event.repository.slug ?? event.repository.uuid}`,
  };
  const webhook: WebhookEvent = AS_WEBHOOK[event.eventType as keyof typeof AS_WEBHOOK];
  switch (event.eventType) {
    case 'avi:bitbucket:push:repository': {
      const { push } = event as z.infer<typeof pushEvent>;
      const type: 'branch' | 'tag' =
        push.commits !== undefined || push.mainbranch !== undefined ? 'branch' : 'tag';
      const ref = (target: string | undefined) =>
        target ? { type, name: push.ref, target: { hash: target } } : null;
      const data: WebhookData<'repo:push'> = {
        repository,
        push: {
          changes: [
            {
              old: ref(push.before),
              new: push.closed ? null : ref(push.after),
              created: push.created,
              closed: push.closed,
              forced: push.forced,
              truncated: push.truncated ?? false,
              commits: (push.commits ?? []).slice(0, 100).map((c) => ({ hash: c.hash })),
            },
          ],
        },
      };
      return { event: webhook, data };
    }
    case 'avi:bitbucket:created:pullrequest':
    case 'avi:bitbucket:updated:pullrequest':
    case 'avi:bitbucket:fulfilled:pullrequest':
    case 'avi:bitbucket:rejected:pullrequest': {
      const pr = (event as z.infer<ReturnType<typeof pullRequestEvent>>).pullrequest;
      const pullrequest = {
        id: pr.id,
        ...(pr.state ? { state: pr.state } : {}),
        ...(pr.title ? { title: pr.title.value } : {}),
      };
      return { event: webhook, data: { repository, pullrequest } };
    }
    default:
      return { event: webhook, data: { repository } };
  }
}

/**
 * The delivery id of an event: Forge names none, and resends the same event on a retry (up to 4 times), so the
 * event's own content is its identity (its `timestamp` tells two real events apart). A redelivery is recognised
 * exactly as a Connect redelivery's X-Request-UUID is.
 */
export const deliveryIdOf = (event: unknown): string =>
  `forge:${createHash('sha256').update(JSON.stringify(event)).digest('hex')}`;

declare module 'express-serve-static-core' {
  interface Locals {
    /** The tenant of a Forge event (events carry no viewer). */
    forgeTenant?: Tenant;
  }
}

export type ForgeEventDeps = ForgeAuthDeps &
  Pick<WebhookDeps, 'deliveries' | 'admission'> & {
    logger: Logger;
  };

/**
 * `POST /forge/events` (the manifest's trigger on Bitbucket's events; mounted only when FORGE_APP_ID is set): the
 * invocation token first (401, and an apiBaseUrl off the allowlist is a 401 with nothing requested from it), then
 * an intake slot for the tenant (503 when full, as for webhooks), then the body (zod; 400). The event is stored as
 * a webhook delivery, deduplicated, with its job enqueued in the same transaction (the webhook intake's store and
 * batches), and only then answered 204: well within Forge's 5 s. The sync runs later, in the worker, with the
 * tenant's system token.
 */
export function forgeEventsRouter(deps: ForgeEventDeps): Router {
  const router = express.Router();
  router.post(
    '/events',
    async (req, res, next) => {
      try {
        const invocation = await verifiedInvocation(deps, req);
        res.locals.forgeTenant = await forgeTenant(deps, invocation, req);
        next();
      } catch (error) {
        next(error);
      }
    },
    admit(deps.admission, (res) => res.locals.forgeTenant!.id),
    async (req, res, next) => {
      try {
        const raw = unwrapForgeEvent(await readInvocationBody(req, res));
        const problem = jsonProblem(raw);
        if (problem) throw new HttpError(problem.code, `event: ${problem.message}`);
        const event = validate(forgeEvent, raw, 'event');
        const tenant = await withEventWorkspace(deps, res.locals.forgeTenant!, event, req);
        const { event: webhook, data } = asWebhook(event);
        // What the sync reads must pass the webhook schema it checks again when it runs.
        validate(webhookData[webhook], data, 'event');
        const requestUuid = deliveryIdOf(raw);
        const letGo = res.locals.holdIntakeSlot!();
        const stored = await deps.deliveries
          .record({
            tenantId: tenant.id,
            requestUuid,
            event: webhook,
            hookUuid: null,
            attempt: 1,
            payloadJson: JSON.stringify(data),
          })
          .finally(letGo);
        deps.logger.info(
          { tenantId: tenant.id, event: event.eventType, requestUuid, duplicate: !stored },
          'forge event stored',
        );
        res.status(204).end();
      } catch (error) {
        next(error instanceof UnstorableDeliveryError ? new HttpError('invalid_text', error.message) : error);
      }
    },
  );
  return router;
}

/**
 * The event's workspace must be the installation's: one the token or the tenant already names, else it becomes
 * the tenant's (and its backfill starts). Anything else is refused as a forged event would be.
 */
async function withEventWorkspace(
  deps: ForgeAuthDeps,
  tenant: Tenant,
  event: ForgeEvent,
  req: Request,
): Promise<Tenant> {
  const named = workspaceOf(event.workspace.uuid);
  if (!named) throw new HttpError('invalid_request', 'event: workspace.uuid: expected a uuid');
  if (tenant.workspaceUuid === named) return tenant;
  if (tenant.workspaceUuid !== null)
    throw new TokenError('the event names another workspace than its installation');
  const invocation = await verifiedInvocation(deps, req);
  return forgeTenant(deps, { ...invocation, workspaceUuid: named }, req);
}
