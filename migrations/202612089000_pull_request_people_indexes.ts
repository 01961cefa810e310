import type { Knex } from 'knex';

/**
 * Pull-request statistics of a person or a team (author=, reviewer=, team=; docs/analytics.md): the person's pull
 * requests and reviews are found by index, and the statistics read only their facts. Before, every pull request
 * and review in range was checked against its author or reviewers one by one (0.1–0.4 s on 50,000 pull requests).
 *
 * People are matched by account id, or by user uuid compared in lower case (src/analytics/identities.ts). An index
 * on lower(uuid) cannot serve these tables' queries: under row-level security the planner may not run a
 * function that is not leakproof (lower) before the tenant policy, so the lower-cased uuid is a stored generated
 * column, compared with the leakproof text equality.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table pull_requests add column author_uuid_lower text generated always as (lower(author_uuid)) stored;
    create index pull_requests_by_author_account on pull_requests (tenant_id, author_account_id)
      include (repository_id, id) where author_account_id is not null;
    create index pull_requests_by_author_uuid on pull_requests (tenant_id, author_uuid_lower)
      include (repository_id, id) where author_uuid_lower is not null;

    alter table pull_request_review_facts add column user_uuid_lower text generated always as (lower(user_uuid)) stored;
    create index pull_request_review_facts_by_user on pull_request_review_facts (tenant_id, user_uuid_lower)
      include (repository_id, pull_request_id, reviewed_at, approved, changes_requested);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index pull_requests_by_author_account;
    alter table pull_requests drop column author_uuid_lower;
    alter table pull_request_review_facts drop column user_uuid_lower;
  `);
}
