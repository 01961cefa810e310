import type { Knex } from 'knex';

/**
 * Webhook intake in one round trip: set the tenant (transaction-local, exactly as withTenant does), store the
 * delivery unless it is a repeat, and enqueue its job, all in the one statement's transaction.
 * SECURITY INVOKER (the default): row-level security applies to the caller as for any other tenant write.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function record_webhook_delivery(
      p_tenant_id uuid, p_request_uuid text, p_event text, p_hook_uuid text, p_attempt integer, p_payload jsonb,
      p_task text, p_job_payload json, p_queue_name text, p_priority integer, p_max_attempts integer
    ) returns boolean language plpgsql as $$
    begin
      perform set_config('app.tenant_id', p_tenant_id::text, true);
      insert into webhook_deliveries (tenant_id, request_uuid, event, hook_uuid, attempt, payload)
        values (p_tenant_id, p_request_uuid, p_event, p_hook_uuid, p_attempt, p_payload)
        on conflict (tenant_id, request_uuid) do nothing;
      if not found then
        return false;
      end if;
      perform graphile_worker.add_job(
        identifier => p_task, payload => p_job_payload, queue_name => p_queue_name,
        priority => p_priority, max_attempts => p_max_attempts);
      return true;
    end
    $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists record_webhook_delivery');
}
