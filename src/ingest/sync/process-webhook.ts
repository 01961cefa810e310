import { BudgetExhaustedError } from '../../bitbucket/budget';
import type { Trx } from '../../db/database';
import { markDeliveriesProcessed, pendingPushes } from '../../db/webhook-delivery-store';
import type { BackfillContext } from '../backfill-jobs';
import { openTenantSession, type TenantSession } from '../tenant-client';
import { isWebhookEvent, webhookData, type WebhookData, type WebhookEvent } from '../webhook-payloads';
import { planPullRequestSync } from './pull-request-sync';
import { planPushSync } from './push-sync';
import { planRepositoryDeletion, planRepositoryUpdate, resolveRepository } from './repository-events';
import { enqueuePushSync, enqueueWebhookRetry } from './scheduling';

export interface WebhookJobPayload {
  tenantId: string;
  requestUuid: string;
}

export interface PushSyncJobPayload {
  tenantId: string;
  repositoryUuid: string;
}

/** Push deliveries one sync takes at most; more waiting get a sync of their own right after. */
const PUSHES_PER_SYNC = 500;

type Write = (trx: Trx) => Promise<void>;
const nothing: Write = async () => undefined;

/**
 * Reads what the delivery is about from the API (no writes yet) and returns the write that applies it. Pushes are
 * synced by repository (syncPushes).
 */
async function plan(
  ctx: BackfillContext,
  session: TenantSession,
  event: Exclude<WebhookEvent, 'repo:push'>,
  payload: unknown,
): Promise<Write> {
  const tenantId = session.tenant.id;
  switch (event) {
    case 'repo:updated':
      return planRepositoryUpdate(ctx, session, (payload as WebhookData<'repo:updated'>).repository.uuid);
    case 'repo:deleted':
      return planRepositoryDeletion(ctx, tenantId, (payload as WebhookData<'repo:deleted'>).repository.uuid);
    case 'pullrequest:created':
    case 'pullrequest:updated':
    case 'pullrequest:fulfilled':
    case 'pullrequest:rejected': {
      const data = payload as WebhookData<'pullrequest:updated'>;
      const repo = await resolveRepository(ctx, session, data.repository.uuid);
      return repo ? planPullRequestSync(ctx, session, repo, data.pullrequest) : nothing;
    }
  }
}

/**
 * The `process_webhook` job: loads the stored delivery, reads the current state of what it names from the API,
 * applies it in one transaction that also marks the delivery processed. Safe to run any number of times, in any
 * order relative to other deliveries: each run applies what is true at that moment.
 */
export async function processWebhook(ctx: BackfillContext, job: WebhookJobPayload): Promise<void> {
  const { tenantId, requestUuid } = job;
  const delivery = await ctx.db.withTenant(tenantId, (trx) =>
    trx('webhook_deliveries')
      .where({ tenant_id: tenantId, request_uuid: requestUuid })
      .first('event', 'payload', 'processed_at'),
  );
  if (!delivery || delivery.processed_at) return;
  const markProcessed = (trx: Trx) =>
    trx('webhook_deliveries')
      .where({ tenant_id: tenantId, request_uuid: requestUuid })
      .update({ processed_at: ctx.now() });
  const event: string = delivery.event;
  // Stored deliveries passed the same schema at intake; one that no longer does (a schema change) is skipped.
  const parsed = isWebhookEvent(event) ? webhookData[event].safeParse(delivery.payload) : undefined;
  if (!parsed?.success) {
    ctx.logger.warn({ tenantId, requestUuid, event }, 'webhook delivery skipped: unknown event or payload');
    await ctx.db.withTenant(tenantId, markProcessed);
    return;
  }
  // A push job queued before pushes were coalesced: its repository's sync takes it along.
  if (event === 'repo:push') {
    const repositoryUuid = (parsed.data as WebhookData<'repo:push'>).repository.uuid;
    return syncPushes(ctx, { tenantId, repositoryUuid });
  }
  const session = await openTenantSession(ctx.sessions, tenantId, 'high');
  if (!session) return ctx.logger.info({ tenantId, requestUuid }, 'webhook skipped: tenant not installed');
  let write: Write;
  try {
    write = await plan(ctx, session, event as Exclude<WebhookEvent, 'repo:push'>, parsed.data);
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    ctx.logger.info({ tenantId, requestUuid, retryAt: error.retryAt }, 'webhook waits for request budget');
    return enqueueWebhookRetry(ctx.db.knex, tenantId, requestUuid, error.retryAt);
  }
  await ctx.db.withTenant(tenantId, async (trx) => {
    await write(trx);
    await markProcessed(trx);
  });
  ctx.logger.info(
    { tenantId, requestUuid, event, requests: session.client.stats.requests },
    'webhook processed',
  );
}

/**
 * The `sync_pushes` job: every push delivery of one repository that waits, synced at once. Pushes to a repository
 * share one waiting job (its key, set at intake), and one sync covers them all without losing anything a single
 * delivery would have brought: planPushSync reads each touched ref's current head from the API and lists what is
 * new from there (a delivery is only a hint that refs changed), and merges several changes of one ref as one (the
 * first old head, the last new one, rewritten if any was). The deliveries are marked processed in the sync's
 * transaction.
 */
export async function syncPushes(ctx: BackfillContext, job: PushSyncJobPayload): Promise<void> {
  const { tenantId, repositoryUuid } = job;
  const pending = await ctx.db.withTenant(tenantId, (trx) =>
    pendingPushes(trx, tenantId, repositoryUuid, PUSHES_PER_SYNC),
  );
  if (pending.length === 0) return;
  const requestUuids = pending.map((d) => d.requestUuid);
  const markProcessed = (trx: Trx) => markDeliveriesProcessed(trx, tenantId, requestUuids, ctx.now());
  const changes = pending.flatMap((delivery) => {
    // Stored deliveries passed the same schema at intake; one that no longer does (a schema change) is skipped.
    const parsed = webhookData['repo:push'].safeParse(delivery.payload);
    if (parsed.success) return parsed.data.push.changes;
    ctx.logger.warn({ tenantId, requestUuid: delivery.requestUuid }, 'push delivery skipped: payload');
    return [];
  });
  const session = await openTenantSession(ctx.sessions, tenantId, 'high');
  if (!session) return ctx.logger.info({ tenantId, repositoryUuid }, 'pushes skipped: tenant not installed');
  let write: Write = nothing;
  try {
    const repo = changes.length > 0 ? await resolveRepository(ctx, session, repositoryUuid) : null;
    if (repo) write = await planPushSync(ctx, session, repo, changes);
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    ctx.logger.info({ tenantId, repositoryUuid, retryAt: error.retryAt }, 'pushes wait for request budget');
    return enqueuePushSync(ctx.db.knex, tenantId, repositoryUuid, error.retryAt);
  }
  await ctx.db.withTenant(tenantId, async (trx) => {
    await write(trx);
    await markProcessed(trx);
    if (pending.length === PUSHES_PER_SYNC) await enqueuePushSync(trx, tenantId, repositoryUuid);
  });
  ctx.logger.info(
    { tenantId, repositoryUuid, deliveries: pending.length, requests: session.client.stats.requests },
    'pushes synced',
  );
}
