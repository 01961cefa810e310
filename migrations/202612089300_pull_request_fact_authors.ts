import type { Knex } from 'knex';
import { forEachTenant } from '../src/db/tenant-migrations';

/**
 * Pull-request statistics of a person or a team (author=, team=; docs/analytics.md): pull-request facts and review
 * facts carry the pull request's author (account id and user uuid, as pull_requests has them, and the uuid lower-cased
 * as a generated column: the form people are compared in, indexable under RLS, see 202612089000), so a team's facts
 * are read by index in one pass instead of being looked up pull request by pull request. Existing facts are filled
 * here per tenant from their pull requests (the owner is NOBYPASSRLS: forEachTenant sets app.tenant_id), under the
 * tenant's exclusive upkeep lock; upkeep writes them from now on (src/analytics/pull-request-facts.ts).
 */
const TABLES = ['pull_request_facts', 'pull_request_review_facts'];

export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.raw(
      `alter table ?? add column author_account_id text, add column author_uuid text,
         add column author_uuid_lower text generated always as (lower(author_uuid)) stored`,
      [table],
    );
    await knex.raw(
      `create index ?? on ?? (tenant_id, author_account_id) where author_account_id is not null`,
      [`${table}_by_author_account`, table],
    );
    await knex.raw(
      `create index ?? on ?? (tenant_id, author_uuid_lower) where author_uuid_lower is not null`,
      [`${table}_by_author_uuid`, table],
    );
  }
  await forEachTenant(knex, async () => {
    await knex.raw(
      `select pg_advisory_xact_lock(hashtextextended('rollups:' || current_setting('app.tenant_id'), 0))`,
    );
    for (const table of TABLES)
      await knex.raw(
        `update ?? f set author_account_id = p.author_account_id, author_uuid = p.author_uuid
           from pull_requests p
          where p.tenant_id = f.tenant_id and p.repository_id = f.repository_id and p.id = f.pull_request_id
            and f.tenant_id = current_setting('app.tenant_id')::uuid`,
        [table],
      );
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES)
    await knex.raw(
      `alter table ?? drop column author_uuid_lower, drop column author_uuid, drop column author_account_id`,
      [table],
    );
}
