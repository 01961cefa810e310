/**
 * Webhook intake: autocannon sends valid signed repo:push deliveries (each with its own X-Request-UUID) on
 * loopback, first at the target rate (latency), then as fast as they are answered (throughput); afterwards the
 * stored count must equal the 2xx count.
 */
import type autocannon from 'autocannon';
import pg from 'pg';
import { install, newWorkspace } from '../test/support/bitbucket';
import { machine } from './support/tally';
import { startBenchStack } from './support/tally-stack';
import { pushLoad } from './support/webhook-load';

const DELIVERIES = Number(process.env.BENCH_WEBHOOK_DELIVERIES ?? 20_000);
const CONNECTIONS = 32;
const TARGET_RATE = 1500;

export async function main(): Promise<void> {
  const stack = await startBenchStack();
  try {
    const ws = newWorkspace('bench');
    const installed = await install(stack, ws);
    if (installed.status !== 204) throw new Error(`install failed: ${installed.status}`);
    const load = pushLoad(stack.url, ws, '{00000000-0000-4000-8000-000000000001}');
    const run = (overallRate?: number, amount = DELIVERIES) =>
      load({ connections: CONNECTIONS, amount, ...(overallRate ? { overallRate } : {}) });
    console.log(`machine: ${machine()}`);
    // At the target rate (open loop: requests go out on schedule whatever the answers do, and latencies are
    // corrected for coordinated omission), then as fast as the server answers (closed loop, 32 connections).
    // A warm-up first (JIT, connection pool, the intake function's first plan), answered and stored like the rest.
    const warmUp = await run(undefined, 3000);
    const paced = await run(TARGET_RATE);
    const flat = await run();
    const client = new pg.Client({ connectionString: stack.adminUrl });
    await client.connect();
    const stored = (await client.query('select count(*)::int as n from webhook_deliveries')).rows[0]
      .n as number;
    // Every delivery goes to the same repository: its pushes share one waiting sync job.
    const jobs = (
      await client.query(
        `select count(*)::int as n from graphile_worker.jobs where task_identifier = 'sync_pushes'`,
      )
    ).rows[0].n as number;
    await client.end();
    const perSecond = (r: autocannon.Result) => (r['2xx'] / r.duration).toFixed(0);
    console.log(
      `webhook latency at ${TARGET_RATE} deliveries/s: p50 ${paced.latency.p50} ms, p99 ${paced.latency.p99} ms ` +
        `(target p99 ≤ 50 ms); ${paced['2xx']} deliveries sent on that schedule in ${paced.duration.toFixed(1)} s`,
    );
    console.log(
      `webhook deliveries/s at most: ${perSecond(flat)} (target ≥ 1,500); latency there p50 ${flat.latency.p50} ms, ` +
        `p99 ${flat.latency.p99} ms`,
    );
    for (const r of [warmUp, paced, flat])
      console.log(`  non-2xx answers: ${r.non2xx}, errors: ${r.errors}, timeouts: ${r.timeouts}`);
    const accepted = warmUp['2xx'] + paced['2xx'] + flat['2xx'];
    console.log(
      `webhook stored/accepted: ${stored}/${accepted} (target: equal), push sync jobs waiting: ${jobs}`,
    );
  } finally {
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
