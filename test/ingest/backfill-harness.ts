import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Logger as QueueLogger, run, type Runner } from 'graphile-worker';
import pg from 'pg';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import { ingestTasks, type JobDeps } from '../../src/ingest/tasks';
import { jobDeps } from '../../src/main/worker';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index';
import { startTestApp, type TestApp } from '../support/app';
import { verifyWithBitbucket } from '../support/bitbucket';

/** The 6,413-commit express history shipped in the repository. */
export const EXPRESS_EXPORT = fileURLToPath(new URL('../../data/express.jsonl.gz', import.meta.url));

export interface Backfill {
  sim: Simulator;
  app: TestApp;
  tenantId: string;
  clientKey: string;
  sharedSecret: string;
  admin: pg.Client;
  close(): Promise<void>;
}

/**
 * The simulator with workspace "acme" holding the express history, and a Tally web app installed into it and
 * verified against the simulator (which enqueues the backfill). No worker runs yet.
 */
export async function startBackfill(
  options: {
    sim?: SimulatorOptions;
    env?: Record<string, string>;
    repositories?: string[];
    /** Seeds more of the workspace before the install. */
    seed?: (sim: Simulator) => void;
  } = {},
): Promise<Backfill> {
  const sim = await startSimulator({ rateLimitPerHour: Infinity, ...options.sim });
  sim.addWorkspace({ slug: 'acme', name: 'Acme' });
  for (const slug of options.repositories ?? ['express'])
    sim.addRepository('acme', { slug, history: { exportFile: EXPRESS_EXPORT } });
  options.seed?.(sim);
  const app = await startTestApp({
    env: { BITBUCKET_ALLOWED_HOSTS: '127.0.0.1', BITBUCKET_REQUESTS_PER_HOUR: '1000000', ...options.env },
  });
  const installed = await sim.install('acme', `${app.url}/atlassian-connect.json`);
  if (installed.status !== 204) throw new Error(`install answered ${installed.status}`);
  const tenant = await app.runtime.tenants.findByClientKey(installed.clientKey);
  if (!tenant) throw new Error('install did not create a tenant');
  if ((await verifyWithBitbucket(app.runtime, tenant.id)) !== 'confirmed')
    throw new Error('the simulator did not confirm the install');
  const admin = new pg.Client({ connectionString: app.database.adminUrl });
  await admin.connect();
  await waitFor(async () => (await pendingJobs(admin)) > 0, 'the install to enqueue the backfill');
  return {
    sim,
    app,
    tenantId: tenant.id,
    clientKey: installed.clientKey,
    sharedSecret: installed.sharedSecret,
    admin,
    async close() {
      await admin.end();
      await app.close();
      await sim.close();
    },
  };
}

/** Fast retries, so injected faults cost milliseconds rather than seconds. */
export const FAST_RETRY: NonNullable<JobDeps['bitbucket']> = {
  retry: { attempts: 12, baseDelayMs: 5, maxDelayMs: 500, throttledDelayMs: 50 },
  timeoutMs: 5000,
};

/** An in-process worker with the ingest tasks (all but `without`), on the application role (RLS applies). */
export async function startIngestWorker(
  app: TestApp,
  overrides: Partial<JobDeps> = {},
  concurrency = 4,
  without: string[] = [],
): Promise<Runner> {
  const deps: JobDeps = { ...jobDeps(app.runtime), ...overrides };
  const taskList = Object.fromEntries(
    Object.entries(ingestTasks(deps)).filter(([identifier]) => !without.includes(identifier)),
  );
  return run({
    connectionString: app.runtime.appUrl,
    concurrency,
    noHandleSignals: true,
    pollInterval: 200,
    taskList,
    logger: new QueueLogger(() => () => undefined),
  });
}

export async function pendingJobs(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query(
    `select count(*)::int as n from graphile_worker.jobs where task_identifier like 'backfill%'`,
  );
  return rows[0].n;
}

export async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 300_000,
): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Jobs that still have work to do (the tenant's next relisting, hours away, does not count). */
async function runnableJobs(admin: pg.Client): Promise<{ n: number; errors: string[] }> {
  const { rows } = await admin.query(
    `select task_identifier, last_error from graphile_worker.jobs
      where not (task_identifier = 'backfill_tenant' and run_at > now() + interval '1 minute')`,
  );
  return {
    n: rows.length,
    errors: rows.flatMap((r) => (r.last_error ? [`${r.task_identifier}: ${r.last_error}`] : [])),
  };
}

/** Until every job (backfill steps, webhooks, push diffstats, pull-request passes, analytics upkeep) has run. */
export async function waitIdle(b: Backfill, timeoutMs = 300_000): Promise<void> {
  let last: { n: number; errors: string[] } = { n: 0, errors: [] };
  try {
    await waitFor(
      async () => {
        last = await runnableJobs(b.admin);
        return last.n === 0;
      },
      'the job queue to be idle',
      timeoutMs,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; pending ${last.n}, errors: ${last.errors.slice(0, 3).join(' | ')}`,
      { cause: error },
    );
  }
}

export interface RepositoryStatus {
  uuid: string;
  full_name: string;
  state: 'listing' | 'diffstats' | 'ready' | 'failed';
  commits_known: number;
  commits_with_lines: number;
  requests_used: number;
  eta_seconds: number | null;
}

export interface RepositoryListing {
  visibility: 'all' | 'public_only';
  requests_per_hour: number;
  requests_per_hour_source: 'configured' | 'announced';
  repositories: RepositoryStatus[];
}

/** GET /api/v1/repositories with a session token, as the UI calls it: the whole answer. */
export async function repositoryListing(b: Backfill): Promise<RepositoryListing> {
  const token = createSessionToken({
    appKey: 'tally',
    clientKey: b.clientKey,
    secret: b.sharedSecret,
    scope: scopeForPage('workspace', {}),
  });
  const res = await fetch(`${b.app.url}/api/v1/repositories`, { headers: { authorization: `JWT ${token}` } });
  if (res.status !== 200) throw new Error(`GET /api/v1/repositories answered ${res.status}`);
  return (await res.json()) as RepositoryListing;
}

/** The repositories of GET /api/v1/repositories. */
export async function repositoryStatus(b: Backfill): Promise<RepositoryStatus[]> {
  return (await repositoryListing(b)).repositories;
}

export async function waitForReady(b: Backfill, repositories = 1): Promise<RepositoryStatus[]> {
  let last: RepositoryStatus[] = [];
  await waitFor(async () => {
    last = await repositoryStatus(b);
    return last.length === repositories && last.every((r) => r.state === 'ready');
  }, 'every repository to be ready');
  return last;
}

export interface AuthorTotals {
  commits: number;
  added: number;
  removed: number;
}

export interface Totals {
  commits: number;
  files: number;
  /** Per lowercase author email, merges excluded. */
  withoutMerges: Record<string, AuthorTotals>;
  /** Per lowercase author email, merges included. */
  withMerges: Record<string, AuthorTotals>;
}

interface ExportLine {
  hash: string;
  parents: string[];
  author: { name: string; email: string };
  files: { added: number | null; removed: number | null }[];
}

const add = (
  map: Record<string, AuthorTotals>,
  email: string,
  added: number,
  removed: number,
  commits = 1,
) => {
  const t = (map[email] ??= { commits: 0, added: 0, removed: 0 });
  t.commits += commits;
  t.added += added;
  t.removed += removed;
};

/** The ground truth, straight from the export file (binary files, with null counts, count 0). */
export function exportTotals(file = EXPRESS_EXPORT): Totals {
  const totals: Totals = { commits: 0, files: 0, withoutMerges: {}, withMerges: {} };
  for (const line of gunzipSync(readFileSync(file)).toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const c = JSON.parse(line) as ExportLine;
    const added = c.files.reduce((s, f) => s + (f.added ?? 0), 0);
    const removed = c.files.reduce((s, f) => s + (f.removed ?? 0), 0);
    const email = c.author.email.toLowerCase();
    totals.commits++;
    totals.files += c.files.length;
    add(totals.withMerges, email, added, removed);
    if (c.parents.length < 2) add(totals.withoutMerges, email, added, removed);
  }
  return totals;
}

/** The same totals from what the backfill stored (read as the owner, across RLS, for one tenant). */
export async function storedTotals(admin: pg.Client, tenantId: string): Promise<Totals> {
  const totals: Totals = { commits: 0, files: 0, withoutMerges: {}, withMerges: {} };
  const { rows } = await admin.query(
    `select author_email, is_merge, count(*)::int as commits, sum(lines_added)::int as added,
            sum(lines_removed)::int as removed
       from commits where tenant_id = $1 group by 1, 2`,
    [tenantId],
  );
  for (const r of rows) {
    totals.commits += r.commits;
    add(totals.withMerges, r.author_email, r.added, r.removed, r.commits);
    if (!r.is_merge) add(totals.withoutMerges, r.author_email, r.added, r.removed, r.commits);
  }
  const files = await admin.query('select count(*)::int as n from commit_files where tenant_id = $1', [
    tenantId,
  ]);
  totals.files = files.rows[0].n;
  return totals;
}

/** Every stored row of the tenant, as text, for before/after comparisons. */
export async function snapshot(admin: pg.Client, tenantId: string): Promise<string> {
  const commits = await admin.query(
    `select hash, author_raw, author_name, author_email, author_account_id, author_uuid, authored_at, parents,
            is_merge, message, lines_added, lines_removed, files_changed
       from commits where tenant_id = $1 order by repository_id, hash`,
    [tenantId],
  );
  const files = await admin.query(
    `select hash, ordinal, path, old_path, status, lines_added, lines_removed, is_binary
       from commit_files where tenant_id = $1 order by repository_id, hash, ordinal`,
    [tenantId],
  );
  return JSON.stringify([commits.rows, files.rows]);
}
