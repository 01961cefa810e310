import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/database';
import { erasePerson } from '../../src/db/personal-data-store';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { findEverywhere, insertTenantRow, newPerson, seedTenant, tenantRowCounts } from './fixtures';

describe('erasure of one person (GDPR)', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let db: Database;
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  const alice = newPerson('Alice Liddell');
  const bob = newPerson('Bob Marley');
  const carol = newPerson('Carol Danvers');
  let aliceOtherEmail: string;

  before(async () => {
    database = await createTestDatabase();
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    db = createDatabase(database.appUrl, createLogger('silent'));
    // Alice installed Tally in workspace A: her account id is in the install payload too.
    await insertTenantRow(database.adminUrl, tenantA, {
      actor: { account_id: alice.accountId, uuid: alice.uuid },
    });
    await insertTenantRow(database.adminUrl, tenantB);
    await seedTenant(db, tenantA, [alice, bob, carol], { commitsPerPerson: 4 });
    await seedTenant(db, tenantB, [bob, carol]);
    // A second address of Alice's, linked to her identity, used on one more commit.
    aliceOtherEmail = `liddell.${randomUUID().slice(0, 4)}@wonderland.example`;
    await db.withTenant(tenantA, async (trx) => {
      const contributor = await trx('contributors').where({ account_id: alice.accountId }).first('id');
      await trx('contributor_emails').insert({
        tenant_id: tenantA,
        email: aliceOtherEmail,
        contributor_id: contributor.id,
      });
      const commit = await trx('commits').first('repository_id');
      await trx('commits').insert({
        tenant_id: tenantA,
        repository_id: commit.repository_id,
        hash: 'f'.repeat(40),
        author_raw: `alice <${aliceOtherEmail}>`,
        author_name: 'Alice Liddell',
        author_email: aliceOtherEmail,
        authored_at: new Date(),
        parents: [],
        is_merge: false,
        message: `Thanks to ${bob.name}`,
        lines_added: 5,
        lines_removed: 1,
      });
      await trx('support_consents').insert({
        tenant_id: tenantA,
        granted_by: `user:${alice.accountId}`,
        reason: 'debugging',
        expires_at: new Date(Date.now() + 86_400_000),
      });
    });
  });
  after(async () => {
    await admin.end();
    await db.close();
    await database.drop();
  });

  const byAuthor = async (tenantId: string) =>
    (
      await admin.query(
        `select author_email, count(*)::int as commits, sum(lines_added)::int as added from commits
          where tenant_id = $1 group by author_email order by commits desc, author_email`,
        [tenantId],
      )
    ).rows;

  it('by email, removes every trace of the person in every text column while counts stay', async () => {
    const countsBefore = await tenantRowCounts(database.adminUrl, tenantA);
    const countsB = await tenantRowCounts(database.adminUrl, tenantB);
    const authorsBefore = await byAuthor(tenantA);
    const bAuthorsBefore = await byAuthor(tenantB);
    assert.ok((await findEverywhere(admin, [alice.email])).length > 0, 'the search finds her before');

    const result = await erasePerson(
      db,
      tenantA,
      { email: alice.email.toUpperCase() },
      'support:tester',
      new Date(),
    );
    assert.match(result.token, /^erased-[0-9a-f]{12}$/);
    assert.deepEqual(result.identifiers, { accountIds: 1, uuids: 1, emails: 2, names: 1 });

    const needles = [alice.name, alice.email, aliceOtherEmail, alice.accountId, alice.uuid.slice(1, -1)];
    assert.deepEqual(await findEverywhere(admin, needles), []);

    // Nothing was deleted, one audit entry was added; aggregates still group.
    assert.deepEqual(await tenantRowCounts(database.adminUrl, tenantA), {
      ...countsBefore,
      audit_log: countsBefore.audit_log! + 1,
    });
    const authorsAfter = await byAuthor(tenantA);
    assert.equal(authorsAfter.length, authorsBefore.length, 'one group per email, as before');
    const erased = authorsAfter.filter((a) => a.author_email.startsWith(result.token));
    assert.equal(
      erased.reduce((n, a) => n + a.commits, 0),
      5,
      'her 5 commits are still counted',
    );
    const { rows: raw } = await admin.query(
      `select distinct author_raw, author_name, author_account_id from commits where tenant_id = $1 and author_name = $2`,
      [tenantA, result.token],
    );
    assert.ok(raw.length >= 1);
    for (const r of raw)
      assert.match(r.author_raw, new RegExp(`^${result.token} <${result.token}(-2)?@erased\\.invalid>$`));

    // The others are untouched, in her tenant and in the other one.
    const { rows: bobs } = await admin.query(
      `select count(*)::int as n from commits where tenant_id = $1 and author_email = $2 and author_name = $3`,
      [tenantA, bob.email, bob.name],
    );
    assert.equal(bobs[0].n, 4);
    const { rows: thanks } = await admin.query(`select message from commits where hash = $1`, [
      'f'.repeat(40),
    ]);
    assert.equal(thanks[0].message, `Thanks to ${bob.name}`);
    assert.deepEqual(await tenantRowCounts(database.adminUrl, tenantB), countsB);
    assert.deepEqual(await byAuthor(tenantB), bAuthorsBefore);

    const { rows: audit } = await admin.query(
      `select actor, details from audit_log where tenant_id = $1 and action = 'personal_data.erased'`,
      [tenantA],
    );
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor, 'support:tester');
    assert.equal(audit[0].details.token, result.token);
    const { rows: system } = await admin.query(
      `select count(*)::int as n from system_audit_log where subject_tenant_id = $1 and action = 'personal_data.erased'`,
      [tenantA],
    );
    assert.equal(system[0].n, 1);
  });

  it('by account id, erases the person in one tenant only', async () => {
    await erasePerson(db, tenantB, { accountId: carol.accountId }, 'support:tester', new Date());
    assert.deepEqual(
      await findEverywhere(admin, [carol.accountId]).then((hits) => hits.length > 0),
      true,
      'carol is still in tenant A',
    );
    const { rows } = await admin.query(
      `select count(*)::int as n from commits where tenant_id = $1 and (author_account_id = $2 or author_email = $3 or author_name = $4)`,
      [tenantB, carol.accountId, carol.email, carol.name],
    );
    assert.equal(rows[0].n, 0);
    const { rows: participants } = await admin.query(
      `select display_name from pull_request_participants where tenant_id = $1 and account_id like 'erased-%'`,
      [tenantB],
    );
    assert.equal(participants.length, 1);
    assert.match(participants[0].display_name, /^erased-/);
  });

  it('is idempotent and does nothing for an unknown person', async () => {
    const before = await byAuthor(tenantA);
    const again = await erasePerson(db, tenantA, { email: alice.email }, 'support:tester', new Date());
    assert.deepEqual(again.rows, {});
    assert.deepEqual(again.identifiers, { accountIds: 0, uuids: 0, emails: 1, names: 0 });
    assert.deepEqual(await byAuthor(tenantA), before);
  });
});
