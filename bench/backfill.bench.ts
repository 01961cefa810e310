/**
 * Backfill benchmark (docs/benchmarks.md, "Backfill"). Against the simulator, in its own process, serving
 * data/express.jsonl.gz (6,413 commits), and a synthetic 1M-commit history:
 * - requests per indexed commit, and wall time of a zero-latency backfill vs a bare client (same run);
 * - insert rate into the RLS tables;
 * - budget use and 429 share with 1,000 requests per scaled-down hour;
 * - peak RSS of the worker process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Logger as QueueLogger, run } from 'graphile-worker';
import pg from 'pg';
import { insertCommits, saveDiffstats } from '../src/db/commit-store';
import { createDatabase } from '../src/db/database';
import { DEFAULT_TUNING } from '../src/ingest/backfill-jobs';
import { ingestTasks } from '../src/ingest/tasks';
import { jobDeps } from '../src/main/worker';
import { createLogger } from '../src/platform/logger';
import {
  bareClient,
  installTally,
  pendingBackfillJobs,
  repositoryState,
  syntheticCommits,
  syntheticFiles,
  writeSyntheticExport,
} from './support/backfill';
import { startSimulatorProcess } from './support/simulator-host';
import type { LoggedRequest } from './support/simulator-process';
import {
  cpuSeconds,
  machine,
  postgresPids,
  startPostgres,
  startTallyWeb,
  startWorkerProcess,
  until,
  type BenchPostgres,
} from './support/tally';

const EXPRESS = path.resolve('data/express.jsonl.gz');
const UNLIMITED = '1000000000';

const figure = (name: string, value: string, target: string) =>
  process.stdout.write(`${name}: ${value} (target ${target})\n`);
const note = (text: string) => process.stdout.write(`  ${text}\n`);

/** Zero latency: a backfill's wall time against a bare client's, requests per commit, worker RSS. */
async function zeroLatency(postgres: BenchPostgres) {
  const urls = await postgres.createDatabase();
  const sim = await startSimulatorProcess(EXPRESS, { rateLimitPerHour: Infinity });
  const web = await startTallyWeb(urls.appUrl, { BITBUCKET_REQUESTS_PER_HOUR: UNLIMITED });
  const admin = new pg.Client({ connectionString: urls.adminUrl });
  await admin.connect();
  try {
    // Installing enqueues the backfill; it waits for the worker. One commit page warms the simulator's caches.
    const inst = await installTally(sim, web);
    await bareClient(
      sim.apiUrl,
      inst,
      [{ at: 0, status: 200, kind: 'commits', url: '/2.0/repositories/acme/history/commits?pagelen=100' }],
      1,
    );
    const before = (await sim.log()).length;
    const worker = await startWorkerProcess(urls.appUrl, web.encryptionKey, {
      BITBUCKET_REQUESTS_PER_HOUR: UNLIMITED,
    });
    const cpuOf = () => ({
      simulator: cpuSeconds([sim.pid]),
      worker: cpuSeconds([worker.child.pid!]),
      postgres: cpuSeconds(postgresPids()),
      bench: cpuSeconds([process.pid]),
    });
    const cpuBefore = cpuOf();
    const startedAt = Date.now();
    const start = performance.now();
    const done = await until(async () => (await repositoryState(admin))?.sync_state === 'ready', 600_000);
    // Ready means every commit has its lines and the pull requests are in; the analytics upkeep may still run.
    await until(async () => (await pendingBackfillJobs(admin)) === 0, 600_000);
    const backfillMs = performance.now() - start;
    const cpuAfter = cpuOf();
    await worker.stop();
    if (!done) throw new Error('the backfill did not finish');
    const requests = await sim.log(before);
    const concurrency = DEFAULT_TUNING.diffstatConcurrency;
    const bareCpuBefore = cpuOf();
    const bare = [
      await bareClient(sim.apiUrl, inst, requests, concurrency),
      await bareClient(sim.apiUrl, inst, requests, concurrency),
    ];
    const bareCpuAfter = cpuOf();
    const bareMs = (bare[0]!.ms + bare[1]!.ms) / 2;
    const repo = (await repositoryState(admin))!;
    const forCommits = requests.filter((r) => r.kind !== 'pullrequests' && r.kind !== 'other').length;
    figure('requests per indexed commit', (forCommits / repo.commits_with_lines).toFixed(4), '≤ 1.01');
    note(
      `${forCommits} requests (repository list, commit pages, diffstats) for ${repo.commits_with_lines} commits; ` +
        `the pull request pass added ${requests.length - forCommits}`,
    );
    figure('backfill wall time / bare client wall time', (backfillMs / bareMs).toFixed(3), '≤ 1.25');
    const span = (kind: LoggedRequest['kind']) => {
      const of = requests.filter((r) => r.kind === kind);
      return of.length === 0 ? 'none' : `${((of.at(-1)!.at - of[0]!.at) / 1000).toFixed(1)} s`;
    };
    note(
      `time from first to last request: commit pages ${span('commits')}, pull requests ${span('pullrequests')}, ` +
        `diffstats ${span('diffstat')}`,
    );
    const at = (ms: number) => `${((ms - startedAt) / 1000).toFixed(2)}`;
    const timeline = (['repositories', 'commits', 'pullrequests', 'diffstat'] as const)
      .map((kind) => requests.filter((r) => r.kind === kind))
      .filter((of) => of.length > 0)
      .map((of) => `${of[0]!.kind} ${at(of[0]!.at)}–${at(of.at(-1)!.at)}`);
    note(
      `timeline from the worker's start (s): ${timeline.join(', ')}, done ${(backfillMs / 1000).toFixed(2)}`,
    );
    note(
      `backfill ${(backfillMs / 1000).toFixed(1)} s (commits, diffstats, pull requests, rollups); bare client ` +
        `${bare.map((b) => (b.ms / 1000).toFixed(1)).join(' s and ')} s (mean used) for the same ${requests.length} ` +
        `GETs, of which ${bare.map((b) => (b.sequentialMs / 1000).toFixed(2)).join(' s and ')} s for the ` +
        `repository list and commit pages; concurrency ${concurrency}`,
    );
    const spent = (a: ReturnType<typeof cpuOf>, b: ReturnType<typeof cpuOf>) =>
      Object.entries(b)
        .map(([k, v]) => `${k} ${(v - a[k as keyof typeof a]).toFixed(1)} s`)
        .join(', ');
    note(`CPU time during the backfill: ${spent(cpuBefore, cpuAfter)} (web role and bare client: bench)`);
    note(`CPU time during the two bare client runs: ${spent(bareCpuBefore, bareCpuAfter)}`);
    figure('peak RSS of the worker, express backfill', `${worker.peakRssMb().toFixed(0)} MB`, '≤ 300 MB');
  } finally {
    await admin.end();
    await web.close();
    await sim.close();
  }
}

/** Multi-row upserts through `unnest` into commits and commit_files, as the application role (RLS on). */
async function insertRate(postgres: BenchPostgres) {
  const urls = await postgres.createDatabase();
  const db = createDatabase(urls.appUrl, createLogger('silent'));
  try {
    const tenantId = randomUUID();
    const repositoryId: number = await db.withTenant(tenantId, async (trx) => {
      const [row] = await trx('repositories')
        .insert({
          tenant_id: tenantId,
          uuid: '{bench}',
          full_name: 'acme/bench',
          slug: 'bench',
          name: 'bench',
        })
        .returning('id');
      return row.id;
    });
    const total = 100_000;
    const batch = 5000;
    let insertedRows = 0;
    let insertMs = 0;
    let storeMs = 0;
    // As the backfill writes them: every commit first (phase 1), then the diffstats (phase 2), in batches.
    for (let offset = 0; offset < total; offset += batch) {
      const commits = syntheticCommits(batch, offset);
      const t = performance.now();
      insertedRows += await db.withTenant(
        tenantId,
        async (trx) => (await insertCommits(trx, tenantId, repositoryId, commits)).length,
      );
      insertMs += performance.now() - t;
    }
    for (let offset = 0; offset < total; offset += batch) {
      const diffstats = syntheticCommits(batch, offset).map((c, k) => ({
        hash: c.hash,
        files: syntheticFiles(offset + k),
      }));
      const t = performance.now();
      insertedRows += await db.withTenant(
        tenantId,
        async (trx) => (await saveDiffstats(trx, tenantId, repositoryId, diffstats)).length * 3,
      );
      storeMs += performance.now() - t;
    }
    const seconds = (insertMs + storeMs) / 1000;
    figure(
      'insert rate into RLS tables (commits + commit_files)',
      `${Math.round(insertedRows / seconds)} rows/s`,
      '≥ 50,000 rows/s',
    );
    note(
      `${insertedRows} rows: ${total} commits (${Math.round(total / (insertMs / 1000))} rows/s) and ` +
        `${total * 3} files written with their commit's line counts (${Math.round((total * 3) / (storeMs / 1000))} ` +
        `file rows/s, setting the commit's line counts included), ${batch} commits per transaction, commits ` +
        `first and then their files as the backfill's two phases write them, as the application role`,
    );
  } finally {
    await db.close();
  }
}

/** 1,000 requests per window, the window scaled down from an hour: share of the budget used, share of 429s. */
async function budgetUse(postgres: BenchPostgres, windowMs: number) {
  const urls = await postgres.createDatabase();
  const sim = await startSimulatorProcess(EXPRESS, { rateLimitPerHour: 1000, rateWindowMs: windowMs });
  const web = await startTallyWeb(urls.appUrl, { BITBUCKET_REQUESTS_PER_HOUR: '1000' });
  const admin = new pg.Client({ connectionString: urls.adminUrl });
  await admin.connect();
  const runner = await run({
    connectionString: urls.appUrl,
    concurrency: 4,
    noHandleSignals: true,
    pollInterval: 200,
    taskList: ingestTasks({ ...jobDeps(web.runtime), requestsPerHour: 1000, requestWindowMs: windowMs }),
    logger: new QueueLogger(() => () => undefined),
  });
  try {
    await installTally(sim, web);
    const done = await until(
      async () => (await repositoryState(admin))?.sync_state === 'ready',
      30 * windowMs,
    );
    if (!done) throw new Error('the budgeted backfill did not finish');
    const log = await sim.log();
    const first = log[0]!.at;
    const last = log.at(-1)!.at;
    const windows = Math.floor((last - first) / windowMs);
    const admitted = log.filter((r) => r.status !== 429 && r.at < first + windows * windowMs).length;
    const throttled = log.filter((r) => r.status === 429).length;
    figure(
      'share of the budget used while work remains',
      `${((admitted / (windows * 1000)) * 100).toFixed(1)}%`,
      '≥ 95%',
    );
    note(
      `${admitted} requests answered in the first ${windows} full windows of ${windowMs / 1000} s (1,000 allowed per window)`,
    );
    figure('share of requests answered 429', `${((throttled / log.length) * 100).toFixed(2)}%`, '< 1%');
    note(
      `${throttled} of ${log.length} requests; the whole backfill took ${((last - first) / 1000).toFixed(0)} s`,
    );
  } finally {
    await runner.stop();
    await admin.end();
    await web.close();
    await sim.close();
  }
}

/** Peak RSS of the worker backfilling a 1M-commit history: a minute of each phase. */
async function millionCommits(postgres: BenchPostgres, count: number, phaseMs: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-bench-1m-'));
  const file = path.join(dir, 'synthetic.jsonl.gz');
  await writeSyntheticExport(file, count);
  const urls = await postgres.createDatabase();
  const sim = await startSimulatorProcess(file, { rateLimitPerHour: Infinity });
  const web = await startTallyWeb(urls.appUrl, { BITBUCKET_REQUESTS_PER_HOUR: UNLIMITED });
  const admin = new pg.Client({ connectionString: urls.adminUrl });
  await admin.connect();
  const env = { BITBUCKET_REQUESTS_PER_HOUR: UNLIMITED };
  try {
    await installTally(sim, web);
    // Phase 1 from the start of the history.
    let worker = await startWorkerProcess(urls.appUrl, web.encryptionKey, env);
    await new Promise((resolve) => setTimeout(resolve, phaseMs));
    await worker.stop('SIGKILL');
    const listed = (await repositoryState(admin))!.commits_known;
    const listingRss = worker.peakRssMb();

    // Phase 2 over the whole history: the rest of the commits are stored directly, as if phase 1 had finished.
    const db = createDatabase(urls.appUrl, createLogger('silent'));
    const { rows } = await admin.query('select tenant_id, id from repositories');
    const { tenant_id: tenantId, id: repositoryId } = rows[0];
    const seedStart = performance.now();
    for (let offset = 0; offset < count; offset += 10_000) {
      const commits = syntheticCommits(Math.min(10_000, count - offset), offset);
      await db.withTenant(tenantId, (trx) => insertCommits(trx, tenantId, repositoryId, commits));
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;
    await db.close();
    await admin.query(
      `update repositories set sync_state = 'diffstats', sync_cursor = null,
              commits_known = (select count(*) from commits), commits_with_lines = 0`,
    );
    await admin.query(
      `select graphile_worker.force_unlock_workers(array(select distinct locked_by from graphile_worker._private_jobs where locked_by is not null))`,
    );
    await admin.query(`update graphile_worker._private_job_queues set locked_by = null, locked_at = null`);
    await admin.query(
      `select graphile_worker.add_job('backfill_diffstats', json_build_object('tenantId', $1::text, 'repositoryId', $2::int),
      queue_name => 'backfill:' || $1, job_key => 'backfill:' || $1 || ':' || $2, priority => 30)`,
      [tenantId, repositoryId],
    );
    worker = await startWorkerProcess(urls.appUrl, web.encryptionKey, env);
    await new Promise((resolve) => setTimeout(resolve, phaseMs));
    await worker.stop('SIGKILL');
    const state = (await repositoryState(admin))!;
    figure(
      `peak RSS of the worker, ${count.toLocaleString('en')}-commit history`,
      `${Math.max(listingRss, worker.peakRssMb()).toFixed(0)} MB`,
      '≤ 300 MB',
    );
    note(
      `phase 1: ${listingRss.toFixed(0)} MB, ${listed} commits listed in ${phaseMs / 1000} s; ` +
        `phase 2: ${worker.peakRssMb().toFixed(0)} MB, ${state.commits_with_lines} diffstats in ${phaseMs / 1000} s ` +
        `over ${state.commits_known} stored commits`,
    );
    note(`seeding ${count - listed} commits directly: ${Math.round((count - listed) / seedSeconds)} rows/s`);
  } finally {
    await admin.end();
    await web.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  process.stdout.write(`machine: ${machine()}\n`);
  const express = gunzipSync(readFileSync(EXPRESS)).toString('utf8').split('\n').filter(Boolean).length;
  process.stdout.write(`history: data/express.jsonl.gz, ${express} commits\n`);
  const postgres = await startPostgres();
  try {
    // BENCH_ONLY=insert,budget runs a subset.
    const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
    const wanted = (name: string) => only.length === 0 || only.includes(name);
    if (wanted('latency')) await zeroLatency(postgres);
    if (wanted('insert')) await insertRate(postgres);
    if (wanted('budget')) await budgetUse(postgres, Number(process.env.BENCH_WINDOW_MS ?? 20_000));
    if (wanted('million'))
      await millionCommits(postgres, Number(process.env.BENCH_SYNTHETIC_COMMITS ?? 1_000_000), 60_000);
  } finally {
    await postgres.stop();
  }
}

await main();
process.exit(0);
