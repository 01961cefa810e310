import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { apiRouter, type ApiDeps } from '../../src/api/api-router';
import { OPENAPI_FILE } from '../../src/api/openapi-routes';
import { install, newWorkspace } from '../support/bitbucket';
import { readExport } from '../support/load-export';
import { operationsOf, routesOf } from '../support/routes';
import {
  apiClient,
  FILTERED_ENDPOINTS,
  load,
  startAnalyticsApp,
  type AnalyticsFixture,
  type ApiClient,
  type Params,
} from './helpers';

/** Parameter validation (property-based), tenant isolation, CSV, and the OpenAPI document. */

const ENDPOINTS = FILTERED_ENDPOINTS;

const UUID_LIKE = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;
const isZone = (s: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: s });
    return true;
  } catch {
    return false;
  }
};
const notOneOf = (values: string[]) => fc.string().filter((s) => !values.includes(s));

/** For each parameter, values that must be refused, and the endpoints that take it. */
const BAD: Record<string, { values: fc.Arbitrary<string | string[]>; endpoints: string[] }> = {
  repository: {
    values: fc.oneof(
      fc.string().filter((s) => !UUID_LIKE.test(s)),
      fc.array(
        fc.string().filter((s) => !UUID_LIKE.test(s)),
        { minLength: 2, maxLength: 3 },
      ),
      fc.constant('{6f9619ff-8b86-d011-b42d-00c04fc964ff'),
    ),
    endpoints: ENDPOINTS,
  },
  project: {
    values: fc.oneof(
      fc.string().filter((s) => !UUID_LIKE.test(s)),
      fc.array(
        fc.string().filter((s) => !UUID_LIKE.test(s)),
        { minLength: 2, maxLength: 3 },
      ),
    ),
    endpoints: ENDPOINTS,
  },
  since: {
    values: fc.oneof(
      fc.string().filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s)),
      fc.constantFrom('2023-02-30', '2023-13-01', '0999-01-01', '2024-00-10', '2024-1-01'),
      fc.array(fc.constant('2024-01-01'), { minLength: 2, maxLength: 2 }),
    ),
    endpoints: ENDPOINTS,
  },
  until: {
    values: fc.oneof(
      fc.string().filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s)),
      fc.constant('2021-02-29'),
    ),
    endpoints: ENDPOINTS,
  },
  team: {
    values: fc.oneof(
      fc.string().filter((s) => !/^\d{1,15}$/.test(s)),
      fc.constantFrom('-1', '1.5', '0x10', '1234567890123456'),
      fc.array(fc.constant('1'), { minLength: 2, maxLength: 2 }),
    ),
    endpoints: ENDPOINTS,
  },
  merges: { values: notOneOf(['exclude', 'include', 'only']), endpoints: ENDPOINTS },
  bots: { values: notOneOf(['exclude', 'include']), endpoints: ENDPOINTS },
  exclusions: { values: notOneOf(['apply', 'ignore']), endpoints: ENDPOINTS },
  tz: {
    values: fc.oneof(
      fc.string().filter((s) => !isZone(s)),
      fc.constantFrom('Mars/Olympus', 'UTC+5', '../etc'),
    ),
    endpoints: ENDPOINTS,
  },
  interval: {
    values: notOneOf(['day', 'week', 'month']),
    endpoints: ['/stats/activity', '/pull-requests/stats'],
  },
  contributor: {
    values: fc.string().filter((s) => !/^(a:|e:|\{)/.test(s)),
    endpoints: ['/stats/activity', '/stats/punchcard', '/stats/calendar', '/commits'],
  },
  cursor: { values: fc.string({ minLength: 1 }), endpoints: ['/commits'] },
  day: { values: fc.string().filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s)), endpoints: ['/commits'] },
  author: {
    values: fc.string().filter((s) => !/^(a:|e:|\{)/.test(s)),
    endpoints: ['/pull-requests/stats', '/export/pull-requests'],
  },
  reviewer: {
    values: fc.oneof(
      fc.string().filter((s) => !/^(a:|e:|\{)/.test(s)),
      fc.constantFrom('{not-a-uuid}', 'a:', 'e:x\u0001y', `a:${'x'.repeat(400)}`),
    ),
    endpoints: ['/pull-requests/stats', '/export/pull-requests'],
  },
  by: { values: notOneOf(['commits', 'lines']), endpoints: ['/stats/top'] },
  period: { values: notOneOf(['week', 'month', 'quarter', 'year', 'all']), endpoints: ['/stats/top'] },
  limit: {
    values: fc.oneof(
      fc.string().filter((s) => !/^\d+$/.test(s)),
      fc.constantFrom('0', '101', '99999999', '-1', '1.5'),
    ),
    endpoints: ['/stats/top'],
  },
  format: {
    values: notOneOf(['json', 'csv', 'jsonl']),
    endpoints: ['/stats/contributors', '/export/commits', '/export/pull-requests'],
  },
};

/** An RFC 4180 reader (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  assert.equal(quoted, false, 'no unterminated quote');
  assert.equal(cell + row.join(''), '', 'ends with a line break');
  return rows;
}

describe('analytics API', () => {
  let f: AnalyticsFixture;
  let repository: string;
  let other: ApiClient;

  before(async () => {
    f = await startAnalyticsApp();
    repository = (await load(f, readExport().slice(0, 400))).uuid;
    const ws = newWorkspace();
    assert.equal((await install(f.app, ws)).status, 204);
    other = apiClient(f.app.url, ws);
  });
  after(() => f.app.close());

  it('every bad value of every parameter is a 400 with a reason', async () => {
    for (const [param, { values, endpoints }] of Object.entries(BAD)) {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...endpoints), values, async (endpoint, value) => {
          const res = await f.api.get(endpoint, { [param]: value });
          const body = await res.text();
          assert.equal(res.status, 400, `${endpoint}?${param}=${JSON.stringify(value)}: ${body}`);
          assert.equal(typeof JSON.parse(body).error.code, 'string');
        }),
        { numRuns: 40 },
      );
    }
  });

  it('refuses unknown parameters, reversed ranges and period with since', async () => {
    const cases: [string, Params][] = [
      ['/stats/contributors', { colour: 'blue' }],
      ['/stats/activity', { since: '2024-02-01', until: '2024-01-01' }],
      ['/stats/activity', { since: '2024-02-01', until: '2024-02-01' }],
      ['/stats/top', { period: 'week', since: '2024-01-01' }],
      ['/stats/calendar', { since: '2020-01-01', until: '2022-01-01' }],
    ];
    for (const [path, params] of cases) {
      const res = await f.api.get(path, params);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(params)}`);
    }
  });

  it('never answers 5xx, whatever the query string', async () => {
    const key = fc.oneof(fc.constantFrom(...Object.keys(BAD)), fc.string({ maxLength: 8 }));
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.dictionary(key, value, { maxKeys: 4 }),
        async (endpoint, query) => {
          const res = await f.api.get(endpoint, query);
          await res.arrayBuffer();
          assert.ok(res.status < 500, `${endpoint} ${JSON.stringify(query)} → ${res.status}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("another tenant asking for this tenant's repository gets nothing", async () => {
    const mine = await f.api.json<{ contributors: unknown[] }>('/stats/contributors', { repository });
    assert.ok(mine.contributors.length > 0);
    for (const params of [{ repository }, {}]) {
      assert.deepEqual((await other.json('/stats/contributors', params)).contributors, []);
      assert.deepEqual((await other.json('/stats/activity', params)).series, []);
      const punch = await other.json<{ counts: number[][] }>('/stats/punchcard', params);
      assert.equal(
        punch.counts.flat().reduce((a, b) => a + b, 0),
        0,
      );
      const top = await other.json('/stats/top', params);
      assert.deepEqual([top.people, top.repositories], [[], []]);
      assert.equal((await other.json<{ total: number }>('/stats/calendar', params)).total, 0);
      const exported = await other.get('/export/commits', params);
      assert.equal(parseCsv(await exported.text()).length, 1, 'header only');
      const prs = await other.json<{ totals: Record<string, number> }>('/pull-requests/stats', params);
      assert.deepEqual(prs.totals, { created: 0, merged: 0, declined: 0, open: 0 });
    }
    const settings = await other.get(`/settings/repositories/${encodeURIComponent(repository)}`);
    assert.equal(settings.status, 404);
  });

  it('a person with no commits here is an empty answer (200, zeros), not a 404', async () => {
    for (const contributor of [
      '{0c0ffee0-0000-4000-8000-000000000000}',
      'e:nobody@example.com',
      'a:557058:nobody',
    ]) {
      const params = { contributor };
      const activity = await f.api.get('/stats/activity', params);
      assert.equal(activity.status, 200, contributor);
      assert.deepEqual((await f.api.json('/stats/activity', params)).series, []);
      const punch = await f.api.json<{ counts: number[][] }>('/stats/punchcard', params);
      assert.equal(
        punch.counts.flat().reduce((a, b) => a + b, 0),
        0,
      );
      assert.equal((await f.api.json<{ total: number }>('/stats/calendar', params)).total, 0);
    }
  });

  it('CSV answers parse and hold the same figures as JSON', async () => {
    const json = await f.api.json<{ contributors: Record<string, unknown>[] }>('/stats/contributors', {
      merges: 'include',
    });
    const res = await f.api.get('/stats/contributors', { merges: 'include', format: 'csv' });
    assert.match(res.headers.get('content-type')!, /^text\/csv/);
    const [header, ...rows] = parseCsv(await res.text());
    assert.deepEqual(header, [
      'key',
      'account_id',
      'display_name',
      'emails',
      'commits',
      'lines_added',
      'lines_removed',
      'first_commit',
      'last_commit',
    ]);
    assert.equal(rows.length, json.contributors.length);
    rows.forEach((row, i) => {
      const c = json.contributors[i]!;
      assert.equal(row[0], c.key);
      assert.equal(Number(row[4]), c.commits);
      assert.equal(Number(row[5]), c.lines_added);
      assert.equal(row[8], c.last_commit);
    });

    const jsonl = await f.api.get('/export/commits', { format: 'jsonl', merges: 'include' });
    assert.match(jsonl.headers.get('content-type')!, /^application\/x-ndjson/);
    const lines = (await jsonl.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const commits = json.contributors.reduce((sum, c) => sum + (c.commits as number), 0);
    assert.equal(lines.length, commits);
    assert.equal(
      lines.reduce((sum, l) => sum + l.lines_added, 0),
      json.contributors.reduce((sum, c) => sum + (c.lines_added as number), 0),
    );
  });

  it('serves the OpenAPI document without a token; it lists every route the API serves, and only those', async () => {
    const res = await fetch(`${f.app.url}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.deepEqual(doc, JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')));
    assert.match(doc.openapi, /^3\.1\./);
    const deps = {
      db: f.app.runtime.db,
      tenants: f.app.runtime.tenants,
      appKey: 'tally',
      now: () => new Date(),
    };
    // Every route of the router the app mounts at /api/v1, found from its stack: a new route without docs fails.
    const served = new Set(routesOf(apiRouter(deps as ApiDeps)));
    assert.ok(served.size >= 20 && served.has('get /repositories') && served.has('delete /support/consent'));
    const documented = new Set(operationsOf(doc).map((op) => op.replace(/^\S+/, (m) => m.toLowerCase())));
    for (const route of served) assert.ok(documented.has(route), `${route} is documented`);
    for (const route of documented) assert.ok(served.has(route), `${route} is served`);
  });

  it('answers match the documented shapes', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')), 'tally');
    const pointer = (path: string, method: string, status: string) =>
      `tally#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}/content/application~1json/schema`;
    const conforms = async (method: string, path: string, res: Response, status = '200') => {
      const body = await res.json();
      assert.equal(String(res.status), status, `${method} ${path}: ${JSON.stringify(body)}`);
      const validate = ajv.getSchema(pointer(path, method, status)) as ValidateFunction | undefined;
      assert.ok(validate, `${method} ${path} ${status} has a schema`);
      assert.ok(validate(body), `${method} ${path}: ${ajv.errorsText(validate.errors)}`);
    };
    for (const path of [
      '/me',
      '/repositories',
      '/audit',
      '/support/consent',
      '/settings',
      '/identities',
      '/stats/contributors',
      '/stats/activity',
      '/stats/punchcard',
      '/stats/calendar',
      '/stats/top',
      '/pull-requests/stats',
      '/commits',
    ])
      await conforms('get', path, await f.api.get(path));
    const uuid = encodeURIComponent(repository);
    await conforms('get', '/settings/repositories/{uuid}', await f.api.get(`/settings/repositories/${uuid}`));
    await conforms(
      'post',
      '/support/consent',
      await f.admin.send('POST', '/support/consent', { days: 2, reason: 'a test' }),
      '201',
    );
    await conforms('get', '/support/consent', await f.api.get('/support/consent'));
    await conforms('delete', '/support/consent', await f.admin.send('DELETE', '/support/consent', {}));
    await conforms('put', '/settings', await f.admin.send('PUT', '/settings', { timezone: 'UTC' }));
    await conforms('post', '/tokens', await f.admin.send('POST', '/tokens', { name: 'a test' }), '201');
    await conforms('get', '/tokens', await f.api.get('/tokens'));
    const team = await f.admin.send('POST', '/teams', { name: 'Conformance', members: ['e:x@example.com'] });
    const { id } = (await team.clone().json()) as { id: number };
    await conforms('post', '/teams', team, '201');
    await conforms('get', '/teams', await f.api.get('/teams'));
    await conforms(
      'put',
      '/teams/{id}',
      await f.admin.send('PUT', `/teams/${id}`, { name: 'Conformance 2', members: [] }),
    );
    assert.equal((await f.admin.send('DELETE', `/teams/${id}`, {})).status, 204);
  });
});
