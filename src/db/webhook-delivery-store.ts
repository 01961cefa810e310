import type { Database } from './database';
import type { JobOptions } from './job-queue';

export interface DeliveryInput {
  tenantId: string;
  requestUuid: string;
  event: string;
  hookUuid: string | null;
  attempt: number;
  payload: unknown;
}

export interface DeliveryJob {
  task: string;
  payload: { tenantId: string } & Record<string, unknown>;
  options: Required<Pick<JobOptions, 'queueName' | 'priority' | 'maxAttempts'>>;
}

/**
 * Stores a webhook delivery and enqueues its job atomically, in one database round trip (the intake's hot path;
 * see migrations/20261125500000_webhook_intake.ts). Returns false for a repeated delivery: nothing is stored or
 * enqueued again.
 */
export async function recordDelivery(
  db: Database,
  delivery: DeliveryInput,
  job: DeliveryJob,
): Promise<boolean> {
  const { rows } = await db.knex.raw(
    `select record_webhook_delivery(?::uuid, ?, ?, ?, ?, ?::jsonb, ?, ?::json, ?, ?, ?) as stored`,
    [
      delivery.tenantId,
      delivery.requestUuid,
      delivery.event,
      delivery.hookUuid,
      delivery.attempt,
      JSON.stringify(delivery.payload),
      job.task,
      JSON.stringify(job.payload),
      job.options.queueName,
      job.options.priority,
      job.options.maxAttempts,
    ],
  );
  return rows[0].stored as boolean;
}
