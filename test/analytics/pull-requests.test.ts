import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordPullRequestChanges } from '../../src/analytics/pull-request-facts';
import { startAnalyticsApp, type AnalyticsFixture } from './helpers';

/** Pull-request statistics over a small, hand-checked set of pull requests. */

const HOUR = 3_600_000;
const at = (iso: string, hours = 0) => new Date(Date.parse(iso) + hours * HOUR);

describe('pull-request statistics', () => {
  let f: AnalyticsFixture;
  let repository: string;

  before(async () => {
    f = await startAnalyticsApp();
    await f.app.runtime.db.withTenant(f.tenantId, async (trx) => {
      const [repo] = await trx('repositories')
        .insert({
          tenant_id: f.tenantId,
          uuid: '{00000000-0000-4000-8000-00000000aaaa}',
          full_name: 'acme/web',
          slug: 'web',
          name: 'web',
        })
        .returning(['id', 'uuid']);
      repository = repo.uuid;
      const pr = (id: number, state: string, created: Date, hoursToClose: number | null, author = 'Ann') => ({
        tenant_id: f.tenantId,
        repository_id: repo.id,
        id,
        title: `PR ${id}`,
        state,
        author_uuid: `{author-${author}}`,
        author_name: author,
        created_on: created,
        updated_on: hoursToClose === null ? created : at(created.toISOString(), hoursToClose),
        merged_on: state === 'MERGED' ? at(created.toISOString(), hoursToClose!) : null,
        closed_on:
          state === 'MERGED' || state === 'DECLINED' ? at(created.toISOString(), hoursToClose!) : null,
      });
      // Week of 2024-01-01: three created, two merged (2 h and 10 h), one declined the next week.
      await trx('pull_requests').insert([
        pr(1, 'MERGED', at('2024-01-01T09:00:00Z'), 2),
        pr(2, 'MERGED', at('2024-01-02T09:00:00Z'), 10),
        pr(3, 'DECLINED', at('2024-01-03T09:00:00Z'), 24 * 6),
        pr(4, 'OPEN', at('2024-01-10T09:00:00Z'), null),
        pr(5, 'MERGED', at('2024-01-10T09:00:00Z'), 30, 'renovate[bot]'),
      ]);
      const review = (pull: number, who: string, hours: number, approved: boolean) => ({
        tenant_id: f.tenantId,
        repository_id: repo.id,
        pull_request_id: pull,
        user_uuid: `{author-${who}}`,
        account_id: `acc-${who}`,
        display_name: who,
        role: 'REVIEWER',
        approved,
        participated_on: at('2024-01-01T09:00:00Z', hours),
      });
      await trx('pull_request_participants').insert([
        review(1, 'Bo', 1, true), // first review 1 h after creation
        { ...review(2, 'Bo', 24 + 4, false), state: 'changes_requested' }, // 4 h after creation of #2
        review(2, 'Cy', 24 + 6, true),
        review(1, 'Ann', 0.5, false), // the author's own comment is not a review
      ]);
      // As the pull-request sync does after writing pull requests.
      await recordPullRequestChanges(trx, repo.id, [1, 2, 3, 4, 5]);
    });
  });
  after(() => f.app.close());

  it('counts created, merged and declined per week, time to merge, cycle phases and reviewers', async () => {
    const body = await f.api.json<Record<string, unknown>>('/pull-requests/stats', {
      since: '2024-01-01',
      until: '2024-01-22',
      repository,
    });
    assert.deepEqual(body.series, [
      { period: '2024-01-01', created: 3, merged: 2, declined: 0 },
      { period: '2024-01-08', created: 1, merged: 0, declined: 1 },
      { period: '2024-01-15', created: 0, merged: 0, declined: 0 },
    ]);
    assert.deepEqual(body.totals, { created: 4, merged: 2, declined: 1, open: 1 });
    const ttm = body.time_to_merge as {
      count: number;
      p50: number;
      p95: number;
      histogram: { count: number }[];
    };
    assert.equal(ttm.count, 2);
    assert.equal(ttm.p50, 6); // percentile_cont of 2 h and 10 h
    assert.deepEqual(
      ttm.histogram.map((b) => b.count),
      [0, 1, 1, 0, 0, 0, 0],
    );
    const cycle = body.cycle_time as {
      time_to_first_review: { p50: number };
      review_to_merge: { p50: number };
    };
    assert.equal(cycle.time_to_first_review.p50, 2.5); // 1 h and 4 h
    assert.equal(cycle.review_to_merge.p50, 3.5); // 1 h and 6 h
    assert.deepEqual(body.reviewers, [
      { account_id: 'acc-Bo', display_name: 'Bo', reviews: 2, approvals: 1, changes_requested: 1 },
      { account_id: 'acc-Cy', display_name: 'Cy', reviews: 1, approvals: 1, changes_requested: 0 },
    ]);
  });

  it('shows bot pull requests on request', async () => {
    const body = await f.api.json<{ totals: { created: number; merged: number } }>('/pull-requests/stats', {
      bots: 'include',
      since: '2024-01-01',
      until: '2024-01-22',
    });
    assert.deepEqual(body.totals, { created: 5, merged: 3, declined: 1, open: 1 });
  });
});
