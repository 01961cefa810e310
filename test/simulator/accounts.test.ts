import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AccountRegistry } from '../../src/simulator/accounts.js';
import { readExport, startHarness, type Harness } from './helpers.js';

describe('accounts: commit emails → Bitbucket accounts', () => {
  it('maps about 70% of distinct emails, never bots, the same way every time', async () => {
    const { commits } = await readExport();
    const a = new AccountRegistry('tally-simulator');
    const b = new AccountRegistry('tally-simulator');
    const emails = [...new Set(commits.map((c) => c.author.email.toLowerCase()))];
    const mapped = emails.filter((e) => a.byEmail(e) !== null);
    const share = mapped.length / emails.length;
    assert.ok(share > 0.6 && share < 0.8, `share ${share}`);
    assert.ok(emails.filter((e) => e.includes('[bot]')).every((e) => a.byEmail(e) === null));
    for (const e of emails) assert.equal(a.byEmail(e)?.uuid, b.byEmail(e)?.uuid);
  });

  it('add() overrides the rule; get() finds accounts by account_id or {uuid} with or without braces', () => {
    const r = new AccountRegistry('x');
    const bot = 'robot[bot]@example.com';
    assert.equal(r.byEmail(bot), null);
    const explicit = r.add({
      display_name: 'Robo',
      emails: [bot, 'robo@example.com'],
      account_id: '557058:robo',
    });
    assert.equal(r.byEmail(bot), explicit);
    assert.equal(r.byEmail('ROBO@example.com'), explicit);
    assert.equal(r.get('557058:robo'), explicit);
    assert.equal(r.get(explicit.uuid), explicit);
    assert.equal(r.get(explicit.uuid.slice(1, -1)), explicit);
    r.setNoAccount('robo@example.com');
    assert.equal(r.byEmail('robo@example.com'), null);
  });

  it('personFor() prefers the email account, then a same-name account, then a stable shadow account', () => {
    const r = new AccountRegistry('y');
    const named = r.add({ display_name: 'Nia Named', emails: ['nia@work.example'] });
    r.setNoAccount('nia@home.example');
    assert.equal(r.personFor('Nia Named', 'nia@home.example'), named);
    r.setNoAccount('ghost@example.com');
    const shadow = r.personFor('Ghost', 'ghost@example.com');
    assert.equal(shadow.origin, 'shadow');
    assert.equal(r.personFor('Ghost', 'ghost@example.com'), shadow);
  });
});

describe('user endpoints', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ withExpress: false });
  });
  after(() => h.close());

  it('/2.0/user is the installing workspace admin; /2.0/user/emails lists their emails', async () => {
    const admin = h.sim.workspace('acme').admin;
    const me = await h.get('/2.0/user');
    assert.equal(me.body.uuid, admin.uuid);
    assert.equal(me.body.account_id, admin.account_id);
    assert.equal('username' in me.body, false, 'no username (GDPR)');
    const emails = await h.get('/2.0/user/emails');
    assert.deepEqual(
      emails.body.values.map((e: { email: string; is_primary: boolean }) => [e.email, e.is_primary]),
      [[admin.emails[0]!.email, true]],
    );
  });

  it('/2.0/users/{id} works by account_id and {uuid}; a team uuid or unknown id is 404', async () => {
    const u = h.sim.users.add({ display_name: 'Uma User', emails: ['uma@example.com'] });
    assert.equal((await h.get(`/2.0/users/${u.account_id}`)).body.display_name, 'Uma User');
    assert.equal((await h.get(`/2.0/users/${encodeURIComponent(u.uuid)}`)).body.account_id, u.account_id);
    assert.equal((await h.get(`/2.0/users/${encodeURIComponent(h.sim.workspace('acme').uuid)}`)).status, 404);
    assert.equal((await h.get('/2.0/users/nobody')).status, 404);
  });
});
