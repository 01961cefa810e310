import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordPullRequestChanges } from '../../src/analytics/pull-request-facts';
import { apiClient, startAnalyticsApp, type AnalyticsFixture, type Params } from './helpers';

/**
 * Issue 18, item 5: pull requests per person (`author=`, `reviewer=`) and per team (`team=`), on the stats and the
 * export, and on a person's profile page (their own, in public repositories only).
 */

const HOUR = 3_600_000;
const at = (iso: string, hours = 0) => new Date(Date.parse(iso) + hours * HOUR);
const uuid = (n: number) => `{0e5ca1ab-0000-4000-8000-00000000000${n}}`;
const ANN = { uuid: uuid(1), account: 'acc-ann', name: 'Ann' };
const BO = { uuid: uuid(2), account: 'acc-bo', name: 'Bo' };
// Cy reviews but never commits: no contributor row, known from pull-request participants only.
const CY = { uuid: uuid(3), account: 'acc-cy', name: 'Cy' };

interface Stats {
  totals: { created: number; merged: number; declined: number; open: number };
  time_to_merge: { count: number; p50: number | null };
  reviewers: {
    account_id: string | null;
    display_name: string | null;
    reviews: number;
    approvals: number;
    changes_requested: number;
  }[];
  series: { created: number }[];
}

describe('pull requests per person and team', () => {
  let f: AnalyticsFixture;
  const repo = { web: '', secret: '' };

  before(async () => {
    f = await startAnalyticsApp();
    await f.app.runtime.db.withTenant(f.tenantId, async (trx) => {
      const repository = async (n: number, name: string, isPrivate: boolean) =>
        (
          await trx('repositories')
            .insert({
              tenant_id: f.tenantId,
              uuid: `{00000000-0000-4000-8000-00000000aaa${n}}`,
              full_name: `acme/${name}`,
              slug: name,
              name,
              is_private: isPrivate,
            })
            .returning(['id', 'uuid'])
        )[0] as { id: number; uuid: string };
      const web = await repository(1, 'web', false);
      const secret = await repository(2, 'secret', true);
      repo.web = web.uuid;
      repo.secret = secret.uuid;
      for (const p of [ANN, BO])
        await trx('contributors').insert({
          tenant_id: f.tenantId,
          account_id: p.account,
          user_uuid: p.uuid,
          display_name: p.name,
        });
      const pr = (
        repositoryId: number,
        id: number,
        who: typeof ANN,
        state: string,
        created: string,
        hours: number | null,
      ) => ({
        tenant_id: f.tenantId,
        repository_id: repositoryId,
        id,
        title: `PR ${id}`,
        state,
        author_account_id: who.account,
        author_uuid: who.uuid,
        author_name: who.name,
        created_on: at(created),
        updated_on: at(created, hours ?? 0),
        merged_on: state === 'MERGED' ? at(created, hours!) : null,
        closed_on: state === 'MERGED' ? at(created, hours!) : null,
      });
      await trx('pull_requests').insert([
        pr(web.id, 1, ANN, 'MERGED', '2024-01-01T09:00:00Z', 2),
        pr(web.id, 2, ANN, 'MERGED', '2024-01-02T09:00:00Z', 10),
        pr(web.id, 3, ANN, 'OPEN', '2024-01-03T09:00:00Z', null),
        pr(web.id, 4, BO, 'MERGED', '2024-01-04T09:00:00Z', 5),
        pr(secret.id, 1, BO, 'MERGED', '2024-01-05T09:00:00Z', 1),
      ]);
      const review = (
        repositoryId: number,
        pull: number,
        who: typeof ANN,
        created: string,
        hours: number,
        approved: boolean,
      ) => ({
        tenant_id: f.tenantId,
        repository_id: repositoryId,
        pull_request_id: pull,
        user_uuid: who.uuid,
        account_id: who.account,
        display_name: who.name,
        role: 'REVIEWER',
        approved,
        participated_on: at(created, hours),
      });
      await trx('pull_request_participants').insert([
        review(web.id, 1, BO, '2024-01-01T09:00:00Z', 1, true),
        { ...review(web.id, 2, BO, '2024-01-02T09:00:00Z', 3, false), state: 'changes_requested' },
        review(web.id, 2, CY, '2024-01-02T09:00:00Z', 4, true),
        review(web.id, 4, CY, '2024-01-04T09:00:00Z', 1, true),
        review(web.id, 4, ANN, '2024-01-04T09:00:00Z', 2, true),
        review(secret.id, 1, ANN, '2024-01-05T09:00:00Z', 0.5, true),
      ]);
      await recordPullRequestChanges(trx, web.id, [1, 2, 3, 4]);
      await recordPullRequestChanges(trx, secret.id, [1]);
    });
  });
  after(() => f.app.close());

  const stats = (params: Params, client = f.api) =>
    client.json<Stats>('/pull-requests/stats', { since: '2024-01-01', until: '2024-02-01', ...params });
  const reviewers = (s: Stats) => s.reviewers.map((r) => [r.account_id, r.reviews, r.approvals]);

  it("author= counts a person's pull requests, by key or uuid, and who reviewed them", async () => {
    for (const author of [`a:${ANN.account}`, ANN.uuid, ANN.uuid.toUpperCase()]) {
      const s = await stats({ author });
      assert.deepEqual(s.totals, { created: 3, merged: 2, declined: 0, open: 1 }, author);
      assert.deepEqual([s.time_to_merge.count, s.time_to_merge.p50], [2, 6]);
      assert.deepEqual(reviewers(s), [
        ['acc-bo', 2, 1],
        ['acc-cy', 1, 1],
      ]);
    }
    const bo = await stats({ author: `a:${BO.account}` });
    assert.deepEqual(bo.totals, { created: 2, merged: 2, declined: 0, open: 0 });
    const inWeb = await stats({ author: `a:${BO.account}`, repository: repo.web });
    assert.deepEqual(inWeb.totals, { created: 1, merged: 1, declined: 0, open: 0 });
    const nobody = await stats({ author: 'e:nobody@example.com' });
    assert.deepEqual(nobody.totals, { created: 0, merged: 0, declined: 0, open: 0 });
    assert.deepEqual(nobody.reviewers, []);
  });

  it('reviewer= counts the pull requests a person reviewed, and their reviews only', async () => {
    const bo = await stats({ reviewer: BO.uuid });
    assert.deepEqual(bo.totals, { created: 2, merged: 2, declined: 0, open: 0 });
    assert.deepEqual(bo.reviewers, [
      { account_id: 'acc-bo', display_name: 'Bo', reviews: 2, approvals: 1, changes_requested: 1 },
    ]);
    // Someone who never committed, named by account: found through the pull requests' participants.
    const cy = await stats({ reviewer: `a:${CY.account}` });
    assert.deepEqual(cy.totals, { created: 2, merged: 2, declined: 0, open: 0 });
    assert.deepEqual(reviewers(cy), [['acc-cy', 2, 2]]);
    // Both: Ann's pull requests that Cy reviewed.
    const both = await stats({ author: ANN.uuid, reviewer: CY.uuid });
    assert.deepEqual(both.totals, { created: 1, merged: 1, declined: 0, open: 0 });
    assert.deepEqual(reviewers(both), [['acc-cy', 1, 1]]);
  });

  it('team= counts the pull requests its members authored', async () => {
    const create = async (name: string, members: string[]) =>
      ((await (await f.admin.send('POST', '/teams', { name, members })).json()) as { id: number }).id;
    const ann = await create('Ann alone', [`a:${ANN.account}`]);
    const both = await create('Ann and Bo', [`a:${ANN.account}`, `a:${BO.account}`]);
    assert.deepEqual((await stats({ team: String(ann) })).totals, (await stats({ author: ANN.uuid })).totals);
    assert.deepEqual((await stats({ team: String(both) })).totals, {
      created: 5,
      merged: 4,
      declined: 0,
      open: 1,
    });
    // A team and an author outside it: nothing.
    const none = await stats({ team: String(ann), author: BO.uuid });
    assert.equal(none.totals.created, 0);
  });

  it('a uuid stored in capitals is still the same person (matched through the lower-cased columns)', async () => {
    const dee = '{00000000-0000-4000-8000-0000000000DE}';
    const eve = '{00000000-0000-4000-8000-0000000000EF}';
    await f.app.runtime.db.withTenant(f.tenantId, async (trx) => {
      const [web] = (await trx('repositories').where({ uuid: repo.web }).select('id')) as { id: number }[];
      await trx('pull_requests').insert({
        tenant_id: f.tenantId,
        repository_id: web!.id,
        id: 9,
        title: 'PR 9',
        state: 'OPEN',
        author_uuid: dee,
        author_name: 'Dee',
        created_on: at('2024-01-09T09:00:00Z'),
        updated_on: at('2024-01-09T09:00:00Z'),
      });
      await trx('pull_request_participants').insert({
        tenant_id: f.tenantId,
        repository_id: web!.id,
        pull_request_id: 9,
        user_uuid: eve,
        display_name: 'Eve',
        role: 'REVIEWER',
        approved: true,
        participated_on: at('2024-01-09T10:00:00Z'),
      });
      await recordPullRequestChanges(trx, web!.id, [9]);
    });
    for (const author of [dee.toLowerCase(), dee]) {
      const s = await stats({ author });
      assert.deepEqual(s.totals, { created: 1, merged: 0, declined: 0, open: 1 }, author);
      assert.deepEqual(
        s.reviewers.map((r) => [r.display_name, r.reviews]),
        [['Eve', 1]],
      );
    }
    const byEve = await stats({ reviewer: eve.toLowerCase() });
    assert.deepEqual(byEve.totals, { created: 1, merged: 0, declined: 0, open: 1 });
    assert.deepEqual(
      byEve.reviewers.map((r) => [r.display_name, r.reviews, r.approvals]),
      [['Eve', 1, 1]],
    );
  });

  it('the pull-request export takes author= and reviewer= too', async () => {
    const rows = async (params: Params) =>
      (
        await (
          await f.api.get('/export/pull-requests', { format: 'jsonl', bots: 'include', ...params })
        ).text()
      )
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const r = JSON.parse(l) as { repository: string; id: number };
          return `${r.repository}#${r.id}`;
        });
    assert.deepEqual(await rows({ author: `a:${BO.account}` }), ['acme/web#4', 'acme/secret#1']);
    assert.deepEqual(await rows({ reviewer: ANN.uuid }), ['acme/web#4', 'acme/secret#1']);
    assert.deepEqual(await rows({ reviewer: CY.uuid, author: ANN.uuid }), ['acme/web#2']);
    const bad = await f.api.get('/export/pull-requests', { author: 'someone' });
    assert.equal(bad.status, 400);
    // The commit export has no pull-request people.
    assert.equal((await f.api.get('/export/commits', { author: ANN.uuid })).status, 400);
  });

  it("a person's page reads their own pull requests and reviews, in public repositories only", async () => {
    const profile = apiClient(f.app.url, f.ws, 'profile', { user: BO.uuid });
    const mine = await stats({ author: BO.uuid }, profile);
    assert.deepEqual(
      mine.totals,
      { created: 1, merged: 1, declined: 0, open: 0 },
      'the private one is left out',
    );
    assert.deepEqual(mine, await stats({ author: BO.uuid, repository: repo.web }));
    const reviews = await stats({ reviewer: BO.uuid }, profile);
    assert.deepEqual(reviewers(reviews), [['acc-bo', 2, 1]]);
    const refuse = async (params: Params) => {
      const res = await profile.get('/pull-requests/stats', params);
      assert.deepEqual(
        [res.status, (await res.json()).error.code],
        [403, 'outside_scope'],
        JSON.stringify(params),
      );
    };
    await refuse({});
    await refuse({ author: ANN.uuid });
    await refuse({ reviewer: ANN.uuid });
    await refuse({ author: BO.uuid, reviewer: ANN.uuid });
    await refuse({ team: '1' });
    // Asking for the private repository by uuid confirms nothing: an empty answer.
    const hidden = await stats({ author: BO.uuid, repository: repo.secret }, profile);
    assert.equal(hidden.totals.created, 0);
    // The export stays closed to a person's page.
    const exported = await profile.get('/export/pull-requests', { author: BO.uuid });
    assert.equal(exported.status, 403);
  });
});
