import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/database';
import { erasePerson } from '../../src/db/personal-data-store';
import { ERASURE_COLUMNS, PAYLOAD_NAME_KEYS } from '../../src/db/personal-data-columns';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { loadExport, readExport, syntheticAccount } from '../support/load-export';
import { insertTenantRow, tenantTableNames } from './fixtures';

/**
 * Erasure on the real express history, with people whose git names are words that are also refs, settings and
 * constrained values, and one whose email is quoted in other people's commit messages.
 */

const RENAMED: Record<string, string> = {
  'wes@wesleytodd.com': 'main',
  'me@jonchurch.com': 'tag',
  'ulisesgascongonzalez@gmail.com': 'ready',
  'hello@blakeembrey.com': 'UTC',
};
/** Quoted in 20 commit messages (co-authored-by, thanks) besides their own 31 commits. */
const QUOTED = 'bjohansebas@gmail.com';
const ERASED = [...Object.keys(RENAMED), QUOTED];

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Every column erasure must leave alone (all but the personal ones), per table: md5 of its sorted values. */
async function structuralFingerprint(client: pg.Client, tenantId: string): Promise<Record<string, string>> {
  // audit_log is left out: each erasure adds its entry there (checked apart).
  const tables = [...(await tenantTableNames(client)).filter((t) => t !== 'audit_log'), 'tenants'];
  const out: Record<string, string> = {};
  for (const table of tables) {
    const { rows: columns } = await client.query(
      `select attname as name from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped`,
      [`public.${quote(table)}`],
    );
    for (const { name } of columns) {
      if (ERASURE_COLUMNS[table]?.[name]?.personal) continue;
      const { rows } = await client.query(
        `select count(*)::int as n, md5(string_agg(coalesce(${quote(name)}::text, '∅'), E'\\n'
                order by coalesce(${quote(name)}::text, '∅'))) as md5
           from ${quote(table)} where ${table === 'tenants' ? 'id' : 'tenant_id'} = $1`,
        [tenantId],
      );
      out[`${table}.${name}`] = `${rows[0].n}:${rows[0].md5}`;
    }
  }
  return out;
}

const wordOf = (name: string) =>
  new RegExp(`(?<![\\p{L}\\p{N}_])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}_])`, 'iu');

/** Where a person's email, account id or name is still found in a personal column of the tenant. */
async function traces(client: pg.Client, tenantId: string, person: Person): Promise<string[]> {
  const hits: string[] = [];
  const literals = [person.email, person.accountId].filter((v): v is string => Boolean(v));
  /** Names count as whole words in free text, as the whole value in name columns, not at all elsewhere. */
  const check = (where: string, value: string, name: 'word' | 'value' | 'none') => {
    for (const literal of literals)
      if (value.toLowerCase().includes(literal.toLowerCase())) hits.push(`${where}: ${literal}`);
    const nameHit =
      name === 'word'
        ? wordOf(person.name).test(value)
        : name === 'value' && value.trim().toLowerCase() === person.name.toLowerCase();
    if (nameHit) hits.push(`${where}: ${person.name}`);
  };
  const walk = (where: string, value: unknown, key: string) => {
    if (typeof value === 'string') check(where, value, PAYLOAD_NAME_KEYS.includes(key) ? 'word' : 'none');
    else if (Array.isArray(value)) for (const v of value) walk(where, v, key);
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(where, v, k);
  };
  for (const [table, columns] of Object.entries(ERASURE_COLUMNS)) {
    for (const [column, rule] of Object.entries(columns)) {
      if (!rule.personal) continue;
      const { rows } = await client.query(
        `select ${quote(column)} as v from ${quote(table)}
          where ${table === 'tenants' ? 'id' : 'tenant_id'} = $1 and ${quote(column)} is not null`,
        [tenantId],
      );
      for (const { v } of rows) {
        if (rule.personal === 'json') walk(`${table}.${column}`, v, '');
        else check(`${table}.${column}`, String(v), rule.personal === 'text' ? 'word' : 'value');
      }
    }
  }
  return hits;
}

interface Person {
  email: string;
  name: string;
  accountId: string | null;
}

describe('erasure on the express history', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let db: Database;
  const tenantId = randomUUID();
  const people: Person[] = [];
  const history = readExport().map((c) => {
    const name = RENAMED[c.author.email.toLowerCase()];
    return name ? { ...c, author: { ...c.author, name } } : c;
  });

  before(async () => {
    database = await createTestDatabase();
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    db = createDatabase(database.appUrl, createLogger('silent'));
    for (const email of ERASED) {
      const commit = history.find((c) => c.author.email.toLowerCase() === email)!;
      people.push({ email, name: commit.author.name, accountId: syntheticAccount(email) });
    }
    const main = people[0]!;
    await insertTenantRow(database.adminUrl, tenantId, {
      principal: { type: 'user', display_name: main.name, account_id: main.accountId, nickname: 'wes' },
    });
    const { repositoryId } = await loadExport({
      db,
      tenantId,
      commits: history,
      repository: { fullName: 'acme/tag' },
    });
    const [tag, ready, utc] = [people[1]!, people[2]!, people[3]!];
    await db.withTenant(tenantId, async (trx) => {
      await trx('repositories')
        .where({ id: repositoryId })
        .update({ mainbranch: 'main', sync_state: 'ready', last_error: 'ready' });
      for (const [kind, name] of [
        ['branch', 'main'],
        ['branch', 'ready'],
        ['tag', 'UTC'],
      ])
        await trx('branches').insert({
          tenant_id: tenantId,
          repository_id: repositoryId,
          kind,
          name,
          head: history[0]!.hash,
        });
      await trx('tenant_settings').insert({
        tenant_id: tenantId,
        timezone: 'UTC',
        path_exclusions: JSON.stringify(['main/**', 'tag']),
        bot_patterns: JSON.stringify(['ready']),
      });
      await trx('repository_settings').insert({
        tenant_id: tenantId,
        repository_id: repositoryId,
        path_exclusions: JSON.stringify(['main']),
      });
      await trx('pull_requests').insert({
        tenant_id: tenantId,
        repository_id: repositoryId,
        id: 1,
        title: `Merge main into ready, thanks ${QUOTED}`,
        state: 'OPEN',
        author_account_id: main.accountId,
        author_name: main.name,
        source_branch: 'main',
        destination_branch: 'ready',
        created_on: new Date(),
        updated_on: new Date(),
      });
      await trx('pull_request_participants').insert({
        tenant_id: tenantId,
        repository_id: repositoryId,
        pull_request_id: 1,
        user_uuid: `{${randomUUID()}}`,
        account_id: tag.accountId ?? `acct-${randomUUID().slice(0, 8)}`,
        display_name: tag.name,
        role: 'REVIEWER',
        is_reviewer: true,
        approved: true,
      });
      await trx('webhook_deliveries').insert({
        tenant_id: tenantId,
        request_uuid: randomUUID(),
        event: 'repo:push',
        payload: {
          actor: {
            type: 'user',
            display_name: ready.name,
            account_id: ready.accountId,
            links: { html: { href: `https://bitbucket.example/?email=${encodeURIComponent(ready.email)}` } },
          },
          repository: { name: 'tag', full_name: 'acme/tag' },
          heads: { main: history[0]!.hash, ready: history[1]!.hash },
          push: {
            changes: [
              {
                new: { type: 'branch', name: 'main' },
                old: { type: 'tag', name: 'UTC' },
                commits: [{ message: 'tag v1 (UTC)', author: { raw: `${utc.name} <${utc.email}>` } }],
              },
            ],
          },
        },
      });
    });
  });
  after(async () => {
    await admin.end();
    await db.close();
    await database.drop();
  });

  it('erases each person, leaves every structural column byte-identical and no trace in personal columns', async () => {
    for (const person of people) assert.notDeepEqual(await traces(admin, tenantId, person), [], person.name);
    const { rows: quoted } = await admin.query(
      `select count(*)::int as n from commits where tenant_id = $1 and message ilike $2 and lower(author_email) <> $3`,
      [tenantId, `%${QUOTED}%`, QUOTED],
    );
    assert.ok(quoted[0].n >= 10, 'the email is quoted in other people’s messages');
    const structure = await structuralFingerprint(admin, tenantId);
    const { rows: counts } = await admin.query(
      `select count(*)::int as commits, sum(lines_added)::int as added from commits where tenant_id = $1`,
      [tenantId],
    );

    const audits = async () =>
      (await admin.query(`select count(*)::int as n from audit_log where tenant_id = $1`, [tenantId])).rows[0]
        .n;
    const auditsBefore = await audits();
    for (const person of people) {
      const result = await erasePerson(db, tenantId, { email: person.email }, 'support:tester', new Date());
      assert.ok(result.rows.commits! > 0, `${person.name}: commits rewritten`);
    }
    assert.equal(await audits(), auditsBefore + people.length);

    for (const person of people) assert.deepEqual(await traces(admin, tenantId, person), [], person.name);
    assert.deepEqual(await structuralFingerprint(admin, tenantId), structure);
    const { rows: countsAfter } = await admin.query(
      `select count(*)::int as commits, sum(lines_added)::int as added from commits where tenant_id = $1`,
      [tenantId],
    );
    assert.deepEqual(countsAfter, counts);
    // Inside a payload, refs keep their names while the actor and the author are gone.
    const { rows: payload } = await admin.query(
      `select payload from webhook_deliveries where tenant_id = $1`,
      [tenantId],
    );
    const change = payload[0].payload.push.changes[0];
    assert.deepEqual([change.new.name, change.old.name], ['main', 'UTC']);
    assert.deepEqual(Object.keys(payload[0].payload.heads), ['main', 'ready'], 'JSON keys never change');
    assert.match(payload[0].payload.actor.display_name, /^erased-/);
    assert.match(payload[0].payload.actor.links.html.href, /email=erased-[0-9a-f]+%40erased\.invalid$/);
    assert.match(change.commits[0].author.raw, /^erased-[0-9a-f]+ <erased-[0-9a-f]+@erased\.invalid>$/);
  });

  it('is idempotent: erasing the same people again changes nothing', async () => {
    const before = await structuralFingerprint(admin, tenantId);
    const { rows: messages } = await admin.query(
      `select md5(string_agg(message || author_raw, '' order by hash)) as m from commits where tenant_id = $1`,
      [tenantId],
    );
    for (const person of people) {
      const again = await erasePerson(db, tenantId, { email: person.email }, 'support:tester', new Date());
      assert.deepEqual(again.rows, {});
    }
    assert.deepEqual(await structuralFingerprint(admin, tenantId), before);
    const { rows: messagesAfter } = await admin.query(
      `select md5(string_agg(message || author_raw, '' order by hash)) as m from commits where tenant_id = $1`,
      [tenantId],
    );
    assert.deepEqual(messagesAfter, messages);
  });
});
