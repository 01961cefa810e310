import { randomBytes, randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PersonalDataReportingClient } from '../../src/connect/personal-data-reporting';
import { createDatabase, type Database } from '../../src/db/database';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { startPersonalDataApi, type PersonalDataApi } from '../support/personal-data-api';

/** Tenant data for the trust tests: every kind of row that names a person, written as the app writes it. */

export interface Person {
  name: string;
  email: string;
  accountId: string;
  uuid: string;
}

export function newPerson(name: string): Person {
  const handle = name.toLowerCase().replace(/[^a-z]+/g, '.');
  return {
    name,
    email: `${handle}.${randomBytes(2).toString('hex')}@example.com`,
    accountId: randomBytes(12).toString('hex'),
    uuid: `{${randomUUID()}}`,
  };
}

const hash = () => randomBytes(20).toString('hex');

/** One repository with commits, files, branches, identities, pull requests, a webhook delivery and settings. */
export async function seedTenant(
  db: Database,
  tenantId: string,
  people: Person[],
  options: { commitsPerPerson?: number; repo?: string } = {},
): Promise<void> {
  const perPerson = options.commitsPerPerson ?? 3;
  await db.withTenant(tenantId, async (trx) => {
    const [repo] = await trx('repositories')
      .insert({
        tenant_id: tenantId,
        uuid: `{${randomUUID()}}`,
        full_name: `acme/${options.repo ?? 'widgets'}`,
        slug: options.repo ?? 'widgets',
        name: options.repo ?? 'widgets',
        sync_state: 'ready',
        commits_known: people.length * perPerson,
        commits_with_lines: people.length * perPerson,
      })
      .returning('id');
    const repositoryId = repo.id as number;
    let head = '';
    for (const person of people) {
      const [contributor] = await trx('contributors')
        .insert({
          tenant_id: tenantId,
          account_id: person.accountId,
          user_uuid: person.uuid,
          display_name: person.name,
        })
        .returning('id');
      await trx('contributor_emails').insert({
        tenant_id: tenantId,
        email: person.email,
        contributor_id: contributor.id,
      });
      for (let i = 0; i < perPerson; i++) {
        head = hash();
        await trx('commits').insert({
          tenant_id: tenantId,
          repository_id: repositoryId,
          hash: head,
          author_raw: `${person.name} <${person.email}>`,
          author_name: person.name,
          author_email: person.email,
          author_account_id: person.accountId,
          author_uuid: person.uuid,
          authored_at: new Date(Date.UTC(2024, 0, 1 + i)),
          parents: [hash()],
          is_merge: false,
          message: `Fix widget ${i}\n\nReviewed-by: ${person.name} <${person.email}>`,
          lines_added: 10 + i,
          lines_removed: i,
          files_changed: 1,
        });
        await trx('commit_files').insert({
          tenant_id: tenantId,
          repository_id: repositoryId,
          hash: head,
          ordinal: 0,
          path: `src/widget-${i}.ts`,
          status: 'modified',
          lines_added: 10 + i,
          lines_removed: i,
        });
      }
    }
    await trx('branches').insert({
      tenant_id: tenantId,
      repository_id: repositoryId,
      kind: 'branch',
      name: 'main',
      head,
    });
    for (const [i, person] of people.entries()) {
      const other = people[(i + 1) % people.length]!;
      await trx('pull_requests').insert({
        tenant_id: tenantId,
        repository_id: repositoryId,
        id: i + 1,
        title: `Widgets by ${person.name}`,
        state: 'MERGED',
        author_account_id: person.accountId,
        author_uuid: person.uuid,
        author_name: person.name,
        source_branch: 'feature',
        destination_branch: 'main',
        created_on: new Date(Date.UTC(2024, 1, 1)),
        updated_on: new Date(Date.UTC(2024, 1, 2)),
        closed_by_account_id: other.accountId,
      });
      await trx('pull_request_participants').insert({
        tenant_id: tenantId,
        repository_id: repositoryId,
        pull_request_id: i + 1,
        user_uuid: other.uuid,
        account_id: other.accountId,
        display_name: other.name,
        role: 'REVIEWER',
        is_reviewer: true,
        approved: true,
      });
      await trx('webhook_deliveries').insert({
        tenant_id: tenantId,
        request_uuid: randomUUID(),
        event: 'repo:push',
        payload: {
          actor: { display_name: person.name, account_id: person.accountId, uuid: person.uuid },
          push: { changes: [{ commits: [{ author: { raw: `${person.name} <${person.email}>` } }] }] },
        },
        processed_at: new Date(),
      });
    }
    await trx('tenant_settings').insert({ tenant_id: tenantId }).onConflict('tenant_id').ignore();
    await trx('audit_log').insert({ tenant_id: tenantId, actor: 'user:admin', action: 'settings.updated' });
  });
}

/** Rows per tenant table for one tenant, read by the owner (no RLS). */
export async function tenantRowCounts(adminUrl: string, tenantId: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const tables = await tenantTableNames(client);
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const { rows } = await client.query(`select count(*)::int as n from "${table}" where tenant_id = $1`, [
        tenantId,
      ]);
      counts[table] = rows[0].n;
    }
    return counts;
  } finally {
    await client.end();
  }
}

export async function tenantTableNames(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query(`
    select c.table_name from information_schema.columns c
      join information_schema.tables t using (table_schema, table_name)
     where c.table_schema = 'public' and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE'
     order by 1`);
  return rows.map((r) => r.table_name as string);
}

export async function insertTenantRow(
  adminUrl: string,
  tenantId: string,
  clientInfo: Record<string, unknown> = {},
) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(
      `insert into tenants (id, client_key, workspace_slug, base_url, base_api_url, shared_secret_enc, client_info, state)
       values ($1, $2, 'acme', 'https://bitbucket.org', 'https://api.bitbucket.org', 'v1:x', $3, 'installed')`,
      [tenantId, `client-${tenantId}`, clientInfo],
    );
  } finally {
    await client.end();
  }
}

/** Every text, json and text[] value of every table in public (any tenant, registry and audit logs included). */
export async function findEverywhere(client: pg.Client, needles: string[]): Promise<string[]> {
  const { rows: columns } = await client.query(`
    select c.relname as table, a.attname as column
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
       and format_type(a.atttypid, null) in ('text', 'character varying', 'json', 'jsonb', 'text[]')`);
  assert.ok(columns.length > 40, 'searches many columns');
  const hits: string[] = [];
  for (const { table, column } of columns) {
    for (const needle of needles) {
      const { rows } = await client.query(
        `select count(*)::int as n from "${table}" where strpos(lower("${column}"::text), lower($1)) > 0`,
        [needle],
      );
      if (rows[0].n > 0) hits.push(`${table}.${column} contains ${needle}`);
    }
  }
  return hits;
}

/** For tests that run the maintenance jobs directly: a database of their own and the reporting API stand-in. */
export interface ReportingHarness {
  database: TestDatabase;
  /** The owner: fixtures and checks. */
  admin: pg.Client;
  /** The application role, as the worker connects. */
  db: Database;
  api: PersonalDataApi;
  client: PersonalDataReportingClient;
  close(): Promise<void>;
}

export async function startReportingHarness(): Promise<ReportingHarness> {
  const database = await createTestDatabase();
  const admin = new pg.Client({ connectionString: database.adminUrl });
  await admin.connect();
  const db = createDatabase(database.appUrl, createLogger('silent'));
  const api = await startPersonalDataApi();
  return {
    database,
    admin,
    db,
    api,
    client: new PersonalDataReportingClient({ baseUrl: api.url, appKey: 'tally' }),
    async close() {
      await api.close();
      await admin.end();
      await db.close();
      await database.drop();
    },
  };
}
