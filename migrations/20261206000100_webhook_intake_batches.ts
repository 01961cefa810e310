import type { Knex } from 'knex';

/**
 * Webhook intake in batches (group commit, src/db/webhook-delivery-store.ts): the deliveries that arrive while a
 * write is running are stored together, in one statement and one commit, each under its own tenant (the tenant
 * is set before each insert, transaction-local, as withTenant does), and the jobs of the new ones are enqueued in
 * the same transaction with one add_jobs call. Returns the deliveries stored now; a repeat (same tenant and
 * X-Request-UUID) is not stored again and gets no second job.
 * SECURITY INVOKER (the default): row-level security applies to the caller as for any other tenant write.
 */
export async function up(knex: Knex): Promise<void> {
  // The job queue's schema is created after these migrations (src/db/migrate.ts): the body is checked on first use.
  await knex.raw(`set local check_function_bodies = off`);
  await knex.raw(`
    create function record_webhook_deliveries(
      p_deliveries jsonb, p_task text, p_priority integer, p_max_attempts integer
    ) returns table (stored_tenant_id uuid, stored_request_uuid text) language plpgsql as $$
    declare
      d jsonb;
      v_tenant uuid;
      v_jobs graphile_worker.job_spec[] := '{}';
    begin
      for d in select value from jsonb_array_elements(p_deliveries) loop
        v_tenant := (d->>'tenant_id')::uuid;
        perform set_config('app.tenant_id', v_tenant::text, true);
        insert into webhook_deliveries as w (tenant_id, request_uuid, event, hook_uuid, attempt, payload)
          values (v_tenant, d->>'request_uuid', d->>'event', d->>'hook_uuid', (d->>'attempt')::integer, d->'payload')
          on conflict on constraint webhook_deliveries_pkey do nothing;
        if found then
          stored_tenant_id := v_tenant;
          stored_request_uuid := d->>'request_uuid';
          return next;
          -- One queue per tenant keeps a tenant's deliveries in arrival order.
          v_jobs := v_jobs || row(
            p_task, json_build_object('tenantId', v_tenant, 'requestUuid', d->>'request_uuid'),
            'webhooks:' || v_tenant, null, p_max_attempts, null, p_priority, null
          )::graphile_worker.job_spec;
        end if;
      end loop;
      if cardinality(v_jobs) > 0 then
        perform graphile_worker.add_jobs(v_jobs);
      end if;
    end
    $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists record_webhook_deliveries');
}
