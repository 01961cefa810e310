import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_TEAM_MEMBERS, MAX_TEAMS } from '../../src/api/team-routes';
import { install, newWorkspace } from '../support/bitbucket';
import { readExport } from '../support/load-export';
import { apiClient, load, startAnalyticsApp, type AnalyticsFixture, type ApiClient } from './helpers';

/** Issue 18, item 3: teams of contributors, defined on the configure page, as a filter of every stats endpoint. */

interface Team {
  id: number;
  name: string;
  members: string[];
}
interface Person {
  key: string;
  commits: number;
  lines_added: number;
  lines_removed: number;
}
type Point = { period: string; commits: number; lines_added: number; lines_removed: number };

const ALL = { merges: 'include', bots: 'include' };

describe('teams', () => {
  let f: AnalyticsFixture;
  let people: Person[];
  let other: ApiClient;

  before(async () => {
    f = await startAnalyticsApp();
    await load(f, readExport().slice(0, 600));
    people = (await f.api.json<{ contributors: Person[] }>('/stats/contributors', ALL)).contributors;
    assert.ok(people.length >= 4, 'a few people committed');
    const ws = newWorkspace();
    assert.equal((await install(f.app, ws)).status, 204);
    other = apiClient(f.app.url, ws, 'configure');
  });
  after(() => f.app.close());

  const create = async (body: unknown) => {
    const res = await f.admin.send('POST', '/teams', body);
    const text = await res.text();
    assert.equal(res.status, 201, text);
    return JSON.parse(text) as Team;
  };
  const refused = async (method: string, path: string, body: unknown, status: number, code: string) => {
    const res = await f.admin.send(method, path, body);
    const text = await res.text();
    assert.deepEqual([res.status, JSON.parse(text).error.code], [status, code], `${method} ${path}: ${text}`);
  };

  it('admins create, list, rename, change and delete teams, each change in the audit log', async () => {
    const [a, b] = people;
    const team = await create({ name: '  Platform ', members: [a!.key, b!.key, a!.key] });
    assert.equal(team.name, 'Platform');
    assert.deepEqual(team.members, [a!.key, b!.key].sort());
    const listed = await f.api.json<{ teams: Team[] }>('/teams');
    assert.deepEqual(
      listed.teams.map((t) => [t.id, t.name, t.members]),
      [[team.id, 'Platform', team.members]],
    );
    const changed = await f.admin.send('PUT', `/teams/${team.id}`, { name: 'Core', members: [b!.key] });
    assert.equal(changed.status, 200);
    assert.deepEqual(((await changed.json()) as Team).members, [b!.key]);
    assert.equal((await f.admin.send('DELETE', `/teams/${team.id}`, {})).status, 204);
    assert.deepEqual((await f.api.json<{ teams: Team[] }>('/teams')).teams, []);
    assert.equal((await f.admin.send('DELETE', `/teams/${team.id}`, {})).status, 404);
    const audit = await f.api.json<{ entries: { action: string; details: { team_id?: number } }[] }>(
      '/audit',
    );
    const mine = audit.entries.filter((e) => e.details.team_id === team.id).map((e) => e.action);
    assert.deepEqual(mine.sort(), ['team.created', 'team.deleted', 'team.updated']);
  });

  it('refuses bad names, bad members, duplicate names, too many and unknown teams', async () => {
    const ok = { name: 'Fine', members: [] as string[] };
    for (const [body, why] of [
      [{ ...ok, name: '' }, 'empty name'],
      [{ ...ok, name: '   ' }, 'blank name'],
      [{ ...ok, name: 'a\u0000b' }, 'NUL'],
      [{ ...ok, name: 'line\nbreak' }, 'newline'],
      [{ ...ok, name: 'x'.repeat(101) }, 'long name'],
      [{ ...ok, members: ['someone'] }, 'not a key'],
      [{ ...ok, members: ['{0e5ca1ab-0000-4000-8000-000000000001}'] }, 'a uuid is not a key'],
      [{ ...ok, members: ['e:bad\u0007@example.com'] }, 'control character in a key'],
      [
        { ...ok, members: Array.from({ length: MAX_TEAM_MEMBERS + 1 }, (_, i) => `e:p${i}@x.io`) },
        'too many',
      ],
      [{ ...ok, members: 'a:1' }, 'not a list'],
      [{ ...ok, colour: 'blue' }, 'unknown field'],
      [{ name: 'Fine' }, 'no members'],
    ] as const)
      await refused('POST', '/teams', body, 400, 'invalid_request').catch((e: Error) => {
        throw new Error(`${why}: ${e.message}`);
      });
    const first = await create({ name: 'Web', members: [] });
    await refused('POST', '/teams', { name: 'WEB ', members: [] }, 409, 'conflict');
    const second = await create({ name: 'Mobile', members: [] });
    await refused('PUT', `/teams/${second.id}`, { name: 'web', members: [] }, 409, 'conflict');
    await refused('PUT', '/teams/999999', ok, 404, 'not_found');
    await refused('PUT', '/teams/abc', ok, 400, 'invalid_request');
    await refused('DELETE', '/teams/1e3', {}, 400, 'invalid_request');
    for (const t of [first, second]) await f.admin.send('DELETE', `/teams/${t.id}`, {});

    const many = [];
    for (let i = 0; i < MAX_TEAMS; i++) many.push(await create({ name: `Team ${i}`, members: [] }));
    await refused('POST', '/teams', { name: 'One too many', members: [] }, 409, 'conflict');
    for (const t of many) assert.equal((await f.admin.send('DELETE', `/teams/${t.id}`, {})).status, 204);
  });

  it('team= narrows every stats endpoint to its members, exactly as their own answers add up', async () => {
    const members = [people[0]!, people[2]!, people[3]!];
    const team = await create({ name: 'Some', members: members.map((p) => p.key) });
    const params = { ...ALL, team: String(team.id) };

    const seen = await f.api.json<{ contributors: Person[] }>('/stats/contributors', params);
    assert.deepEqual(
      seen.contributors.map((c) => [c.key, c.commits, c.lines_added]).sort(),
      members.map((c) => [c.key, c.commits, c.lines_added]).sort(),
    );

    const series = async (extra: Record<string, string>) =>
      (await f.api.json<{ series: Point[] }>('/stats/activity', { ...ALL, interval: 'month', ...extra }))
        .series;
    const teamSeries = await series({ team: String(team.id) });
    const sums = new Map<string, number[]>();
    for (const m of members)
      for (const p of await series({ contributor: m.key })) {
        const s = sums.get(p.period) ?? [0, 0, 0];
        sums.set(p.period, [s[0]! + p.commits, s[1]! + p.lines_added, s[2]! + p.lines_removed]);
      }
    for (const p of teamSeries)
      assert.deepEqual(
        [p.commits, p.lines_added, p.lines_removed],
        sums.get(p.period) ?? [0, 0, 0],
        p.period,
      );
    assert.equal(
      teamSeries.reduce((s, p) => s + p.commits, 0),
      members.reduce((s, m) => s + m.commits, 0),
    );

    const punch = await f.api.json<{ counts: number[][] }>('/stats/punchcard', params);
    assert.equal(
      punch.counts.flat().reduce((a, b) => a + b, 0),
      members.reduce((s, m) => s + m.commits, 0),
    );
    const top = await f.api.json<{ people: Person[] }>('/stats/top', { ...params, limit: '100' });
    assert.deepEqual(top.people.map((p) => p.key).sort(), members.map((m) => m.key).sort());
    const exported = (await (await f.api.get('/export/commits', { ...params, format: 'jsonl' })).text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { author_key: string });
    assert.equal(
      exported.length,
      members.reduce((s, m) => s + m.commits, 0),
    );
    assert.ok(exported.every((c) => members.some((m) => m.key === c.author_key)));

    // With a contributor: that person if in the team, else nothing.
    const inTeam = await series({ team: String(team.id), contributor: members[0]!.key });
    assert.deepEqual(inTeam, await series({ contributor: members[0]!.key }));
    assert.deepEqual(await series({ team: String(team.id), contributor: people[1]!.key }), []);

    // A member merged into someone outside the team: their history moves with them (resolved at read time).
    const merged = await f.admin.send('POST', '/identities/merge', {
      into: people[1]!.key,
      from: [members[2]!.key],
    });
    assert.equal(merged.status, 200, await merged.clone().text());
    const after = await f.api.json<{ contributors: Person[] }>('/stats/contributors', params);
    assert.ok(
      after.contributors.some((c) => c.key === people[1]!.key),
      'the merged identity counts',
    );
    await f.admin.send('DELETE', `/identities/merge/${encodeURIComponent(members[2]!.key)}`, {});
  });

  it('an unknown team is a 404; a team of people without commits is an empty answer', async () => {
    for (const path of ['/stats/contributors', '/stats/activity', '/stats/top', '/export/commits']) {
      const res = await f.api.get(path, { team: '999999' });
      assert.deepEqual([res.status, (await res.json()).error.code], [404, 'not_found'], path);
    }
    const nobody = await create({ name: 'Nobody yet', members: ['e:newcomer@example.com'] });
    const res = await f.api.json<{ contributors: unknown[] }>('/stats/contributors', {
      team: String(nobody.id),
    });
    assert.deepEqual(res.contributors, []);
  });

  it("another workspace never sees or uses this workspace's teams", async () => {
    const mine = await create({ name: 'Private matters', members: [people[0]!.key] });
    assert.deepEqual((await other.json<{ teams: Team[] }>('/teams')).teams, []);
    const res = await other.get('/stats/contributors', { team: String(mine.id) });
    assert.equal(res.status, 404);
    const put = await other.send('PUT', `/teams/${mine.id}`, { name: 'Taken over', members: [] });
    assert.equal(put.status, 404);
    assert.equal((await other.send('DELETE', `/teams/${mine.id}`, {})).status, 404);
    const still = (await f.api.json<{ teams: Team[] }>('/teams')).teams.find((t) => t.id === mine.id);
    assert.equal(still?.name, 'Private matters');
  });
});
