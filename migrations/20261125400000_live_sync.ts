import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';

/**
 * Live sync (src/ingest/sync/):
 * - unnamed_heads: the tips of refs whose names Tally does not know. Bitbucket lets Tally list commits but not
 *   branches, so after a backfill only the commits without children tell where the refs are; webhooks name refs
 *   from then on (table `branches`). `left_at` marks a commit a webhook reported a ref moving away from: it is no
 *   longer a tip (and is never seeded as one). Reachability starts from `branches` and the tips not left.
 * - repositories: when the unnamed heads were seeded (after the commit listing), and the pull-request backfill's
 *   cursor and last completed pass.
 * - pull_request_participants: when the participant approved (from the activity).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table unnamed_heads (
      tenant_id uuid not null,
      repository_id bigint not null,
      hash text not null,
      found_at timestamptz not null default now(),
      left_at timestamptz,
      primary key (tenant_id, repository_id, hash),
      foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade
    );

    alter table repositories
      add column heads_seeded_at timestamptz,
      add column pull_requests_cursor text,
      add column pull_requests_synced_at timestamptz;

    alter table pull_request_participants add column approved_on timestamptz;
  `);
  await enableTenantRls(knex, 'unnamed_heads');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table pull_request_participants drop column if exists approved_on;
    alter table repositories
      drop column if exists heads_seeded_at,
      drop column if exists pull_requests_cursor,
      drop column if exists pull_requests_synced_at;
    drop table if exists unnamed_heads;
  `);
}
