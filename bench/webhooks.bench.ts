/**
 * Webhook intake throughput: autocannon sends valid signed repo:push deliveries (each with its own
 * X-Request-UUID) on loopback; afterwards the stored count must equal the 2xx count.
 */
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { install, lifecycleJwt, newWorkspace } from '../test/support/bitbucket';
import { pushData } from '../test/support/webhooks';
import { startBenchStack } from './support/tally-stack';

const DELIVERIES = Number(process.env.BENCH_WEBHOOK_DELIVERIES ?? 20_000);
const CONNECTIONS = 32;

export async function main(): Promise<void> {
  const stack = await startBenchStack();
  try {
    const ws = newWorkspace('bench');
    const installed = await install(stack.url, ws);
    if (installed.status !== 204) throw new Error(`install failed: ${installed.status}`);
    const path = '/webhooks/repo-push';
    const body = JSON.stringify({
      event: 'repo:push',
      data: pushData(
        '{00000000-0000-4000-8000-000000000001}',
        'bench/web',
        'main',
        'b'.repeat(40),
        'a'.repeat(40),
      ),
    });
    const token = lifecycleJwt(ws.clientKey, ws.sharedSecret, path);
    const result = await autocannon({
      url: `${stack.url}${path}`,
      method: 'POST',
      connections: CONNECTIONS,
      amount: DELIVERIES,
      headers: {
        'content-type': 'application/json',
        authorization: `JWT ${token}`,
        'x-event-key': 'repo:push',
      },
      body,
      // The load generator runs in a worker thread so it does not share the server's event loop.
      workers: 1,
      requests: [
        { setupRequest: fileURLToPath(new URL('./support/unique-request-uuid.cjs', import.meta.url)) },
      ],
    });
    const client = new pg.Client({ connectionString: stack.adminUrl });
    await client.connect();
    const stored = (await client.query('select count(*)::int as n from webhook_deliveries')).rows[0]
      .n as number;
    const jobs = (
      await client.query(
        `select count(*)::int as n from graphile_worker.jobs where task_identifier = 'process_webhook'`,
      )
    ).rows[0].n as number;
    await client.end();
    const accepted = result['2xx'];
    console.log(`machine: ${(await import('node:os')).cpus().length} cores`);
    console.log(`webhook deliveries/s: ${result.requests.average.toFixed(0)} (target ≥ 1,500)`);
    console.log(
      `webhook latency p50: ${result.latency.p50} ms, p99: ${result.latency.p99} ms (target p99 ≤ 50 ms)`,
    );
    console.log(
      `webhook non-2xx answers: ${result.non2xx}, errors: ${result.errors}, timeouts: ${result.timeouts}`,
    );
    console.log(`webhook stored/accepted: ${stored}/${accepted}, jobs ${jobs} (target: equal)`);
  } finally {
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
