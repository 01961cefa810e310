import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CommitListItem } from '../../src/analytics/commit-list';
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
