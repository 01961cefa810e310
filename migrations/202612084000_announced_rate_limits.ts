import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';
import { enableSupportRead } from '../src/db/support-access';

/**
 * The rate limits Bitbucket announces (X-RateLimit-Limit per X-RateLimit-Resource, and X-RateLimit-NearLimit) on
 * answers to access tokens and Forge apps, per tenant and resource, so every worker process follows the same
 * figure (src/db/request-budget-store.ts has the rules). An announcement lapses after the budget's window without
 * a fresh one; then the configured BITBUCKET_REQUESTS_PER_HOUR applies again.
 *
 * acquire_announced_request_budget wraps acquire_request_budget (migration 20261206000000_ingest_throughput):
 * it works out the limit in force in the same round trip, then grants against it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table api_rate_limits (
      tenant_id uuid not null,
      resource text not null check (length(resource) between 1 and 64),
      -- Validated before it is stored: the documented range is 1,000 to 10,000 an hour.
      requests_per_hour integer not null check (requests_per_hour between 1 and 10000),
      near_limit boolean not null,
      announced_at timestamptz not null,
      primary key (tenant_id, resource)
    );

    -- The smallest fresh announcement of any resource: Tally counts all its requests in one window, so holding
    -- them to the smallest limit keeps every resource under its own.
    create function request_limit_in_force(p_tenant_id uuid, p_configured integer, p_now timestamptz,
                                           p_lapse_ms integer)
    returns table (requests_per_hour integer, source text, near_limit boolean) language sql stable as $$
      select coalesce(min(a.requests_per_hour), p_configured),
             case when count(*) > 0 then 'announced' else 'configured' end,
             coalesce(bool_or(a.near_limit), false)
        from api_rate_limits a
       where a.tenant_id = p_tenant_id and a.announced_at > p_now - make_interval(secs => p_lapse_ms / 1000.0)
    $$;

    create function acquire_announced_request_budget(
      p_tenant_id uuid, p_priority text, p_wanted integer, p_configured integer, p_now timestamptz,
      p_window_span_ms integer, p_claim_ms integer, p_reserve_share float8, p_near_share float8
    ) returns table (granted integer, retry_at timestamptz) language plpgsql as $$
    declare
      v_in_force record;
      v_limit integer;
    begin
      perform set_config('app.tenant_id', p_tenant_id::text, true);
      select * into v_in_force from request_limit_in_force(p_tenant_id, p_configured, p_now, p_window_span_ms);
      v_limit := v_in_force.requests_per_hour;
      if p_priority = 'low' then
        if v_in_force.near_limit then
          v_limit := greatest(1, floor(v_limit * p_near_share)::int);
        end if;
        v_limit := greatest(1, v_limit - greatest(1, ceil(v_limit * p_reserve_share)::int));
      end if;
      return query select g.granted, g.retry_at
        from acquire_request_budget(p_tenant_id, p_priority, p_wanted, v_limit, p_now, p_window_span_ms, p_claim_ms) g;
    end
    $$;
  `);
  await enableTenantRls(knex, 'api_rate_limits');
  await enableSupportRead(knex, 'api_rate_limits');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function if exists acquire_announced_request_budget;
    drop function if exists request_limit_in_force;
    drop table if exists api_rate_limits;
  `);
}
