import type { Knex } from 'knex';

/**
 * The workspace's opt-in to the experimental fast path for line counts (issue 17): phase 2 counts lines from patch
 * series (diff text, counted in a stream and never kept) instead of one diffstat per commit. Off unless an admin
 * turns it on.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'alter table tenant_settings add column line_counts_from_patches boolean not null default false',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table tenant_settings drop column line_counts_from_patches');
}
