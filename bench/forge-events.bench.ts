/**
 * The Forge door's push path: the simulator's Forge app posts `avi:forge:installed:app` (the backfill starts with
 * the system token), then pushes of 1–3 commits, one after another, each posted by the simulator as an
 * `avi:bitbucket:push:repository` event to `POST /forge/events`. Measured: the event's answer (from the push to
 * the 204: Forge allows 5 s) and push-to-visible (from the 204 until the tenant's stored commits include the new
 * ones; the sync calls Bitbucket with the system token under the apiBaseUrl prefix).
 * Run alone: `npx tsx bench/forge-events.bench.ts` (BENCH_PUSHES).
 */
import os from 'node:os';
import { Logger as QueueLogger, run } from 'graphile-worker';
import pg from 'pg';
import { ingestTasks } from '../src/ingest/tasks';
import { jobDeps } from '../src/main/worker';
import { ForgeSimulator } from '../src/simulator/forge';
import { startSimulator, type ExportCommit } from '../src/simulator/index';
import { startBenchStack } from './support/tally-stack';

const PUSHES = Number(process.env.BENCH_PUSHES ?? 40);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

function history(): {
  commits: ExportCommit[];
  refs: { branches: Record<string, string>; mainbranch: string };
} {
  const commits: ExportCommit[] = [];
  for (let i = 0; i < 200; i++) {
    const hash = (i + 1).toString(16).padStart(40, 'f');
    commits.push({
      hash,
      parents: i === 0 ? [] : [commits[i - 1]!.hash],
      author: { name: 'Bench', email: 'bench@example.com' },
      date: new Date(Date.UTC(2025, 0, 1, i)).toISOString(),
      message: `history ${i}\n`,
      files: [{ path: 'a.txt', added: 1, removed: 0 }],
    });
  }
  return { commits, refs: { branches: { main: commits.at(-1)!.hash }, mainbranch: 'main' } };
}

export async function main(): Promise<void> {
  const forge = await ForgeSimulator.start();
  const stack = await startBenchStack({
    BITBUCKET_REQUESTS_PER_HOUR: '1000000',
    FORGE_APP_ID: forge.appId,
    FORGE_JWKS_URL: forge.jwksUrl,
  });
  const sim = await startSimulator({ rateLimitPerHour: Infinity });
  const worker = await run({
    connectionString: stack.runtime.appUrl,
    concurrency: 4,
    noHandleSignals: true,
    taskList: ingestTasks(jobDeps(stack.runtime)),
    logger: new QueueLogger(() => () => undefined),
  });
  const admin = new pg.Client({ connectionString: stack.adminUrl });
  await admin.connect();
  try {
    sim.addWorkspace({ slug: 'acme', name: 'Acme' });
    sim.addRepository('acme', { slug: 'app', history: history() });
    const { installation, delivery } = await sim.installForge('acme', { forge, remoteUrl: stack.url });
    if (delivery.status !== 204) throw new Error(`installed answered ${delivery.status}`);
    const tenant = await stack.runtime.tenants.findByClientKey(installation.installationId);
    if (!tenant) throw new Error('no Forge tenant');
    const stored = async () =>
      (await admin.query('select count(*)::int as n from commits where tenant_id = $1', [tenant.id])).rows[0]
        .n as number;
    const installedAt = performance.now();
    while ((await stored()) < 200) await sleep(20);
    const backfillMs = performance.now() - installedAt;

    const answers: number[] = [];
    const visible: number[] = [];
    for (let i = 0; i < PUSHES; i++) {
      const before = await stored();
      const count = 1 + (i % 3);
      const commits = Array.from({ length: count }, (_, k) => ({
        author: { name: 'Pusher', email: 'pusher@example.com' },
        message: `push ${i}.${k}\n`,
        files: [{ path: `p/${i}.txt`, added: k + 1, removed: 0 }],
      }));
      const pushedAt = performance.now();
      const pushed = await sim.push('acme', 'app', { branch: 'main', commits });
      const answeredAt = performance.now();
      const event = pushed.deliveries.find((d) => d.kind === 'forge');
      if (event?.status !== 204 || event.attempts !== 1) throw new Error(`event: ${JSON.stringify(event)}`);
      answers.push(answeredAt - pushedAt);
      while ((await stored()) < before + count) await sleep(10);
      visible.push(performance.now() - answeredAt);
      await sleep(100 + (i % 5) * 50);
    }
    const line = (name: string, values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return `${name} over ${values.length} pushes: p50 ${percentile(sorted, 0.5).toFixed(0)} ms, p95 ${percentile(sorted, 0.95).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`;
    };
    console.log(
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')}`,
    );
    console.log(`backfill of 200 commits after the Forge install: ${backfillMs.toFixed(0)} ms`);
    console.log(line('forge push event answered (target well within 5 s)', answers));
    console.log(line('push-to-visible after the 204', visible));
  } finally {
    await admin.end();
    await worker.stop();
    await sim.close();
    await stack.close();
    await forge.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
