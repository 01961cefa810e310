import { BudgetExhaustedError } from '../../bitbucket/budget';
import type { Trx } from '../../db/database';
import type { BackfillContext } from '../backfill-jobs';
import { openTenantSession, type TenantSession } from '../tenant-client';
import { isWebhookEvent, webhookData, type WebhookData, type WebhookEvent } from '../webhook-payloads';
import { planPullRequestSync } from './pull-request-sync';
import { planPushSync } from './push-sync';
import { planRepositoryDeletion, planRepositoryUpdate, resolveRepository } from './repository-events';
import { enqueueWebhookRetry } from './scheduling';

export interface WebhookJobPayload {
  tenantId: string;
  requestUuid: string;
}

type Write = (trx: Trx) => Promise<void>;
const nothing: Write = async () => undefined;

/** Reads what the delivery is about from the API (no writes yet) and returns the write that applies it. */
async function plan(
  ctx: BackfillContext,
  session: TenantSession,
  event: WebhookEvent,
  payload: unknown,
): Promise<Write> {
  const tenantId = session.tenant.id;
  switch (event) {
    case 'repo:push': {
      const data = payload as WebhookData<'repo:push'>;
      const repo = await resolveRepository(ctx, session, data.repository.uuid);
      return repo ? planPushSync(ctx, session, repo, data.push.changes) : nothing;
    }
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
  const session = await openTenantSession(ctx.sessions, tenantId, 'high');
  if (!session) return ctx.logger.info({ tenantId, requestUuid }, 'webhook skipped: tenant not installed');
  let write: Write;
  try {
    write = await plan(ctx, session, event as WebhookEvent, parsed.data);
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
