import assert from 'node:assert/strict';
import {
  REBUILD_ROLLUPS_TASK,
  runRollupRebuild,
  type RebuildPayload,
} from '../../src/analytics/rollup-rebuild';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage, type PageName } from '../../src/connect/session-scope';
import { startTestApp, type TestApp } from '../support/app';
import { install, newWorkspace, type Workspace } from '../support/bitbucket';
import { loadExport, type ExportCommit, type LoadOptions } from '../support/load-export';

/** Every route that takes the analytics filters (repository, project, team, range, merges, bots, …). */
export const FILTERED_ENDPOINTS = [
  '/stats/contributors',
  '/stats/activity',
  '/stats/punchcard',
  '/stats/calendar',
  '/stats/top',
  '/pull-requests/stats',
  '/export/commits',
  '/export/pull-requests',
  '/commits',
];

/** A running Tally with one installed workspace, and an API client speaking for it. */
export interface AnalyticsFixture {
  app: TestApp;
  ws: Workspace;
  tenantId: string;
  /** Speaks from the workspace page (what graphs use). */
  api: ApiClient;
  /** Speaks from the configure page, the only page whose token may change settings and identities. */
  admin: ApiClient;
}

export type Params = Record<string, string | string[] | undefined>;

export interface ApiClient {
  get(path: string, params?: Params): Promise<Response>;
  json<T = Record<string, unknown>>(path: string, params?: Params): Promise<T>;
  send(method: string, path: string, body: unknown): Promise<Response>;
}

export function queryString(params: Params = {}): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) search.append(k, one);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

const PAGE_NAMES: readonly string[] = [
  'repository',
  'workspace',
  'configure',
  'profile',
] satisfies PageName[];

/**
 * Speaks with the session token `page` mints given its (signed) query: `repoUuid` for the repository page, `user`
 * for the profile. A page name Tally does not have gets the workspace page's scope.
 */
export function apiClient(
  url: string,
  ws: Workspace,
  page = 'workspace',
  query: Record<string, string> = {},
): ApiClient {
  const scope = scopeForPage(PAGE_NAMES.includes(page) ? (page as PageName) : 'workspace', query);
  return clientWith(url, () => ({
    authorization: `JWT ${createSessionToken({ appKey: 'tally', clientKey: ws.clientKey, secret: ws.sharedSecret, viewer: 'acc-admin', page, scope })}`,
  }));
}

/** Speaks with an API token (`Authorization: Bearer tly_…`). */
export const tokenClient = (url: string, token: string): ApiClient =>
  clientWith(url, () => ({ authorization: `Bearer ${token}` }));

function clientWith(url: string, auth: () => Record<string, string>): ApiClient {
  const client: ApiClient = {
    get: (path, params) => fetch(`${url}/api/v1${path}${queryString(params)}`, { headers: auth() }),
    async json(path, params) {
      const res = await client.get(path, params);
      const text = await res.text();
      assert.equal(res.status, 200, `${path}${queryString(params)}: ${text}`);
      return JSON.parse(text);
    },
    send: (method, path, body) =>
      fetch(`${url}/api/v1${path}`, {
        method,
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
  };
  return client;
}

export async function startAnalyticsApp(options: { now?: () => Date } = {}): Promise<AnalyticsFixture> {
  const app = await startTestApp(options);
  const ws = newWorkspace();
  assert.equal((await install(app, ws)).status, 204);
  const tenant = await app.runtime.tenants.findByClientKey(ws.clientKey);
  return {
    app,
    ws,
    tenantId: tenant!.id,
    api: apiClient(app.url, ws),
    admin: apiClient(app.url, ws, 'configure'),
  };
}

export function load(fixture: AnalyticsFixture, commits: ExportCommit[], options: Partial<LoadOptions> = {}) {
  return loadExport({ db: fixture.app.runtime.db, tenantId: fixture.tenantId, commits, ...options });
}

/**
 * Runs the tenant's pending `rebuild_rollups` jobs the way the worker would (their payloads, the job's exported
 * body), and takes them off the queue. Returns how many there were.
 */
export async function runPendingRebuilds(fixture: AnalyticsFixture): Promise<number> {
  const db = fixture.app.runtime.db;
  const { rows } = await db.knex.raw(
    `delete from graphile_worker._private_jobs j using graphile_worker._private_tasks t
      where t.id = j.task_id and t.identifier = ? and j.payload->>'tenantId' = ?
      returning j.payload`,
    [REBUILD_ROLLUPS_TASK, fixture.tenantId],
  );
  for (const { payload } of rows as { payload: RebuildPayload }[]) await runRollupRebuild(db, payload);
  return rows.length;
}

/** Changes settings from the configure page and lets the rebuild it queued run; the answer is checked. */
export async function changeSettings(fixture: AnalyticsFixture, path: string, body: unknown): Promise<void> {
  const res = await fixture.admin.send('PUT', path, body);
  const text = await res.text();
  assert.ok(res.status === 200 || res.status === 202, `PUT ${path}: ${res.status} ${text}`);
  await runPendingRebuilds(fixture);
}
