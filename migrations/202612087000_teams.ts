import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';

/**
 * Teams of contributors (src/db/team-store.ts), defined by admins on the configure page. Members are contributor
 * keys (`a:<account id>`, `e:<email>`), resolved to contributor ids when a stats request names the team, so an
 * identity merge or a person's first commit counts at once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table teams (
      tenant_id uuid not null,
      id bigint generated always as identity,
      name text not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      primary key (tenant_id, id)
    );
    -- Names are unique as people read them: case and surrounding space ignored.
    create unique index teams_name on teams (tenant_id, lower(name));
    create table team_members (
      tenant_id uuid not null,
      team_id bigint not null,
      contributor_key text not null,
      primary key (tenant_id, team_id, contributor_key),
      foreign key (tenant_id, team_id) references teams (tenant_id, id) on delete cascade
    );
  `);
  await enableTenantRls(knex, 'teams');
  await enableTenantRls(knex, 'team_members');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists team_members, teams');
}
