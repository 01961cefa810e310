import type { Knex } from 'knex';

/**
 * Data migrations as the owner role. The owner is NOBYPASSRLS (compose's tally_owner; DESIGN.md §3) and every tenant
 * table forces RLS, so a migration sees a tenant's rows only with `app.tenant_id` set, and the registry only with
 * `app.system` on. Each step below sets what it needs, transaction-locally (knex runs a migration in a transaction),
 * and filters on tenant_id explicitly as well, so that it does the same under a superuser, who bypasses RLS.
 */

/** Runs fn once per registered tenant with `app.tenant_id` set to it, then clears the settings again. */
export async function forEachTenant(
  knex: Knex | Knex.Transaction,
  fn: (tenant: { id: string; state: string }) => Promise<void>,
): Promise<void> {
  await knex.raw(`select set_config('app.system', 'on', true)`);
  const { rows } = await knex.raw<{ rows: { id: string; state: string }[] }>(
    'select id::text as id, state from tenants order by id',
  );
  await knex.raw(`select set_config('app.system', '', true)`);
  try {
    for (const tenant of rows) {
      await knex.raw(`select set_config('app.tenant_id', ?, true)`, [tenant.id]);
      await fn(tenant);
    }
  } finally {
    await knex.raw(`select set_config('app.tenant_id', '', true)`);
  }
}

const TENANT = `current_setting('app.tenant_id')::uuid`;

/**
 * The read models of migration 20261125300100 that are derived from older ones, filled per tenant where they are
 * incomplete (that migration, run by a NOBYPASSRLS owner before it set app.tenant_id, filled nothing):
 * - contributor_rollups_total from contributor_rollups_yearly, and the UTC punch cards from workspace_rollups_hourly,
 *   rebuilt when their commit count differs from their source's (live upkeep has been adding to them since);
 * - pull_request_reviewers from pull_request_participants, where missing (the trigger has kept later writes);
 * - pull-request facts: a rebuild_rollups job for each installed tenant with a pull request that has none.
 * Each tenant is taken under its exclusive upkeep lock (src/analytics/upkeep.ts), so running jobs do not interleave.
 */
export async function refillDerivedReadModels(knex: Knex | Knex.Transaction): Promise<void> {
  const queue = await knex.raw(`select 1 from pg_namespace where nspname = 'graphile_worker'`);
  await forEachTenant(knex, async (tenant) => {
    await knex.raw(
      `select pg_advisory_xact_lock(hashtextextended('rollups:' || current_setting('app.tenant_id'), 0))`,
    );
    const totals = await knex.raw<{ rows: { stale: boolean }[] }>(
      `select (select sum(commits) from contributor_rollups_total where tenant_id = ${TENANT})
                is distinct from
              (select sum(commits) from contributor_rollups_yearly where tenant_id = ${TENANT}) as stale`,
    );
    if (totals.rows[0]!.stale) {
      await knex.raw(`delete from contributor_rollups_total where tenant_id = ${TENANT}`);
      await knex.raw(`
        insert into contributor_rollups_total
        select tenant_id, '-infinity', contributor_id, is_merge, is_bot, sum(commits), sum(lines_added),
               sum(lines_removed), sum(lines_added_all), sum(lines_removed_all), min(first_at), max(last_at)
          from contributor_rollups_yearly
         where tenant_id = ${TENANT}
         group by tenant_id, contributor_id, is_merge, is_bot`);
    }
    for (const [table, grain] of [
      ['workspace_punchcard_rollups_monthly', 'month'],
      ['workspace_punchcard_rollups_yearly', 'year'],
    ] as const)
      await refillPunchCard(knex, table, grain, false);
    await knex.raw(`
      insert into pull_request_reviewers (tenant_id, user_uuid, account_id, display_name)
      select distinct on (tenant_id, user_uuid) tenant_id, user_uuid, account_id, display_name
        from pull_request_participants
       where tenant_id = ${TENANT}
       order by tenant_id, user_uuid, display_name desc nulls last
      on conflict (tenant_id, user_uuid) do nothing`);
    if (queue.rows.length === 0 || tenant.state !== 'installed') return;
    // The job's queue and key are enqueueRollupRebuild's (src/analytics/rollup-rebuild.ts): one rebuild per tenant.
    await knex.raw(`
      select graphile_worker.add_job('rebuild_rollups', json_build_object('tenantId', ${TENANT}),
                                     queue_name => 'rollups:' || ${TENANT}, job_key => 'rebuild_rollups:' || ${TENANT})
       where exists (
         select 1 from pull_requests p
          where p.tenant_id = ${TENANT}
            and not exists (select 1 from pull_request_facts f
                             where f.tenant_id = p.tenant_id and f.repository_id = p.repository_id
                               and f.pull_request_id = p.id))`);
  });
}

/**
 * A UTC punch-card rollup (whole workspace, or per repository) of the current tenant, rebuilt from its hourly source
 * when its commit count differs from the source's: a new table, or one a NOBYPASSRLS owner could not fill. The caller
 * sets app.tenant_id and holds the tenant's exclusive upkeep lock (live upkeep keeps the table from then on).
 */
export async function refillPunchCard(
  knex: Knex | Knex.Transaction,
  table: string,
  grain: 'month' | 'year',
  byRepository: boolean,
): Promise<void> {
  // Per repository from the (repository × contributor) hours; the workspace from its own hours.
  const source = byRepository ? 'rollups_hourly' : 'workspace_rollups_hourly';
  const repository = byRepository ? 'repository_id,' : '';
  const punch = await knex.raw<{ rows: { stale: boolean }[] }>(
    `select (select sum(commits) from ?? where tenant_id = ${TENANT})
              is distinct from
            (select sum(commits) from ?? where tenant_id = ${TENANT}) as stale`,
    [table, source],
  );
  if (!punch.rows[0]!.stale) return;
  await knex.raw(`delete from ?? where tenant_id = ${TENANT}`, [table]);
  await knex.raw(
    `insert into ?? (tenant_id, bucket, ${repository} hour_of_week, is_merge, is_bot, commits, lines_added,
                     lines_removed, lines_added_all, lines_removed_all)
     select tenant_id, date_trunc(?, bucket, 'UTC'), ${repository}
            (extract(dow from bucket at time zone 'UTC') * 24 + extract(hour from bucket at time zone 'UTC'))::smallint,
            is_merge, is_bot, sum(commits), sum(lines_added), sum(lines_removed), sum(lines_added_all),
            sum(lines_removed_all)
       from ?? where tenant_id = ${TENANT}
      group by 1, 2, 3${byRepository ? ', 4' : ''}, is_merge, is_bot`,
    [table, grain, source],
  );
}
