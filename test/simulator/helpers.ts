import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';
import express from 'express';
import {
  startSimulator,
  type InstallResult,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/index.js';

/** Parsed JSON that tests inspect ad hoc; typing every payload would only restate the OpenAPI schemas. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

/** The 6,413-commit express history shipped in the repository. */
export const EXPRESS_EXPORT = fileURLToPath(new URL('../../data/express.jsonl.gz', import.meta.url));
export const EXPRESS_REFS = fileURLToPath(new URL('../../data/express.refs.json', import.meta.url));

export interface RecordedRequest {
  method: string;
  path: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A tiny Connect app: serves a descriptor, records every request, answers scripted statuses. */
export interface FakeApp {
  url: string;
  descriptorUrl: string;
  requests: RecordedRequest[];
  /** Statuses to answer, in turn, for a path (then 204). */
  script(path: string, statuses: number[]): void;
  close(): Promise<void>;
}

export const WEBHOOK_EVENTS = [
  'repo:push',
  'repo:updated',
  'repo:created',
  'repo:deleted',
  'pullrequest:created',
  'pullrequest:updated',
  'pullrequest:fulfilled',
  'pullrequest:rejected',
  'pullrequest:approved',
];

export function descriptorFor(baseUrl: string, key = 'tally'): Record<string, unknown> {
  return {
    key,
    name: 'Tally',
    description: 'Commit analytics',
    baseUrl,
    authentication: { type: 'jwt' },
    lifecycle: { installed: '/installed', uninstalled: '/uninstalled' },
    scopes: ['account', 'email', 'repository', 'pullrequest', 'webhook'],
    contexts: ['account'],
    modules: {
      repoPages: [
        {
          key: 'repo-analytics',
          name: { value: 'Analytics' },
          url: '/repo-analytics?repoUuid={repository.uuid}&repoPath={repository.full_name}&user={user.uuid}',
          location: 'org.bitbucket.repository.navigation',
        },
      ],
      adminPages: [
        {
          key: 'workspace-analytics',
          name: { value: 'Commit analytics' },
          url: '/admin?workspace={workspace.slug}',
          location: 'org.bitbucket.account.admin',
        },
      ],
      profileTabs: [
        { key: 'my-stats', name: { value: 'My commits' }, url: '/profile?user={target_user.uuid}' },
      ],
      webhooks: WEBHOOK_EVENTS.map((event) => ({
        event,
        url: event.startsWith('repo:') ? '/webhooks/repo' : '/webhooks/pr',
      })),
    },
  };
}

export async function startFakeApp(
  opts: { key?: string; descriptor?: (baseUrl: string) => Record<string, unknown> } = {},
): Promise<FakeApp> {
  const app = express();
  const requests: RecordedRequest[] = [];
  const scripts = new Map<string, number[]>();
  let baseUrl = '';
  app.use(express.json({ limit: '1mb' }));
  app.get('/atlassian-connect.json', (_req, res) => {
    res.json(opts.descriptor ? opts.descriptor(baseUrl) : descriptorFor(baseUrl, opts.key));
  });
  app.use((req, res) => {
    requests.push({
      method: req.method,
      path: req.path,
      url: req.originalUrl,
      headers: req.headers,
      body: req.body,
    });
    const queue = scripts.get(req.path);
    const status = queue && queue.length > 0 ? queue.shift()! : 204;
    res.status(status).end();
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    descriptorUrl: `${baseUrl}/atlassian-connect.json`,
    requests,
    script: (path, statuses) => scripts.set(path, [...statuses]),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Signs an app → Bitbucket call exactly as Bitbucket requires (iss app key, sub clientKey, qsh). */
export function apiToken(
  inst: { clientKey: string; sharedSecret: string },
  method: string,
  url: string,
  over: Record<string, unknown> = {},
  secret?: string,
): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'tally',
    sub: inst.clientKey,
    iat: now,
    exp: now + 180,
    qsh: createQueryStringHash(fromMethodAndUrl(method, url)),
    ...over,
  };
  return encodeSymmetric(claims, secret ?? inst.sharedSecret, SymmetricAlgorithm.HS256);
}

export interface Harness {
  sim: Simulator;
  app: FakeApp;
  inst: InstallResult;
  /** Signed GET; `path` is relative to apiUrl or absolute (e.g. a `next` link). */
  get(path: string): Promise<{ status: number; body: Loose; headers: Headers }>;
  close(): Promise<void>;
}

/** Simulator with workspace "acme", repository "express" (the export) and the fake app installed. */
export async function startHarness(
  opts: SimulatorOptions & { withExpress?: boolean } = {},
): Promise<Harness> {
  const sim = await startSimulator(opts);
  sim.addWorkspace({ slug: 'acme', name: 'Acme' });
  if (opts.withExpress !== false)
    sim.addRepository('acme', { slug: 'express', history: { exportFile: EXPRESS_EXPORT } });
  const app = await startFakeApp();
  const inst = await sim.install('acme', app.descriptorUrl);
  const get = async (path: string) => {
    const url = path.startsWith('http') ? path : `${sim.apiUrl}${path}`;
    const res = await fetch(url, { headers: { Authorization: `JWT ${apiToken(inst, 'GET', url)}` } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return {
    sim,
    app,
    inst,
    get,
    close: async () => {
      await sim.close();
      await app.close();
    },
  };
}

export interface ExportLine {
  hash: string;
  parents: string[];
  author: { name: string; email: string };
  date: string;
  message: string;
  files: { path: string; added: number | null; removed: number | null; old_path?: string; status?: string }[];
}

/** The export read independently of the simulator's loader (the tests' ground truth). */
export async function readExport(): Promise<{
  commits: ExportLine[];
  refs: { branches: Record<string, string>; tags: Record<string, string>; mainbranch: string };
}> {
  const { readFileSync } = await import('node:fs');
  const { gunzipSync } = await import('node:zlib');
  const commits = gunzipSync(readFileSync(EXPRESS_EXPORT))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ExportLine);
  return { commits, refs: JSON.parse(readFileSync(EXPRESS_REFS, 'utf8')) };
}

/** Naive `git rev-list <include> ^<exclude>` over the export, as a Set of hashes. */
export function revList(byHash: Map<string, ExportLine>, include: string[], exclude: string[]): Set<string> {
  const walk = (starts: string[], stop: Set<string>): Set<string> => {
    const seen = new Set<string>();
    const stack = starts.filter((h) => !stop.has(h));
    while (stack.length) {
      const h = stack.pop()!;
      if (seen.has(h) || stop.has(h)) continue;
      seen.add(h);
      for (const p of byHash.get(h)?.parents ?? []) if (!seen.has(p)) stack.push(p);
    }
    return seen;
  };
  return walk(include, walk(exclude, new Set()));
}

/** Follows `next` links to the end, returning every value. */
export async function walkPages(
  get: Harness['get'],
  first: string,
): Promise<{ values: Loose[]; pages: number }> {
  const values: Loose[] = [];
  let url: string | undefined = first;
  let pages = 0;
  while (url) {
    const res = await get(url);
    if (res.status !== 200) throw new Error(`GET ${url} → ${res.status} ${JSON.stringify(res.body)}`);
    values.push(...res.body.values);
    url = res.body.next;
    pages++;
  }
  return { values, pages };
}

/** Asserts every commit is listed before all of its parents that are listed. */
export function isTopological(hashes: string[], byHash: Map<string, { parents: string[] }>): boolean {
  const pos = new Map(hashes.map((h, i) => [h, i]));
  return hashes.every((h, i) => (byHash.get(h)?.parents ?? []).every((p) => !pos.has(p) || pos.get(p)! > i));
}
