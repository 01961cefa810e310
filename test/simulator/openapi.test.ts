import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { apiToken, readExport, startHarness, type ExportLine, type Harness, type Loose } from './helpers.js';

const SPEC = fileURLToPath(new URL('../fixtures/bitbucket-openapi.json', import.meta.url));

/**
 * Where real Bitbucket payloads (captured in shared/reference/bitbucket-connect.md, sources [TC]
 * and [OAS] examples) contradict the OpenAPI component schemas, the simulator follows the real
 * payloads and the schema is widened here, explicitly and only for these fields:
 * - diffstat `old`/`new` are null for added/removed files;
 * - participant `state` is null when the participant has neither approved nor requested changes
 *   (the schema lists null in its enum but types the field as string);
 * - a lightweight tag's `message`/`date`/`tagger` are null in repo:push payloads.
 */
function patchedSpec(): Record<string, Loose> {
  const doc = JSON.parse(readFileSync(SPEC, 'utf8'));
  const s = doc.components.schemas;
  const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });
  s.diffstat.properties.old = nullable(s.diffstat.properties.old);
  s.diffstat.properties.new = nullable(s.diffstat.properties.new);
  s.participant.allOf[1].properties.state.type = ['string', 'null'];
  const tag = s.tag.allOf[1].properties;
  for (const k of ['message', 'date', 'tagger']) tag[k] = nullable(tag[k]);
  return doc;
}

describe('responses conform to the official Bitbucket OpenAPI schemas', () => {
  let h: Harness;
  let ajv: Ajv;
  let commits: ExportLine[];
  const repo = '/2.0/repositories/acme/express';

  const check = (schema: string, data: unknown, what: string): void => {
    const validate = ajv.getSchema(`bb#/components/schemas/${schema}`) as ValidateFunction | undefined;
    assert.ok(validate, `schema ${schema} exists`);
    const ok = validate(data);
    assert.ok(ok, `${what} vs ${schema}: ${ajv.errorsText(validate.errors, { separator: '\n' })}`);
  };
  const get = async (path: string, status = 200) => {
    const res = await h.get(path);
    assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  before(async () => {
    ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(patchedSpec(), 'bb');
    h = await startHarness({ rateLimitPerHour: Infinity });
    ({ commits } = await readExport());
  });
  after(() => h.close());

  it('GET /2.0/repositories/{workspace} → paginated_repositories', async () => {
    check('paginated_repositories', await get('/2.0/repositories/acme'), 'repository list');
  });

  it('GET /2.0/repositories/{workspace}/{repo_slug} → repository', async () => {
    check('repository', await get(repo), 'repository');
  });

  it('GET …/commits, …/commits/{revision} and POST …/commits → paginated_changeset', async () => {
    check('paginated_changeset', await get(`${repo}/commits?pagelen=100`), 'commits');
    check(
      'paginated_changeset',
      await get(`${repo}/commits/master?exclude=4.x&pagelen=50`),
      'commits/master',
    );
    const url = `${h.sim.apiUrl}${repo}/commits`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        Authorization: `JWT ${apiToken(h.inst, 'POST', url)}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'include=5.x&exclude=master',
    });
    check('paginated_changeset', await res.json(), 'POST commits');
  });

  it('GET …/commit/{commit} → commit (merge, bot, mapped author)', async () => {
    const merge = commits.find((c) => c.parents.length === 2)!;
    const bot = commits.find((c) => c.author.email.includes('[bot]'))!;
    for (const c of [merge, bot, commits[100]!])
      check('commit', await get(`${repo}/commit/${c.hash}`), `commit ${c.hash}`);
  });

  it('GET …/diffstat/{spec} → paginated_diffstats (added, removed, modified, renamed, binary; A..B)', async () => {
    const interesting = commits.filter(
      (c) => c.parents.length === 0 || c.files.some((f) => f.old_path || f.added === null),
    );
    const statuses = new Set<string>();
    for (const c of interesting.slice(0, 60)) {
      const body = await get(`${repo}/diffstat/${c.hash}`);
      check('paginated_diffstats', body, `diffstat ${c.hash}`);
      for (const d of body.values) statuses.add(d.status);
    }
    assert.deepEqual([...statuses].sort(), ['added', 'modified', 'removed', 'renamed']);
    check('paginated_diffstats', await get(`${repo}/diffstat/master..4.x?pagelen=50`), 'range diffstat');
  });

  it('GET /2.0/user and /2.0/users/{account_id | {uuid}} → account and user', async () => {
    const me = await get('/2.0/user');
    check('account', me, '/user');
    check('user', me, '/user');
    const author = (await get(`${repo}/commits?pagelen=100`)).values.find((v: Loose) => v.author.user).author
      .user;
    for (const id of [author.account_id, encodeURIComponent(author.uuid)]) {
      const u = await get(`/2.0/users/${id}`);
      check('user', u, `/users/${id}`);
      assert.equal(u.uuid, author.uuid);
    }
  });

  it('GET /2.0/user/emails (no schema in the spec): paged email objects', async () => {
    const body = await get('/2.0/user/emails');
    assert.ok(body.values.length >= 1);
    for (const e of body.values) {
      assert.equal(e.type, 'email');
      assert.equal(typeof e.email, 'string');
      assert.equal(typeof e.is_primary, 'boolean');
      assert.equal(typeof e.is_confirmed, 'boolean');
    }
    check('paginated_accounts', { ...body, values: [] }, 'email page envelope');
    const one = await get(`/2.0/user/emails/${encodeURIComponent(body.values[0].email)}`);
    assert.deepEqual(one, body.values[0]);
  });

  it('GET …/pullrequests → paginated_pullrequests; …/pullrequests/{id} → pullrequest', async () => {
    for (const state of ['OPEN', 'MERGED', 'DECLINED']) {
      const page = await get(`${repo}/pullrequests?state=${state}&pagelen=50`);
      check('paginated_pullrequests', page, `pullrequests ${state}`);
      for (const pr of page.values.slice(0, 10))
        check('pullrequest', await get(`${repo}/pullrequests/${pr.id}`), `pullrequest ${pr.id}`);
    }
  });

  it('GET …/pullrequests/{id}/activity (no schema): its parts validate as pullrequest, account, pullrequest_comment', async () => {
    const merged = (await get(`${repo}/pullrequests?state=MERGED&pagelen=50`)).values;
    let comments = 0;
    for (const pr of merged.slice(0, 15)) {
      const body = await get(`${repo}/pullrequests/${pr.id}/activity`);
      assert.equal(typeof body.pagelen, 'number');
      for (const v of body.values) {
        check('pullrequest', v.pull_request, 'activity pull_request');
        if (v.update) {
          check('account', v.update.author, 'update.author');
          assert.ok(['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED'].includes(v.update.state));
        }
        if (v.approval) check('account', v.approval.user, 'approval.user');
        if (v.comment) {
          comments++;
          check('pullrequest_comment', v.comment, 'comment');
        }
      }
    }
    assert.ok(comments > 0);
  });

  it('error responses (400, 401, 403, 404, 429, 5xx) → error', async () => {
    check('error', await get(`${repo}/pullrequests?pagelen=100`, 400), '400');
    check('error', (await (await fetch(`${h.sim.apiUrl}/2.0/user`)).json()) as object, '401');
    check('error', await get(`${repo}/commit/ffffffffffff`, 404), '404');
    h.sim.setKnobs({ faultRate: 1 });
    const fault = await h.get('/2.0/user');
    h.sim.setKnobs({ faultRate: 0 });
    assert.ok(fault.status >= 500);
    check('error', fault.body, String(fault.status));
    h.sim.setKnobs({ rateLimitPerHour: 1, rateWindowMs: 3_600_000 });
    await h.get(repo);
    check('error', await get(repo, 429), '429');
    h.sim.setKnobs({ rateLimitPerHour: Infinity });
  });

  it('webhook payload parts: repository, actor, branch/tag refs and their commits, pullrequest', async () => {
    const pushed = await h.sim.push('acme', 'express', {
      branch: 'master',
      commits: [{ author: { name: 'Ada', email: 'ada@example.com' }, message: 'x\n' }],
    });
    const data = (pushed.delivery!.body as { data: Record<string, Loose> }).data;
    check('repository', data.repository, 'push repository');
    check('account', data.actor, 'push actor');
    const change = data.push.changes[0];
    check('branch', change.new, 'new branch');
    check('branch', change.old, 'old branch');
    for (const c of change.commits) check('commit', c, 'push commit');
    const tag = await h.sim.createTag('acme', 'express', { tag: 'v-schema', target: 'master' });
    check('tag', (tag.delivery!.body as { data: Record<string, Loose> }).data.push.changes[0].new, 'tag');
    await h.sim.push('acme', 'express', {
      branch: 'feature/schema',
      commits: [{ author: { name: 'Ada', email: 'ada@example.com' }, message: 'y\n' }],
    });
    const opened = await h.sim.openPullRequest('acme', 'express', {
      title: 'Schema',
      source: 'feature/schema',
    });
    check(
      'pullrequest',
      (opened.delivery!.body as { data: Record<string, Loose> }).data.pullrequest,
      'pullrequest:created',
    );
  });
});
