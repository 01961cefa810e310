import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ExportCommit } from '../support/load-export';
import { changeSettings, load, startAnalyticsApp, type AnalyticsFixture } from './helpers';

/** Identity: account when known, else email; admin merges re-credit history at once, and can be undone. */

let seq = 0;
function commit(name: string, email: string, date: string, added = 10): ExportCommit {
  seq++;
  return {
    hash: seq.toString(16).padStart(40, '0'),
    parents: seq === 1 ? [] : [(seq - 1).toString(16).padStart(40, '0')],
    author: { name, email },
    date,
    message: `change ${seq}`,
    files: [{ path: `src/file${seq}.js`, added, removed: 1 }],
  };
}

interface Row {
  key: string;
  commits: number;
  lines_added: number;
  emails: string[];
  account_id: string | null;
  display_name: string;
}

describe('contributor identities', () => {
  let f: AnalyticsFixture;
  const accounts: Record<string, string> = { 'alice@work.example': 'acc-alice' };
  const accountOf = (email: string) => accounts[email.toLowerCase()] ?? null;

  before(async () => {
    f = await startAnalyticsApp();
    await load(
      f,
      [
        commit('Alice', 'alice@work.example', '2024-01-02T10:00:00Z'),
        commit('Alice', 'Alice@Work.example', '2024-01-03T10:00:00Z'),
        commit('alice', 'alice@home.example', '2024-01-04T10:00:00Z'),
        commit('Bob', 'bob@old.example', '2024-01-05T10:00:00Z'),
        commit('Bob W', 'bob@new.example', '2024-01-06T10:00:00Z'),
        commit('Bob W', 'bob@new.example', '2024-01-07T10:00:00Z'),
        commit(
          'dependabot[bot]',
          '49699333+dependabot[bot]@users.noreply.github.com',
          '2024-01-08T10:00:00Z',
        ),
      ],
      { accountOf },
    );
  });
  after(() => f.app.close());

  const contributors = async () =>
    new Map(
      (await f.api.json<{ contributors: Row[] }>('/stats/contributors')).contributors.map((c) => [c.key, c]),
    );

  it('an account gathers its emails (case-insensitively); other emails stand alone', async () => {
    const rows = await contributors();
    assert.deepEqual([...rows.keys()].sort(), [
      'a:acc-alice',
      'e:alice@home.example',
      'e:bob@new.example',
      'e:bob@old.example',
    ]);
    assert.equal(rows.get('a:acc-alice')!.commits, 2);
    assert.deepEqual(rows.get('a:acc-alice')!.emails, ['alice@work.example']);
  });

  it('merging an email into an account re-credits its history at once, and unmerging restores it', async () => {
    const merged = await f.admin.send('POST', '/identities/merge', {
      into: 'a:acc-alice',
      from: ['e:alice@home.example'],
    });
    assert.equal(merged.status, 200, await merged.clone().text());
    assert.deepEqual((await merged.json()).emails, ['alice@work.example']);
    let rows = await contributors();
    assert.equal(rows.has('e:alice@home.example'), false);
    assert.equal(rows.get('a:acc-alice')!.commits, 3);
    assert.equal(rows.get('a:acc-alice')!.lines_added, 30);
    assert.deepEqual(rows.get('a:acc-alice')!.emails, ['alice@home.example', 'alice@work.example']);
    // The merged identity's key still finds the person, who now has all three commits.
    const calendar = await f.api.json<{ total: number }>('/stats/calendar', {
      contributor: 'e:alice@home.example',
      since: '2024-01-01',
      until: '2024-02-01',
    });
    assert.equal(calendar.total, 3);
    const identities = await f.api.json<{
      identities: { key: string; merged_into: string | null; commits: number }[];
    }>('/identities');
    assert.deepEqual(
      identities.identities.find((i) => i.key === 'e:alice@home.example'),
      {
        key: 'e:alice@home.example',
        account_id: null,
        display_name: 'alice',
        emails: ['alice@home.example'],
        merged_into: 'a:acc-alice',
        commits: 1,
      },
    );

    const undone = await f.admin.send(
      'DELETE',
      `/identities/merge/${encodeURIComponent('e:alice@home.example')}`,
      {},
    );
    assert.equal(undone.status, 200);
    rows = await contributors();
    assert.equal(rows.get('a:acc-alice')!.commits, 2);
    assert.equal(rows.get('e:alice@home.example')!.commits, 1);
  });

  it('merges email with email; the target keeps its key', async () => {
    const res = await f.admin.send('POST', '/identities/merge', {
      into: 'e:bob@new.example',
      from: ['e:bob@old.example'],
    });
    assert.equal(res.status, 200);
    const rows = await contributors();
    assert.equal(rows.get('e:bob@new.example')!.commits, 3);
    assert.equal(rows.has('e:bob@old.example'), false);
    const top = await f.api.json<{ people: { key: string; commits: number }[] }>('/stats/top', {
      period: 'all',
    });
    assert.deepEqual(top.people[0], { ...top.people[0], key: 'e:bob@new.example', commits: 3 });
  });

  it('an email seen later with an account joins that account', async () => {
    accounts['alice@home.example'] = 'acc-alice';
    await load(f, [commit('Alice', 'alice@home.example', '2024-02-01T10:00:00Z')], {
      accountOf,
      repository: { fullName: 'acme/other' },
    });
    const rows = await contributors();
    assert.equal(rows.has('e:alice@home.example'), false);
    assert.equal(rows.get('a:acc-alice')!.commits, 4);
  });

  it('refuses bad merges: unknown identities 404, malformed bodies 400', async () => {
    const unknown = await f.admin.send('POST', '/identities/merge', {
      into: 'a:nobody',
      from: ['e:bob@new.example'],
    });
    assert.equal(unknown.status, 404);
    for (const body of [
      {},
      { into: 'a:acc-alice' },
      { into: 'x', from: ['e:a@b'] },
      { into: 'a:acc-alice', from: [] },
    ]) {
      const res = await f.admin.send('POST', '/identities/merge', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(typeof (await res.json()).error.code, 'string');
    }
    const self = await f.admin.send('POST', '/identities/merge', {
      into: 'a:acc-alice',
      from: ['a:acc-alice'],
    });
    assert.equal(self.status, 400);
    const notMerged = await f.admin.send(
      'DELETE',
      `/identities/merge/${encodeURIComponent('a:acc-alice')}`,
      {},
    );
    assert.equal(notMerged.status, 404);
  });

  it('bots are excluded by default, by configurable patterns too', async () => {
    assert.equal(
      [...(await contributors()).keys()].some((k) => k.includes('dependabot')),
      false,
    );
    const withBots = await f.api.json<{ contributors: Row[] }>('/stats/contributors', { bots: 'include' });
    assert.ok(withBots.contributors.some((c) => c.key.includes('dependabot')));
    await changeSettings(f, '/settings', { bot_patterns: ['bob@'] });
    assert.equal((await contributors()).has('e:bob@new.example'), false);
    await changeSettings(f, '/settings', { bot_patterns: [] });
    assert.equal((await contributors()).has('e:bob@new.example'), true);
  });
});
