/**
 * The wait for line counts (issue 17; docs/benchmarks.md, "Waiting for line counts"): how many requests, and so
 * how many hours of Bitbucket's hourly budget, until every commit has its line counts, with diffstats (one per
 * commit) and with the opt-in patch series (one per chain of up to 250 commits). Against the simulator in its own
 * process:
 * - requests: real backfills at an unlimited budget of the express history (6,413 commits) both ways and of a
 *   synthetic linear 100,000-commit history with patch series; the rest from the request model those confirm;
 * - simulated hours: the express backfill under 1,000 requests per compressed hour (the budget's window and the
 *   simulator's limit scaled down to BENCH_WINDOW_MS), both ways, against hours = requests / backfill budget;
 * - latency: with 50 and 150 ms added to every API answer, the backfill's wall time against a bare client making
 *   the same requests at the same concurrency.
 * BENCH_ONLY=requests,budget,latency runs a subset; BENCH_SYNTHETIC_COMMITS sets the synthetic history's size.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Logger as QueueLogger, run } from 'graphile-worker';
import pg from 'pg';
import { loadSettings, saveSettings } from '../src/analytics/rules';
import { BACKFILL_RESERVE_SHARE } from '../src/db/request-budget-store';
import { DEFAULT_TUNING } from '../src/ingest/backfill-jobs';
import { ingestTasks } from '../src/ingest/tasks';
import { jobDeps } from '../src/main/worker';
import type { SimulatorKnobs } from '../src/simulator/types';
import { bareClient, installTally, repositoryState, writeSyntheticExport } from './support/backfill';
import { startSimulatorProcess, type SimulatorHost } from './support/simulator-host';
import type { LoggedRequest } from './support/simulator-process';
import {
  machine,
  startPostgres,
  startTallyWeb,
  startWorkerProcess,
  until,
  type BenchPostgres,
  type BenchTally,
} from './support/tally';

const EXPRESS = path.resolve('data/express.jsonl.gz');
const UNLIMITED = '1000000000';
const RATES = [1000, 10_000];

const figure = (name: string, value: string, target: string) =>
  process.stdout.write(`${name}: ${value} (target ${target})\n`);
const note = (text: string) => process.stdout.write(`  ${text}\n`);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** The share of the hourly budget the backfill may spend (the rest is kept for push syncs). */
const backfillShare = (rate: number) => rate - Math.max(1, Math.ceil(rate * BACKFILL_RESERVE_SHARE));

/** Requests for line counts: the repository list, commit pages, diffstats and patch series (not pull requests). */
const FOR_LINES: LoggedRequest['kind'][] = ['repositories', 'commits', 'diffstat', 'patch'];

interface Counted {
  commits: number;
  requests: number;
  byKind: Record<string, number>;
}

function countRequests(log: LoggedRequest[], commits: number): Counted {
  const byKind: Record<string, number> = {};
  for (const r of log) if (r.status === 200) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
  return { commits, requests: FOR_LINES.reduce((n, k) => n + (byKind[k] ?? 0), 0), byKind };
}

const describeCount = (c: Counted) =>
  `${c.requests} requests for ${c.commits} commits (${FOR_LINES.map((k) => `${k} ${c.byKind[k] ?? 0}`).join(', ')}; ` +
  `pull requests ${c.byKind.pullrequests ?? 0} besides)`;

/** Turns the workspace's opt-in on, as the configure page does. */
async function optIn(web: BenchTally, tenantId: string): Promise<void> {
  await web.runtime.db.withTenant(tenantId, async (trx) =>
    saveSettings(trx, { ...(await loadSettings(trx)), lineCountsFromPatches: true }),
  );
}

/** Every commit has its line counts (the pull-request pass may still run). */
async function linesComplete(admin: pg.Client): Promise<boolean> {
  const r = await repositoryState(admin);
  return !!r && r.sync_state !== 'listing' && r.commits_known > 0 && r.commits_with_lines >= r.commits_known;
}

interface Setup {
  sim: SimulatorHost;
  web: BenchTally;
  admin: pg.Client;
  appUrl: string;
  tenantId: string;
  inst: Awaited<ReturnType<typeof installTally>>;
  /** Log entries before the backfill (the install's verification request): not counted. */
  logStart: number;
  close(): Promise<void>;
}

async function setUp(
  postgres: BenchPostgres,
  exportFile: string,
  knobs: Partial<SimulatorKnobs>,
  requestsPerHour: string,
  fastPath: boolean,
): Promise<Setup> {
  const urls = await postgres.createDatabase();
  const sim = await startSimulatorProcess(exportFile, knobs);
  const web = await startTallyWeb(urls.appUrl, { BITBUCKET_REQUESTS_PER_HOUR: requestsPerHour });
  const admin = new pg.Client({ connectionString: urls.adminUrl });
  await admin.connect();
  const inst = await installTally(sim, web);
  if (fastPath) await optIn(web, inst.tenantId);
  const logStart = (await sim.log()).length;
  return {
    sim,
    web,
    admin,
    appUrl: urls.appUrl,
    tenantId: inst.tenantId,
    inst,
    logStart,
    async close() {
      await admin.end();
      await web.close();
      await sim.close();
    },
  };
}

/** A backfill at an unlimited budget in a worker process: its requests and its wall time. */
async function unlimitedRun(
  postgres: BenchPostgres,
  exportFile: string,
  fastPath: boolean,
  knobs: Partial<SimulatorKnobs> = {},
): Promise<{ counted: Counted; ms: number; log: LoggedRequest[]; setup: Setup }> {
  const setup = await setUp(
    postgres,
    exportFile,
    { rateLimitPerHour: Infinity, ...knobs },
    UNLIMITED,
    fastPath,
  );
  const worker = await startWorkerProcess(setup.appUrl, setup.web.encryptionKey, {
    BITBUCKET_REQUESTS_PER_HOUR: UNLIMITED,
  });
  const start = performance.now();
  const done = await until(
    async () => (await repositoryState(setup.admin))?.sync_state === 'ready',
    3_600_000,
    200,
  );
  const ms = performance.now() - start;
  await worker.stop();
  if (!done) throw new Error('the backfill did not finish');
  const log = await setup.sim.log(setup.logStart);
  const state = (await repositoryState(setup.admin))!;
  return { counted: countRequests(log, state.commits_known), ms, log, setup };
}

/**
 * Requests until every commit of an n-commit history has line counts. Diffstats: the list, ceil(n/100) commit
 * pages and one diffstat per commit, times the express history's measured diffstats per commit (a commit of more
 * than 5,000 files takes a second page). Patch series: the list, the commit pages, and the express history's
 * measured series and diffstats per commit for a history shaped like it (merges, branches), or one series per 250
 * commits for a linear one (the synthetic histories).
 */
function modelRequests(n: number, perCommit: number): number {
  return 1 + Math.ceil(n / 100) + Math.ceil(n * perCommit);
}

async function requests(postgres: BenchPostgres, syntheticCommits: number) {
  process.stdout.write(
    `\n-- requests until every commit has line counts (unlimited budget), load ${load()}\n`,
  );
  const results: Record<string, Counted> = {};
  for (const fastPath of [false, true]) {
    const r = await unlimitedRun(postgres, EXPRESS, fastPath);
    await r.setup.close();
    results[`express ${fastPath}`] = r.counted;
    note(
      `express, ${fastPath ? 'patch series' : 'diffstats'}: ${describeCount(r.counted)}, ${(r.ms / 1000).toFixed(0)} s`,
    );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-bench-wait-'));
  try {
    const file = path.join(dir, 'synthetic.jsonl.gz');
    await writeSyntheticExport(file, syntheticCommits);
    const r = await unlimitedRun(postgres, file, true);
    await r.setup.close();
    results['synthetic true'] = r.counted;
    note(
      `synthetic linear ${syntheticCommits.toLocaleString('en')}, patch series: ${describeCount(r.counted)}, ` +
        `${(r.ms / 1000).toFixed(0)} s, load ${load()}`,
    );
    figure(
      `requests for a ${syntheticCommits.toLocaleString('en')}-commit history's line counts, patch series`,
      String(r.counted.requests),
      '≤ 1,500 for 100,000',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const express = results['express false']!;
  const expressFast = results['express true']!;
  const synthetic = results['synthetic true']!;
  const per = (c: Counted, kinds: string[]) => kinds.reduce((s, k) => s + (c.byKind[k] ?? 0), 0) / c.commits;
  const diffstatPer = per(express, ['diffstat']);
  const expressFastPer = per(expressFast, ['diffstat', 'patch']);
  const linearFastPer = per(synthetic, ['diffstat', 'patch']);
  note(
    `per commit: diffstats ${diffstatPer.toFixed(4)}; patch series + diffstats ${expressFastPer.toFixed(4)} ` +
      `(express: 536 merges, branches) and ${linearFastPer.toFixed(4)} (linear)`,
  );
  // The table: hours = requests / the backfill's share of the hourly budget.
  const rows: string[] = [];
  for (const n of [6413, 100_000, 1_000_000]) {
    const cases: [string, number, string][] = [
      [
        'diffstats',
        n === 6413 ? express.requests : modelRequests(n, diffstatPer),
        n === 6413 ? 'measured' : 'model',
      ],
      [
        'patch series, express-shaped',
        n === 6413 ? expressFast.requests : modelRequests(n, expressFastPer),
        n === 6413 ? 'measured' : 'model',
      ],
      [
        'patch series, linear',
        n === syntheticCommits ? synthetic.requests : modelRequests(n, linearFastPer),
        n === syntheticCommits ? 'measured' : 'model',
      ],
    ];
    for (const [how, count, source] of cases) {
      const hours = RATES.map((rate) => (count / backfillShare(rate)).toFixed(2));
      rows.push(
        `| ${n.toLocaleString('en')} | ${how} | ${count.toLocaleString('en')} (${source}) | ${hours.join(' | ')} |`,
      );
    }
  }
  process.stdout.write(
    `| commits | line counts from | requests | hours at 1,000/h | hours at 10,000/h |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}\n`,
  );
}

/** The express backfill under 1,000 requests per compressed hour: simulated hours until every commit has lines. */
async function budget(postgres: BenchPostgres, windowMs: number, modes: boolean[]) {
  process.stdout.write(
    `\n-- simulated hours at 1,000 requests per hour (hour = ${windowMs / 1000} s), load ${load()}\n`,
  );
  for (const fastPath of modes) {
    const setup = await setUp(
      postgres,
      EXPRESS,
      { rateLimitPerHour: 1000, rateWindowMs: windowMs },
      '1000',
      fastPath,
    );
    const runner = await run({
      connectionString: setup.appUrl,
      concurrency: 4,
      noHandleSignals: true,
      pollInterval: 200,
      taskList: ingestTasks({
        ...jobDeps(setup.web.runtime),
        requestsPerHour: 1000,
        requestWindowMs: windowMs,
      }),
      logger: new QueueLogger(() => () => undefined),
    });
    try {
      const done = await until(() => linesComplete(setup.admin), 40 * windowMs, 100);
      const end = Date.now();
      if (!done) throw new Error('the budgeted backfill did not finish');
      const log = await setup.sim.log(setup.logStart);
      const first = log[0]!.at;
      const counted = countRequests(log, (await repositoryState(setup.admin))!.commits_known);
      const hours = (end - first) / windowMs;
      const throttled = log.filter((r) => r.status === 429).length;
      figure(
        `simulated hours until the express history's line counts, ${fastPath ? 'patch series' : 'diffstats'}, 1,000/h`,
        hours.toFixed(2),
        fastPath ? 'far below the diffstats' : 'requests / 980',
      );
      note(
        `${describeCount(counted)}; requests / 980 = ${(counted.requests / backfillShare(1000)).toFixed(2)} h; ` +
          `${throttled} answered 429; load ${load()}`,
      );
    } finally {
      await runner.stop();
      await setup.close();
    }
  }
}

/** With API latency: the backfill's wall time against a bare client's for the same requests. */
async function latency(postgres: BenchPostgres, latencies: number[], modes: boolean[]) {
  process.stdout.write(
    `\n-- wall time with API latency, concurrency ${DEFAULT_TUNING.diffstatConcurrency}\n`,
  );
  for (const latencyMs of latencies) {
    for (const fastPath of modes) {
      const r = await unlimitedRun(postgres, EXPRESS, fastPath, { latencyMs });
      try {
        const concurrency = DEFAULT_TUNING.diffstatConcurrency;
        const bare = await bareClient(r.setup.sim.apiUrl, r.setup.inst, r.log, concurrency);
        figure(
          `backfill wall time / bare client wall time, ${latencyMs} ms latency, ${fastPath ? 'patch series' : 'diffstats'}`,
          (r.ms / bare.ms).toFixed(3),
          '≤ 1.1',
        );
        note(
          `backfill ${(r.ms / 1000).toFixed(1)} s, bare client ${(bare.ms / 1000).toFixed(1)} s for the same ` +
            `${r.log.length} requests (${describeCount(r.counted)}); load ${load()}`,
        );
      } finally {
        await r.setup.close();
      }
    }
  }
}

async function main() {
  process.stdout.write(`machine: ${machine()}\n`);
  const express = gunzipSync(readFileSync(EXPRESS)).toString('utf8').split('\n').filter(Boolean).length;
  process.stdout.write(`history: data/express.jsonl.gz, ${express} commits; load ${load()}\n`);
  const postgres = await startPostgres();
  try {
    const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
    const wanted = (name: string) => only.length === 0 || only.includes(name);
    if (wanted('requests')) await requests(postgres, Number(process.env.BENCH_SYNTHETIC_COMMITS ?? 100_000));
    // BENCH_MODES=patches,diffstats: which ways of counting the budget and latency runs measure.
    const modes = (process.env.BENCH_MODES ?? 'diffstats,patches').split(',').map((m) => m === 'patches');
    if (wanted('budget')) await budget(postgres, Number(process.env.BENCH_WINDOW_MS ?? 20_000), modes);
    if (wanted('latency'))
      await latency(postgres, (process.env.BENCH_LATENCIES ?? '50,150').split(',').map(Number), modes);
  } finally {
    await postgres.stop();
  }
}

await main();
process.exit(0);
