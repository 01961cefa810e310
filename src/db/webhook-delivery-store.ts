import { Batcher } from '../platform/batcher';
import type { Database, Trx } from './database';

export interface DeliveryInput {
  tenantId: string;
  requestUuid: string;
  event: string;
  hookUuid: string | null;
  attempt: number;
  /** The delivery's `data`, as JSON text. */
  payloadJson: string;
}

/**
 * The job every stored delivery gets, in its tenant's `webhooks:` queue: `pushTask` for a `repo:push` (one job per
 * repository while it waits: migrations/202612072001_coalesced_push_intake.ts), `task` for any other event.
 */
export interface DeliveryJob {
  task: string;
  pushTask: string;
  priority: number;
  maxAttempts: number;
}

/** Deliveries stored per statement at most. */
const MAX_BATCH = 200;
/** Payload bytes per statement at most (a batch of 200 deliveries of 256 KB each would be 50 MB in one string). */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * One batch at a time: every batch's commit also notifies the job queue's listeners, and PostgreSQL serialises
 * commits that notify, so concurrent batches only wait for each other (measured: fewer deliveries per second and
 * more database CPU per delivery with 2, 4 or 16 batches in flight than with 1).
 */
const MAX_IN_FLIGHT = 1;

/** A delivery PostgreSQL cannot store as it is (a NUL character, a lone UTF-16 surrogate): a bad request. */
export class UnstorableDeliveryError extends Error {
  constructor() {
    super('payload holds text that cannot be stored (a NUL character or an unpaired surrogate)');
  }
}

/** SQLSTATE class 22: data exceptions (the value itself is wrong, e.g. jsonb refusing \u0000). */
const isDataException = (error: unknown) => /^22/.test(String((error as { code?: unknown })?.code ?? ''));

/**
 * Stores webhook deliveries and enqueues their jobs atomically (migrations/202612072001_coalesced_push_intake.ts).
 * Deliveries that arrive while writes are running are stored together, one statement and one commit per batch;
 * each caller's promise settles once its own delivery is committed, so a delivery is answered only after it is
 * stored. Resolves false for a repeated delivery: nothing is stored or enqueued again. A delivery that cannot be
 * stored fails alone (the batcher writes a failed batch's deliveries one by one) with UnstorableDeliveryError.
 */
export class DeliveryStore {
  private readonly batcher: Batcher<DeliveryInput, boolean>;

  constructor(
    private readonly db: Database,
    private readonly job: DeliveryJob,
  ) {
    this.batcher = new Batcher((deliveries) => this.write(deliveries), {
      maxBatch: MAX_BATCH,
      maxBytes: MAX_BATCH_BYTES,
      maxInFlight: MAX_IN_FLIGHT,
    });
  }

  record(delivery: DeliveryInput): Promise<boolean> {
    // Batches take their deliveries fairly across tenants (src/platform/batcher.ts).
    return this.batcher
      .submit(delivery, delivery.tenantId, delivery.payloadJson.length)
      .catch((error: unknown) => {
        throw isDataException(error) ? new UnstorableDeliveryError() : error;
      });
  }

  private async write(deliveries: DeliveryInput[]): Promise<boolean[]> {
    const { rows } = await this.db.knex.raw<{
      rows: { stored_tenant_id: string; stored_request_uuid: string }[];
    }>(`select stored_tenant_id, stored_request_uuid from store_webhook_deliveries(?::jsonb, ?, ?, ?, ?)`, [
      `[${deliveries
        .map((d) => {
          const fields = JSON.stringify({
            tenant_id: d.tenantId,
            request_uuid: d.requestUuid,
            event: d.event,
            hook_uuid: d.hookUuid,
            attempt: d.attempt,
          });
          // The payload's JSON goes in as it is (no second serialisation of up to 256 KB).
          return `${fields.slice(0, -1)},"payload":${d.payloadJson}}`;
        })
        .join(',')}]`,
      this.job.task,
      this.job.pushTask,
      this.job.priority,
      this.job.maxAttempts,
    ]);
    const stored = new Set(rows.map((r) => `${r.stored_tenant_id} ${r.stored_request_uuid}`));
    // The first of two identical deliveries in one batch is stored; the second is the repeat.
    return deliveries.map((d) => stored.delete(`${d.tenantId} ${d.requestUuid}`));
  }
}

export interface PendingDelivery {
  requestUuid: string;
  payload: unknown;
}

/**
 * A repository's push deliveries not yet processed, oldest first (index webhook_deliveries_pending_pushes), at most
 * `limit`.
 */
export async function pendingPushes(
  trx: Trx,
  tenantId: string,
  repositoryUuid: string,
  limit: number,
): Promise<PendingDelivery[]> {
  const { rows } = await trx.raw<{ rows: { request_uuid: string; payload: unknown }[] }>(
    `select request_uuid, payload from webhook_deliveries
      where tenant_id = ? and payload->'repository'->>'uuid' = ? and processed_at is null and event = 'repo:push'
      order by received_at, request_uuid
      limit ?`,
    [tenantId, repositoryUuid, limit],
  );
  return rows.map((r) => ({ requestUuid: r.request_uuid, payload: r.payload }));
}

export async function markDeliveriesProcessed(
  trx: Trx,
  tenantId: string,
  requestUuids: string[],
  at: Date,
): Promise<void> {
  await trx('webhook_deliveries')
    .where({ tenant_id: tenantId })
    .whereIn('request_uuid', requestUuids)
    .update({ processed_at: at });
}

/**
 * Deletes up to `limit` of the tenant's processed deliveries received before `before` (index
 * webhook_deliveries_received); returns how many went. Deliveries not yet processed are kept whatever their age.
 */
export async function pruneProcessedDeliveries(
  trx: Trx,
  tenantId: string,
  before: Date,
  limit: number,
): Promise<number> {
  const { rowCount } = await trx.raw(
    `delete from webhook_deliveries
      where tenant_id = ? and request_uuid in (
        select request_uuid from webhook_deliveries
         where tenant_id = ? and received_at < ? and processed_at is not null
         limit ?)`,
    [tenantId, tenantId, before, limit],
  );
  return rowCount ?? 0;
}
