import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CommitCursor, CommitListItem } from '../../src/analytics/commit-list';
import { commitFactsPage } from '../../src/analytics/export';
import { resolveScope } from '../../src/analytics/scope';
import { readExport } from '../support/load-export';
import { load, startAnalyticsApp, type AnalyticsFixture, type Params } from './helpers';

/**
 * GET /commits, the drill-down: every page together is exactly the commits the graphs count for the same filters
 * (checked against the export and the series), newest first, keyset-paged with an opaque, checked cursor.
 */

/** A commit as listed: the analytics' item plus its Bitbucket link. */
interface Listed extends CommitListItem {
  link: string;
}
interface Answer {
  commits: Listed[];
  next_cursor: string | null;
  jira_site_url: string | null;
  since: string | null;
  until: string | null;
}

describe('drill-down: GET /commits', () => {
  let f: AnalyticsFixture;
  let repository: string;

  /** Every page of a query, following next_cursor. */
  const all = async (params: Params, limit = 37) => {
    const out: Listed[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await f.api.json<Answer>('/commits', { ...params, limit: String(limit), cursor });
      assert.ok(page.commits.length <= limit);
      out.push(...page.commits);
      if (!page.next_cursor) return out;
      assert.equal(page.commits.length, limit, 'only the last page is short');
      cursor = page.next_cursor;
    }
    throw new Error('too many pages');
  };
  const exported = async (params: Params) =>
    (await (await f.api.get('/export/commits', { ...params, format: 'jsonl' })).text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { hash: string; lines_added: number; author_key: string });

  before(async () => {
    f = await startAnalyticsApp();
    repository = (await load(f, readExport().slice(0, 400))).uuid;
  });
  after(() => f.app.close());

  it('pages through exactly the counted commits, newest first, each with its summary and Bitbucket link', async () => {
    for (const params of [{}, { merges: 'include', bots: 'include' }, { exclusions: 'ignore' }] as Params[]) {
      const listed = await all(params);
      const truth = await exported(params);
      assert.ok(truth.length > 100);
      assert.deepEqual(
        listed.map((c) => c.hash).sort(),
        truth.map((c) => c.hash).sort(),
        JSON.stringify(params),
      );
      assert.equal(new Set(listed.map((c) => c.hash)).size, listed.length, 'no commit twice');
      for (let i = 1; i < listed.length; i++)
        assert.ok(listed[i - 1]!.date >= listed[i]!.date, 'newest first');
      assert.equal(
        listed.reduce((s, c) => s + c.lines_added, 0),
        truth.reduce((s, c) => s + c.lines_added, 0),
      );
    }
    const [first] = (await f.api.json<Answer>('/commits', { limit: '1' })).commits;
    assert.equal(first!.repository.uuid, repository);
    assert.equal(first!.link, `https://bitbucket.org/acme/express/commits/${first!.hash}`);
    assert.match(first!.hash, /^[0-9a-f]{40}$/);
    assert.ok(!first!.summary.includes('\n') && first!.summary.length <= 200);
    const message = readExport().find((c) => c.hash === first!.hash)!.message;
    assert.equal(first!.summary, message.split('\n')[0]!.slice(0, 200));
  });

  it('a bar, a calendar day or a person lists what that number counts', async () => {
    const since = '2025-01-01';
    type Series = { series: { period: string; commits: number }[] };
    for (const interval of ['day', 'week', 'month'] as const) {
      const series = await f.api.json<Series>('/stats/activity', { interval, since });
      const busiest = series.series.reduce((a, b) => (b.commits > a.commits ? b : a));
      assert.ok(busiest.commits > 0, interval);
      const bucket = interval === 'month' ? busiest.period.slice(0, 7) : busiest.period;
      const listed = await all({ [interval]: bucket, since });
      assert.equal(listed.length, busiest.commits, `${interval} ${bucket}`);
    }
    const calendar = await f.api.json<{ days: { date: string; commits: number }[] }>('/stats/calendar', {
      since: '2025-06-01',
      until: '2026-06-01',
    });
    const day = calendar.days.find((d) => d.commits > 1)!;
    assert.equal((await all({ day: day.date })).length, day.commits);
    // In another zone the day is another 24 hours, and the list follows it.
    const zoned = await f.api.json<{ days: { date: string; commits: number }[] }>('/stats/calendar', {
      since: '2025-06-01',
      until: '2026-06-01',
      tz: 'Pacific/Auckland',
    });
    const zonedDay = zoned.days.find((d) => d.commits > 1)!;
    assert.equal((await all({ day: zonedDay.date, tz: 'Pacific/Auckland' })).length, zonedDay.commits);

    const people = await f.api.json<{ contributors: { key: string; commits: number }[] }>(
      '/stats/contributors',
    );
    const person = people.contributors[1]!;
    const theirs = await all({ contributor: person.key });
    assert.equal(theirs.length, person.commits);
    assert.ok(theirs.every((c) => c.author_key === person.key));
    // A bucket outside the range holds nothing of it.
    const outside = await f.api.json<Answer>('/commits', { day: '2020-01-01', since: '2025-01-01' });
    assert.deepEqual(outside.commits, []);
  });

  it('refuses forged cursors, oversized pages and mixed buckets with a 400 and a reason', async () => {
    const page = await f.api.json<Answer>('/commits', { limit: '2' });
    const real = page.next_cursor!;
    const decoded = JSON.parse(Buffer.from(real, 'base64url').toString()) as unknown[];
    const forge = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const bad: Params[] = [
      { cursor: 'not a cursor' },
      { cursor: `${real}x` },
      { cursor: forge([decoded[0], decoded[1], "x' or 1=1 --"]) },
      { cursor: forge([decoded[0], -1, decoded[2]]) },
      { cursor: forge(['2025-02-30T00:00:00.000000Z', decoded[1], decoded[2]]) },
      { cursor: forge({ at: decoded[0] }) },
      { cursor: 'A'.repeat(500) },
      { cursor: [real, real] },
      { limit: '201' },
      { limit: '0' },
      { limit: '-5' },
      { week: '2025-06-04' },
      { day: '2025-06-04', week: '2025-06-02' },
      { month: '2025-13' },
      { month: '2025-1' },
      { day: '2025-02-29' },
      { contributor: 'nobody' },
      { page: '2' },
    ];
    for (const params of bad) {
      const res = await f.api.get('/commits', params);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 400, `${JSON.stringify(params)}: ${JSON.stringify(body)}`);
      assert.ok(['invalid_request', 'invalid_text'].includes(body.error.code), JSON.stringify(body));
      assert.ok(body.error.message.length > 0);
    }
    const next = await f.api.json<Answer>('/commits', { limit: '2', cursor: real });
    assert.notEqual(next.commits[0]!.hash, page.commits[0]!.hash);
  });

  it('links Jira issue keys only once an admin has set an https Jira site', async () => {
    assert.equal((await f.api.json<Answer>('/commits', { limit: '1' })).jira_site_url, null);
    for (const value of [
      'http://acme.atlassian.net',
      'https://acme.atlassian.net/secure',
      'https://user:pw@acme.atlassian.net',
      'https://acme.atlassian.net/?q=1',
      'javascript:alert(1)',
      'https://acme.atlassian.net\n',
      'acme.atlassian.net',
      `https://${'a'.repeat(200)}.net`,
      42,
    ]) {
      const res = await f.admin.send('PUT', '/settings', { jira_site_url: value });
      assert.equal(res.status, 400, JSON.stringify(value));
    }
    const fromWorkspacePage = await f.api.send('PUT', '/settings', {
      jira_site_url: 'https://acme.atlassian.net',
    });
    assert.equal(fromWorkspacePage.status, 403);
    const set = await f.admin.send('PUT', '/settings', { jira_site_url: 'https://ACME.atlassian.net/' });
    assert.equal(set.status, 200, 'no rebuild: the Jira site changes no figure');
    assert.equal(
      ((await set.json()) as { jira_site_url: string }).jira_site_url,
      'https://acme.atlassian.net',
    );
    assert.equal(
      (await f.api.json<Answer>('/commits', { limit: '1' })).jira_site_url,
      'https://acme.atlassian.net',
    );
    const cleared = await f.admin.send('PUT', '/settings', { jira_site_url: null });
    assert.equal(((await cleared.json()) as { jira_site_url: null }).jira_site_url, null);
  });
});

/**
 * The drill-down's page reads one ordered branch per repository or person (src/analytics/export.ts,
 * commitFactsPage): three repositories holding the same commits (every time three times, so the keyset's tie on
 * repository crosses page boundaries), two of them in a project. Each scope, paged in small pages, must be exactly
 * the workspace's export narrowed to it, in the list's order.
 */
describe('drill-down: GET /commits by repository, project, person and bucket', () => {
  let f: AnalyticsFixture;
  const repositories: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  const project = { uuid: '{0c0c0c0c-0000-4000-8000-00000000a11a}', key: 'APP', name: 'App' };

  type Exported = {
    hash: string;
    date: string;
    repository_uuid: string;
    author_key: string;
    lines_added: number;
  };
  const all = async (params: Params, limit: number) => {
    const out: Listed[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 500; pages++) {
      const page = await f.api.json<Answer>('/commits', { ...params, limit: String(limit), cursor });
      out.push(...page.commits);
      if (!page.next_cursor) return out;
      assert.equal(page.commits.length, limit, 'only the last page is short');
      cursor = page.next_cursor;
    }
    throw new Error('too many pages');
  };
  /** The workspace's export (no repository or person filter: the date index), with the same flags and range. */
  const workspace = async (params: Params) =>
    (await (await f.api.get('/export/commits', { ...params, format: 'jsonl' })).text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Exported);
  /** Repository ids, for the list's order: newest first, then repository id and hash, both descending. */
  let idOf: Map<string, number>;
  const newestFirst = (rows: Exported[]) =>
    [...rows]
      .sort(
        (x, y) =>
          Date.parse(y.date) - Date.parse(x.date) ||
          idOf.get(y.repository_uuid)! - idOf.get(x.repository_uuid)! ||
          (y.hash > x.hash ? 1 : -1),
      )
      .map((r) => `${r.repository_uuid} ${r.hash}`);
  const check = async (
    label: string,
    params: Params,
    keep: (row: Exported) => boolean,
    truthParams: Params = {},
    limit = 7,
  ) => {
    const truth = (await workspace({ ...truthParams, merges: params.merges, bots: params.bots })).filter(
      keep,
    );
    const listed = await all(params, limit);
    assert.ok(truth.length > limit, `${label}: more than one page (${truth.length})`);
    assert.deepEqual(
      listed.map((c) => `${c.repository.uuid} ${c.hash}`),
      newestFirst(truth),
      label,
    );
    return listed;
  };

  before(async () => {
    f = await startAnalyticsApp();
    const history = readExport();
    repositories.a = (
      await load(f, history.slice(0, 300), { repository: { fullName: 'acme/app', project } })
    ).uuid;
    repositories.b = (
      await load(f, history.slice(0, 300), { repository: { fullName: 'acme/app-copy', project } })
    ).uuid;
    repositories.c = (
      await load(f, history.slice(150, 450), { repository: { fullName: 'acme/tools' } })
    ).uuid;
    idOf = new Map(
      await f.app.runtime.db.withTenant(f.tenantId, async (trx) =>
        (await trx('repositories').select('uuid', 'id')).map(
          (r: { uuid: string; id: string }) => [r.uuid, Number(r.id)] as const,
        ),
      ),
    );
  });
  after(() => f.app.close());

  it('lists each repository scope exactly, across ties between repositories', async () => {
    const { a, b, c } = repositories;
    await check('one repository', { repository: a }, (r) => r.repository_uuid === a);
    await check('two repositories', { repository: [a, c] }, (r) => r.repository_uuid !== b);
    await check('every repository, by list', { repository: [a, b, c] }, () => true, {}, 11);
    await check('a project', { project: project.uuid }, (r) => r.repository_uuid !== c);
    await check(
      'a project and a repository',
      { project: project.uuid, repository: [b, c] },
      (r) => r.repository_uuid === b,
    );
    await check(
      'merges and bots, two repositories',
      { repository: [b, c], merges: 'include', bots: 'include' },
      (r) => r.repository_uuid !== a,
    );
  });

  it('lists a bucket of one repository, a contributor, a contributor in a repository and a team', async () => {
    const { a, b, c } = repositories;
    // The busiest week and month of repository c, and its busiest person.
    const rows = (await workspace({})).filter((r) => r.repository_uuid === c);
    const count = <K>(key: (r: Exported) => K, among = rows) => {
      const m = new Map<K, number>();
      for (const r of among) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
      return [...m.entries()].sort((x, y) => y[1] - x[1])[0]![0];
    };
    const monday = (d: string) => {
      const t = new Date(`${d.slice(0, 10)}T00:00:00Z`);
      return new Date(t.getTime() - ((t.getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
    };
    const week = count((r) => monday(r.date));
    const inWeek = (r: Exported) => monday(r.date) === week;
    await check(
      'a week of one repository',
      { week, repository: c },
      (r) => r.repository_uuid === c && inWeek(r),
      {},
      3,
    );
    await check(
      'a week of two repositories',
      { week, repository: [a, c] },
      (r) => r.repository_uuid !== b && inWeek(r),
      {},
      3,
    );
    const person = count((r) => r.author_key);
    const month = count(
      (r) => r.date.slice(0, 7),
      rows.filter((r) => r.author_key === person),
    );
    await check('a person', { contributor: person }, (r) => r.author_key === person);
    await check(
      "a person's month",
      { contributor: person, month },
      (r) => r.author_key === person && r.date.startsWith(month),
      {},
      2,
    );
    await check(
      'a person in two repositories',
      { contributor: person, repository: [b, c] },
      (r) => r.author_key === person && r.repository_uuid !== a,
    );
    const people = await f.api.json<{ contributors: { key: string }[] }>('/stats/contributors');
    const members = people.contributors.slice(0, 3).map((p) => p.key);
    const team = await f.admin.send('POST', '/teams', { name: 'Core', members });
    assert.equal(team.status, 201, await team.clone().text());
    const { id } = (await team.json()) as { id: number };
    await check('a team', { team: String(id) }, (r) => members.includes(r.author_key));
    // The team's busiest week in the project.
    const teamWeek = count(
      (r) => monday(r.date),
      (await workspace({})).filter((r) => r.repository_uuid === a && members.includes(r.author_key)),
    );
    await check(
      "a team's week in a project",
      { team: String(id), project: project.uuid, week: teamWeek },
      (r) => members.includes(r.author_key) && r.repository_uuid !== c && monday(r.date) === teamWeek,
      {},
      2,
    );
  });

  it('gives the same pages whichever list it scans, and with one filtered scan of the date index', async () => {
    const { a, b, c } = repositories;
    const people = await f.api.json<{ contributors: { key: string }[] }>('/stats/contributors');
    type Row = { hash: string; repository_id: string; at: string };
    const page = (
      filters: { repositories: string[]; contributor?: string },
      order: 'asc' | 'desc',
      options: Parameters<typeof commitFactsPage>[5],
      after: CommitCursor | null,
    ) =>
      f.app.runtime.db.withTenant(f.tenantId, async (trx) => {
        const scope = await resolveScope(
          trx,
          { ...filters, merges: 'include', bots: 'include', exclusions: 'apply' },
          new Date(),
        );
        const q = commitFactsPage(
          scope,
          after,
          9,
          order,
          'f.hash, f.repository_id, f.authored_at::text as at',
          options,
        );
        return (await trx.raw(q.sql, q.bindings)).rows as Row[];
      });
    for (const filters of [
      { repositories: [a, b, c] },
      { repositories: [b, c], contributor: people.contributors[0]!.key },
    ])
      for (const order of ['asc', 'desc'] as const) {
        let after: CommitCursor | null = null;
        for (let i = 0; i < 5; i++) {
          const branched = await page(filters, order, { branchOn: 'repository' }, after);
          assert.equal(branched.length, 9);
          for (const other of [{ branchOn: 'contributor' }, { maxBranches: 0 }] as const)
            assert.deepEqual(
              await page(filters, order, other, after),
              branched,
              `${JSON.stringify(filters)} ${order} page ${i} ${JSON.stringify(other)}`,
            );
          const last = branched.at(-1)!;
          after = { at: last.at, repositoryId: Number(last.repository_id), hash: last.hash };
        }
      }
  });
});
