import type { Knex } from 'knex';

/**
 * Webhook intake with push syncs coalesced per repository (src/db/webhook-delivery-store.ts). As
 * record_webhook_deliveries (20261206000100), but a `repo:push` delivery's job is keyed by its repository
 * (`pushes:<tenant>:<repository uuid>`, the key src/ingest/sync/scheduling.ts uses too): while that job waits,
 * more pushes to the repository only join it, and one sync covers them all (it reads the branch heads, so nothing
 * a single delivery carried is lost). Within one batch a key is enqueued once (add_jobs cannot update one row
 * twice in a statement). received_at is the clock at each insert, so a repository's deliveries keep their order
 * inside a batch.
 * record_webhook_deliveries stays for web replicas of the previous release during a rolling deploy.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`set local check_function_bodies = off`);
  await knex.raw(`
    create function store_webhook_deliveries(
      p_deliveries jsonb, p_task text, p_push_task text, p_priority integer, p_max_attempts integer
    ) returns table (stored_tenant_id uuid, stored_request_uuid text) language plpgsql as $$
    declare
      d jsonb;
      v_tenant uuid;
      v_repository text;
      v_key text;
      v_keys text[] := '{}';
      v_jobs graphile_worker.job_spec[] := '{}';
    begin
      for d in select value from jsonb_array_elements(p_deliveries) loop
        v_tenant := (d->>'tenant_id')::uuid;
        perform set_config('app.tenant_id', v_tenant::text, true);
        insert into webhook_deliveries as w (tenant_id, request_uuid, event, hook_uuid, attempt, payload, received_at)
          values (v_tenant, d->>'request_uuid', d->>'event', d->>'hook_uuid', (d->>'attempt')::integer, d->'payload',
                  clock_timestamp())
          on conflict on constraint webhook_deliveries_pkey do nothing;
        if found then
          stored_tenant_id := v_tenant;
          stored_request_uuid := d->>'request_uuid';
          return next;
          v_repository := d->'payload'->'repository'->>'uuid';
          -- One queue per tenant keeps a tenant's deliveries in arrival order.
          if d->>'event' = 'repo:push' and v_repository is not null then
            v_key := 'pushes:' || v_tenant || ':' || v_repository;
            if not v_key = any(v_keys) then
              v_keys := v_keys || v_key;
              v_jobs := v_jobs || row(
                p_push_task, json_build_object('tenantId', v_tenant, 'repositoryUuid', v_repository),
                'webhooks:' || v_tenant, null, p_max_attempts, v_key, p_priority, null
              )::graphile_worker.job_spec;
            end if;
          else
            v_jobs := v_jobs || row(
              p_task, json_build_object('tenantId', v_tenant, 'requestUuid', d->>'request_uuid'),
              'webhooks:' || v_tenant, null, p_max_attempts, null, p_priority, null
            )::graphile_worker.job_spec;
          end if;
        end if;
      end loop;
      if cardinality(v_jobs) > 0 then
        -- true: a push job that waits keeps its place (run_at); a running one is left alone and a new one queued.
        perform graphile_worker.add_jobs(v_jobs, true);
      end if;
    end
    $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists store_webhook_deliveries');
}
