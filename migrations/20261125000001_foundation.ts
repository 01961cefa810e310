import type { Knex } from 'knex';
import { enableTenantRls } from '../src/db/rls';

/**
 * The tenant registry and every tenant-owned table the product needs.
 * Rules (docs/architecture.md): tenant_id first in every primary key, unique constraint, index and
 * foreign key (Citus-ready); ENABLE + FORCE row-level security with the tenant policy on every tenant table.
 */
const TENANT_TABLES = [
  'repositories',
  'commits',
  'commit_files',
  'branches',
  'contributors',
  'contributor_emails',
  'pull_requests',
  'pull_request_participants',
  'webhook_deliveries',
  'audit_log',
  'tenant_settings',
  'support_consents',
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table tenants (
      id uuid primary key default gen_random_uuid(),
      client_key text not null unique,
      workspace_uuid text,
      workspace_slug text,
      workspace_name text,
      base_url text not null,
      base_api_url text not null,
      shared_secret_enc text not null,
      client_info jsonb not null,
      state text not null check (state in ('installed', 'uninstalled')),
      installed_at timestamptz not null default now(),
      uninstalled_at timestamptz,
      delete_after timestamptz,
      updated_at timestamptz not null default now()
    );
    -- The registry is read across tenants only by withSystem (app.system = on);
    -- inside withTenant a tenant sees its own row and nothing else.
    alter table tenants enable row level security;
    alter table tenants force row level security;
    create policy system_access on tenants
      using (current_setting('app.system', true) = 'on') with check (current_setting('app.system', true) = 'on');
    create policy tenant_reads_itself on tenants for select
      using (id = nullif(current_setting('app.tenant_id', true), '')::uuid);

    create table system_audit_log (
      id bigint generated always as identity primary key,
      at timestamptz not null default now(),
      actor text not null,
      action text not null,
      -- Not "tenant_id": this is registry data about a tenant, readable by the system only.
      subject_tenant_id uuid,
      client_key text,
      details jsonb not null default '{}'
    );
    alter table system_audit_log enable row level security;
    alter table system_audit_log force row level security;
    create policy system_access on system_audit_log
      using (current_setting('app.system', true) = 'on') with check (current_setting('app.system', true) = 'on');

    create table repositories (
      tenant_id uuid not null,
      id bigint generated always as identity,
      uuid text not null,
      full_name text not null,
      slug text not null,
      name text not null,
      mainbranch text,
      is_private boolean not null default true,
      deleted_at timestamptz,
      sync_state text not null default 'listing' check (sync_state in ('listing', 'diffstats', 'ready', 'failed')),
      sync_cursor text,
      commits_known integer not null default 0,
      commits_with_lines integer not null default 0,
      requests_used integer not null default 0,
      eta_seconds integer,
      last_error text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (tenant_id, id),
      unique (tenant_id, uuid)
    );

    create table commits (
      tenant_id uuid not null,
      repository_id bigint not null,
      hash text not null,
      author_raw text not null,
      author_name text not null,
      author_email text,
      author_account_id text,
      author_uuid text,
      authored_at timestamptz not null,
      parents text[] not null,
      is_merge boolean not null,
      message text not null,
      lines_added integer,
      lines_removed integer,
      files_changed integer,
      unreachable_since timestamptz,
      first_seen_at timestamptz not null default now(),
      primary key (tenant_id, repository_id, hash),
      foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade
    );
    -- Phase 2 walks commits without line counts newest first.
    create index commits_pending_diffstat on commits (tenant_id, repository_id, authored_at desc)
      where lines_added is null;
    create index commits_by_date on commits (tenant_id, authored_at);

    create table commit_files (
      tenant_id uuid not null,
      repository_id bigint not null,
      hash text not null,
      ordinal integer not null,
      path text not null,
      old_path text,
      status text not null check (status in ('added', 'removed', 'modified', 'renamed')),
      lines_added integer not null,
      lines_removed integer not null,
      is_binary boolean not null default false,
      primary key (tenant_id, repository_id, hash, ordinal),
      foreign key (tenant_id, repository_id, hash) references commits (tenant_id, repository_id, hash) on delete cascade
    );

    create table branches (
      tenant_id uuid not null,
      repository_id bigint not null,
      kind text not null check (kind in ('branch', 'tag')),
      name text not null,
      head text not null,
      updated_at timestamptz not null default now(),
      primary key (tenant_id, repository_id, kind, name),
      foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade
    );

    create table contributors (
      tenant_id uuid not null,
      id bigint generated always as identity,
      account_id text,
      user_uuid text,
      display_name text not null,
      created_at timestamptz not null default now(),
      primary key (tenant_id, id),
      unique (tenant_id, account_id)
    );

    create table contributor_emails (
      tenant_id uuid not null,
      email text not null,
      contributor_id bigint not null,
      source text not null default 'commit' check (source in ('commit', 'admin')),
      primary key (tenant_id, email),
      foreign key (tenant_id, contributor_id) references contributors (tenant_id, id) on delete cascade
    );
    create index contributor_emails_by_contributor on contributor_emails (tenant_id, contributor_id);

    create table pull_requests (
      tenant_id uuid not null,
      repository_id bigint not null,
      id integer not null,
      title text not null,
      state text not null check (state in ('OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED')),
      author_account_id text,
      author_uuid text,
      author_name text,
      source_branch text,
      destination_branch text,
      created_on timestamptz not null,
      updated_on timestamptz not null,
      merged_on timestamptz,
      closed_on timestamptz,
      merge_commit text,
      closed_by_account_id text,
      comment_count integer not null default 0,
      task_count integer not null default 0,
      primary key (tenant_id, repository_id, id),
      foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade
    );

    create table pull_request_participants (
      tenant_id uuid not null,
      repository_id bigint not null,
      pull_request_id integer not null,
      user_uuid text not null,
      account_id text,
      display_name text,
      role text not null check (role in ('PARTICIPANT', 'REVIEWER')),
      is_reviewer boolean not null default false,
      approved boolean not null default false,
      state text,
      participated_on timestamptz,
      primary key (tenant_id, repository_id, pull_request_id, user_uuid),
      foreign key (tenant_id, repository_id, pull_request_id)
        references pull_requests (tenant_id, repository_id, id) on delete cascade
    );

    create table webhook_deliveries (
      tenant_id uuid not null,
      request_uuid text not null,
      event text not null,
      hook_uuid text,
      attempt integer not null default 1,
      received_at timestamptz not null default now(),
      payload jsonb not null,
      processed_at timestamptz,
      primary key (tenant_id, request_uuid)
    );

    create table audit_log (
      tenant_id uuid not null,
      id bigint generated always as identity,
      at timestamptz not null default now(),
      actor text not null,
      action text not null,
      details jsonb not null default '{}',
      primary key (tenant_id, id)
    );

    create table tenant_settings (
      tenant_id uuid not null primary key,
      timezone text not null default 'UTC',
      path_exclusions jsonb not null default '[]',
      bot_patterns jsonb not null default '[]',
      updated_at timestamptz not null default now()
    );

    create table support_consents (
      tenant_id uuid not null,
      id bigint generated always as identity,
      granted_by text not null,
      reason text not null,
      granted_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz,
      primary key (tenant_id, id)
    );
  `);
  for (const table of TENANT_TABLES) await enableTenantRls(knex, table);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [...TENANT_TABLES].reverse())
    await knex.raw('drop table if exists ?? cascade', [table]);
  await knex.raw('drop table if exists system_audit_log, tenants cascade');
}
