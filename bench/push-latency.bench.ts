/**
 * Push-to-visible latency while a large backfill of the same tenant runs: the simulator holds several copies of
 * the express history (the backfill) and a small repository; pushes (1–3 commits, alternating between the small
 * repository and one being backfilled) are made one after another, and each is timed from the webhook's 2xx
 * (the simulator's push resolves once its delivery was answered) until GET /api/v1/repositories counts the new
 * commits. Target: p95 ≤ 2 s. The worker runs in the web process, as `npm start` does by default.
 * Run alone: `npx tsx bench/push-latency.bench.ts` (BENCH_PUSHES, BENCH_BACKFILL_REPOS, BENCH_API_LATENCY_MS).
 */
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { Logger as QueueLogger, run } from 'graphile-worker';
import { createSessionToken } from '../src/connect/jwt';
import { scopeForPage } from '../src/connect/session-scope';
import { ingestTasks } from '../src/ingest/tasks';
import { jobDeps } from '../src/main/worker';
import { startSimulator, type ExportCommit } from '../src/simulator/index';
import { verifyWithBitbucket } from '../test/support/bitbucket';
import { startBenchStack } from './support/tally-stack';

const PUSHES = Number(process.env.BENCH_PUSHES ?? 60);
const BACKFILL_REPOS = Number(process.env.BENCH_BACKFILL_REPOS ?? 3);
/** Bitbucket answers in tens of milliseconds; the simulator on loopback in well under one. */
const API_LATENCY_MS = Number(process.env.BENCH_API_LATENCY_MS ?? 20);
const TARGET_P95_MS = 2000;
const EXPRESS = fileURLToPath(new URL('../data/express.jsonl.gz', import.meta.url));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

function smallHistory(): {
  commits: ExportCommit[];
  refs: { branches: Record<string, string>; mainbranch: string };
} {
  const commits: ExportCommit[] = [];
  for (let i = 0; i < 20; i++) {
    const hash = (i + 1).toString(16).padStart(40, 'c');
    commits.push({
      hash,
      parents: i === 0 ? [] : [commits[i - 1]!.hash],
      author: { name: 'Bench', email: 'bench@example.com' },
      date: new Date(Date.UTC(2025, 0, 1 + i)).toISOString(),
      message: `small ${i}\n`,
      files: [{ path: 'a.txt', added: 1, removed: 0 }],
    });
  }
  return { commits, refs: { branches: { main: commits.at(-1)!.hash }, mainbranch: 'main' } };
}

export async function main(): Promise<void> {
  const stack = await startBenchStack({ BITBUCKET_REQUESTS_PER_HOUR: '1000000' });
  const sim = await startSimulator({ rateLimitPerHour: Infinity, latencyMs: API_LATENCY_MS });
  const worker = await run({
    connectionString: stack.runtime.appUrl,
    concurrency: 4,
    noHandleSignals: true,
    taskList: ingestTasks(jobDeps(stack.runtime)),
    logger: new QueueLogger(() => () => undefined),
  });
  try {
    sim.addWorkspace({ slug: 'acme', name: 'Acme' });
    sim.addRepository('acme', { slug: 'small', history: smallHistory() });
    for (let i = 1; i <= BACKFILL_REPOS; i++)
      sim.addRepository('acme', { slug: `express-${i}`, history: { exportFile: EXPRESS } });
    const installed = await sim.install('acme', `${stack.url}/atlassian-connect.json`);
    if (installed.status !== 204) throw new Error(`install answered ${installed.status}`);
    const tenant = await stack.runtime.tenants.findByClientKey(installed.clientKey);
    if (!tenant || (await verifyWithBitbucket(stack.runtime, tenant.id)) !== 'confirmed')
      throw new Error('the simulator did not confirm the install');
    const token = () =>
      createSessionToken({
        appKey: 'tally',
        clientKey: installed.clientKey,
        secret: installed.sharedSecret,
        scope: scopeForPage('workspace', {}),
      });
    type Status = { full_name: string; state: string; commits_known: number };
    const status = async (): Promise<Status[]> => {
      const res = await fetch(`${stack.url}/api/v1/repositories`, {
        headers: { authorization: `JWT ${token()}` },
      });
      return ((await res.json()) as { repositories: Status[] }).repositories;
    };
    const known = async (slug: string) =>
      (await status()).find((r) => r.full_name === `acme/${slug}`)?.commits_known;

    // Pushes start once the small repository is ready and express-1 has listed its commits (from then on only
    // pushes change its count) while the backfill goes on: diffstats, and the other copies.
    for (;;) {
      const repos = await status();
      const small = repos.find((r) => r.full_name === 'acme/small');
      const target = repos.find((r) => r.full_name === 'acme/express-1');
      if (small?.state === 'ready' && target?.state === 'diffstats') break;
      await sleep(200);
    }

    const latencies: number[] = [];
    let stillBackfilling = 0;
    for (let i = 0; i < PUSHES; i++) {
      const slug = i % 2 === 0 ? 'small' : 'express-1';
      const before = (await known(slug)) ?? 0;
      const count = 1 + (i % 3);
      const commits = Array.from({ length: count }, (_, k) => ({
        author: { name: 'Pusher', email: 'pusher@example.com' },
        message: `push ${i}.${k}\n`,
        files: [{ path: `p/${i}.txt`, added: k + 1, removed: 0 }],
      }));
      await sim.push('acme', slug, { branch: slug === 'small' ? 'main' : 'master', commits });
      const acknowledged = performance.now();
      while (((await known(slug)) ?? 0) < before + count) await sleep(10);
      latencies.push(performance.now() - acknowledged);
      const repos = await status();
      if (repos.some((r) => r.full_name.startsWith('acme/express-') && r.state !== 'ready'))
        stillBackfilling++;
      await sleep(100 + (i % 5) * 50);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const final = await status();
    console.log(
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GB`,
    );
    console.log(
      `backfill: ${BACKFILL_REPOS} × express (${BACKFILL_REPOS * 6413} commits), API latency ${API_LATENCY_MS} ms; ` +
        `still running after ${stillBackfilling}/${PUSHES} pushes; at the end: ` +
        final.map((r) => `${r.full_name} ${r.state} ${r.commits_known}`).join(', '),
    );
    console.log(
      `push-to-visible latency over ${PUSHES} pushes: p50 ${percentile(sorted, 0.5).toFixed(0)} ms, ` +
        `p95 ${percentile(sorted, 0.95).toFixed(0)} ms (target ≤ ${TARGET_P95_MS}), max ${sorted.at(-1)!.toFixed(0)} ms`,
    );
  } finally {
    await worker.stop();
    await sim.close();
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
