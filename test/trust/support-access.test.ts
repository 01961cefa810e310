import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import { startTestApp, type TestApp } from '../support/app';
import { install, newWorkspace, type Workspace } from '../support/bitbucket';
import { newPerson, seedTenant, tenantTableNames } from './fixtures';

/**
 * Consent is enforced by PostgreSQL: these tests read as the support role directly (SET ROLE from the owner's
 * connection, and a support login of their own), never through the CLI.
 */
describe('support access needs the tenant admin’s consent, enforced in the database', () => {
  let app: TestApp;
  let admin: pg.Client;
  let supportLogin: pg.Client;
  let tables: string[];
  const wsA = newWorkspace();
  const wsB = newWorkspace();
  const ids: Record<string, string> = {};
  const loginRole = `support_${randomBytes(4).toString('hex')}`;

  const session = (ws: Workspace) =>
    `JWT ${createSessionToken({ appKey: 'tally', clientKey: ws.clientKey, secret: ws.sharedSecret, viewer: 'acc-admin', page: 'configure', scope: scopeForPage('configure', {}) })}`;
  const api = (ws: Workspace, method: string, path: string, body?: unknown) =>
    fetch(`${app.url}/api/v1${path}`, {
      method,
      headers: { authorization: session(ws), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    app = await startTestApp();
    for (const ws of [wsA, wsB]) {
      assert.equal((await install(app, ws)).status, 204);
      ids[ws.clientKey] = (await app.runtime.tenants.findByClientKey(ws.clientKey))!.id;
      await seedTenant(app.runtime.db, ids[ws.clientKey]!, [
        newPerson('Jean Grey'),
        newPerson('Scott Summers'),
      ]);
    }
    admin = new pg.Client({ connectionString: app.database.adminUrl });
    await admin.connect();
    tables = await tenantTableNames(admin);
    // A support engineer's own login: a member of tally_support and nothing else.
    const password = randomBytes(12).toString('hex');
    await admin.query(`create role ${loginRole} login password '${password}' in role tally_support`);
    const url = new URL(app.database.adminUrl);
    url.username = loginRole;
    url.password = password;
    supportLogin = new pg.Client({ connectionString: url.toString() });
    await supportLogin.connect();
  });
  after(async () => {
    await supportLogin.end();
    await admin.query(`drop role if exists ${loginRole}`).catch(() => undefined);
    await admin.end();
    await app.close();
  });

  /** Row counts per tenant table as the support role, on a connection that stays open throughout. */
  async function supportCounts(client: pg.Client, viaSetRole: boolean, tenantSetting?: string) {
    const counts: Record<string, number> = {};
    await client.query('begin');
    try {
      if (viaSetRole) await client.query('set local role tally_support');
      // Setting the tenant variable, which the application's policy honours, must not open anything by itself.
      if (tenantSetting) await client.query(`select set_config('app.tenant_id', $1, true)`, [tenantSetting]);
      for (const table of tables) {
        const { rows } = await client.query(`select count(*)::int as n from "${table}"`);
        counts[table] = rows[0].n;
      }
    } finally {
      await client.query('rollback');
    }
    return counts;
  }
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  const ownerCounts = async (tenantId: string) => {
    const counts: Record<string, number> = {};
    for (const table of tables)
      counts[table] = (
        await admin.query(`select count(*)::int as n from "${table}" where tenant_id = $1`, [tenantId])
      ).rows[0].n;
    return counts;
  };

  it('the support role cannot log in, cannot bypass RLS, owns nothing, and is bound by consent on every tenant table', async () => {
    const { rows } = await admin.query(`
      select rolcanlogin, rolsuper, rolbypassrls,
             (select count(*)::int from pg_class where relowner = r.oid) as owned
        from pg_roles r where rolname = 'tally_support'`);
    assert.deepEqual(rows[0], { rolcanlogin: false, rolsuper: false, rolbypassrls: false, owned: 0 });
    assert.ok(tables.length >= 13);
    for (const table of tables) {
      const { rows: policies } = await admin.query(
        `select policyname, permissive, roles::text[] as roles, cmd from pg_policies
          where schemaname = 'public' and tablename = $1 and 'tally_support' = any(roles)`,
        [table],
      );
      assert.deepEqual(
        policies.map((p) => `${p.policyname}:${p.permissive}:${p.cmd}`).sort(),
        ['support_read:PERMISSIVE:SELECT', 'support_requires_consent:RESTRICTIVE:ALL'],
        table,
      );
      const { rows: grants } = await admin.query(
        `select privilege_type from information_schema.role_table_grants
          where table_schema = 'public' and table_name = $1 and grantee = 'tally_support'`,
        [table],
      );
      assert.deepEqual(
        grants.map((g) => g.privilege_type),
        ['SELECT'],
        `${table}: select only`,
      );
    }
    // The application role's own policies are as they were: no policy for the app names any new role.
    const { rows: appPolicies } = await admin.query(
      `select count(*)::int as n from pg_policies where schemaname = 'public' and policyname = 'tenant_isolation'
          and roles <> '{public}'`,
    );
    assert.equal(appPolicies[0].n, 0);
  });

  it('without consent, the support role sees 0 rows in every tenant table, even with app.tenant_id set', async () => {
    assert.ok(total(await ownerCounts(ids[wsA.clientKey]!)) > 20, 'there is data to see');
    for (const [client, viaSetRole] of [
      [admin, true],
      [supportLogin, false],
    ] as const) {
      assert.equal(total(await supportCounts(client, viaSetRole)), 0);
      assert.equal(total(await supportCounts(client, viaSetRole, ids[wsA.clientKey])), 0);
    }
    // And it cannot read the registry or the consents' owner-only paths at all.
    await assert.rejects(supportLogin.query('select * from tenants'), /permission denied/);
    await assert.rejects(supportLogin.query('select * from system_audit_log'), /permission denied/);
  });

  it('with consent sees that tenant’s rows only; after revoke or expiry 0 again, on the same connection', async () => {
    const grant = await api(wsA, 'POST', '/support/consent', {
      days: 3,
      reason: 'Ticket 4242: stuck backfill',
    });
    assert.equal(grant.status, 201);
    const { consent } = await grant.json();
    assert.equal(consent.reason, 'Ticket 4242: stuck backfill');

    const expected = await ownerCounts(ids[wsA.clientKey]!);
    assert.deepEqual(await supportCounts(supportLogin, false), expected, 'exactly tenant A’s rows');
    assert.deepEqual(await supportCounts(admin, true), expected);

    assert.equal((await api(wsA, 'DELETE', '/support/consent')).status, 200);
    assert.equal(
      total(await supportCounts(supportLogin, false)),
      0,
      'revoked: nothing, without reconnecting',
    );

    assert.equal(
      (await api(wsA, 'POST', '/support/consent', { days: 1, reason: 'Ticket 4243' })).status,
      201,
    );
    assert.deepEqual(await supportCounts(supportLogin, false), await ownerCounts(ids[wsA.clientKey]!));
    await admin.query(
      `update support_consents set expires_at = now() - interval '1 second' where tenant_id = $1`,
      [ids[wsA.clientKey]],
    );
    assert.equal(total(await supportCounts(supportLogin, false)), 0, 'expired: nothing, without restart');
  });

  it('the consent API validates its input and reports the running consent', async () => {
    for (const body of [
      { days: 0, reason: 'because' },
      { days: 31, reason: 'because' },
      { days: 1.5, reason: 'because' },
      { days: 3 },
      { days: 3, reason: '' },
      { days: '3', reason: 'because' },
    ]) {
      const res = await api(wsB, 'POST', '/support/consent', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(typeof (await res.json()).error.code, 'string');
    }
    assert.deepEqual(await (await api(wsB, 'GET', '/support/consent')).json(), { consent: null });
    await api(wsB, 'POST', '/support/consent', { days: 7, reason: 'first' });
    await api(wsB, 'POST', '/support/consent', { days: 2, reason: 'second replaces first' });
    const { consent } = await (await api(wsB, 'GET', '/support/consent')).json();
    assert.equal(consent.reason, 'second replaces first');
    const { rows } = await admin.query(
      `select count(*)::int as n from support_consents where tenant_id = $1 and revoked_at is null`,
      [ids[wsB.clientKey]],
    );
    assert.equal(rows[0].n, 1, 'one running consent at a time');
    assert.deepEqual(await (await api(wsB, 'DELETE', '/support/consent')).json(), { revoked: true });
    assert.deepEqual(await (await api(wsB, 'DELETE', '/support/consent')).json(), { revoked: false });
    const audit = await (await api(wsB, 'GET', '/audit')).json();
    const actions = audit.entries.map((e: { action: string }) => e.action);
    assert.deepEqual(actions.slice(0, 4), [
      'support.consent_revoked',
      'support.consent_granted',
      'support.consent_granted',
      'settings.updated',
    ]);
    assert.equal((await api(wsB, 'GET', '/audit?limit=0')).status, 400);
  });
});
