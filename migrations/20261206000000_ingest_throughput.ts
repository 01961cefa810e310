import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';

/**
 * Ingest throughput (docs/benchmarks.md, "Backfill"):
 * - commit_files loses its foreign key to commits. The check ran once per file row and locked the commit row each
 *   time: two thirds of the cost of storing a file. Files are written only by saveDiffstats, together with their
 *   commit's line counts and under that commit's row lock, and commits are never deleted one by one (a tenant's
 *   rows go table by table in tenant-purge.ts), so the key guarded nothing the write path does not.
 * - commits_by_date goes: analytics read commit_facts, and nothing reads commits by date across repositories any
 *   more, while every commit written paid for the index.
 * - analytics_changes: the commits and pull requests whose facts and rollups must follow a write. Ingest records
 *   them in its own transaction and an `apply_analytics_changes` job applies them in large batches
 *   (src/analytics/change-queue.ts), so the analytics upkeep no longer runs inside every ingest write.
 * - acquire_request_budget: a grant of the per-tenant request budget in one round trip instead of eight
 *   (src/db/request-budget-store.ts has the rules).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table commit_files drop constraint if exists commit_files_tenant_id_repository_id_hash_fkey;
    drop index if exists commits_by_date;

    create table analytics_changes (
      tenant_id uuid not null,
      subject text not null check (subject in ('commit', 'pull_request')),
      repository_id bigint not null,
      -- A commit's hash, or a pull request's id as text.
      key text not null,
      primary key (tenant_id, subject, repository_id, key)
    );

    create function acquire_request_budget(
      p_tenant_id uuid, p_priority text, p_wanted integer, p_limit integer, p_now timestamptz,
      p_window_span_ms integer, p_claim_ms integer
    ) returns table (granted integer, retry_at timestamptz) language plpgsql as $$
    declare
      v_claim_until timestamptz;
      v_used integer;
      v_available integer;
      v_granted integer;
      v_oldest timestamptz;
      v_span interval := make_interval(secs => p_window_span_ms / 1000.0);
    begin
      perform set_config('app.tenant_id', p_tenant_id::text, true);
      insert into api_request_budgets (tenant_id) values (p_tenant_id) on conflict do nothing;
      -- The row lock serialises grants of one tenant across every worker process.
      select b.high_claim_until into v_claim_until from api_request_budgets b
       where b.tenant_id = p_tenant_id for update;
      delete from api_request_grants g where g.tenant_id = p_tenant_id and g.granted_at <= p_now - v_span;
      select coalesce(sum(g.requests), 0)::int into v_used from api_request_grants g where g.tenant_id = p_tenant_id;
      if p_priority = 'low' and v_claim_until is not null and v_claim_until > p_now then
        return query select 0, v_claim_until;
        return;
      end if;
      v_available := p_limit - v_used;
      if v_available > 0 then
        v_granted := greatest(1, least(p_wanted, v_available));
        insert into api_request_grants (tenant_id, granted_at, requests, priority)
          values (p_tenant_id, p_now, v_granted, p_priority);
        if p_priority = 'high' and v_claim_until is not null then
          update api_request_budgets set high_claim_until = null where tenant_id = p_tenant_id;
        end if;
        return query select v_granted, null::timestamptz;
        return;
      end if;
      -- Full: the moment enough of the oldest grants have left the window for the use to drop below the limit.
      select w.granted_at into v_oldest from (
        select g.granted_at, sum(g.requests) over (order by g.granted_at, g.id) as leaving
          from api_request_grants g where g.tenant_id = p_tenant_id
      ) w where v_used - w.leaving < p_limit order by w.granted_at limit 1;
      retry_at := greatest(p_now + interval '1 millisecond', coalesce(v_oldest, p_now) + v_span);
      if p_priority = 'high' then
        -- A waiting push sync claims the next freed slot: backfill stands aside until a little after it comes back.
        update api_request_budgets
           set high_claim_until = retry_at + make_interval(secs => p_claim_ms / 1000.0), updated_at = p_now
         where tenant_id = p_tenant_id;
      end if;
      granted := 0;
      return next;
    end
    $$;
  `);
  await enableTenantRls(knex, 'analytics_changes');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function if exists acquire_request_budget;
    drop table if exists analytics_changes;
    create index if not exists commits_by_date on commits (tenant_id, authored_at);
    alter table commit_files add foreign key (tenant_id, repository_id, hash)
      references commits (tenant_id, repository_id, hash) on delete cascade;
  `);
}
