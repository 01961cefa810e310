/**
 * Fair intake: one tenant floods the webhook intake at 5,000 deliveries/s (more than the intake stores) while
 * another sends 50/s, both open loop for a bounded time on loopback. Figures: the quiet tenant's latency (target:
 * p99 ≤ 50 ms, as for the intake alone) and that it is never refused, the flood's 2xx and 503 answers, the web
 * role's peak RSS (its own process), the load average; afterwards the stored count must equal the 2xx count.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type autocannon from 'autocannon';
import pg from 'pg';
import { install, newWorkspace, type Workspace } from '../test/support/bitbucket';
import { machine, startPostgres, startWebProcess } from './support/tally';
import { pushLoad } from './support/webhook-load';

const FLOOD_RATE = Number(process.env.BENCH_FLOOD_RATE ?? 5000);
const QUIET_RATE = 50;
const SECONDS = Number(process.env.BENCH_FAIRNESS_SECONDS ?? 20);
/**
 * Open loop needs a connection per request in flight: 5,000/s at up to ~50 ms each. More connections than the
 * tenant's share of the intake (BENCH_FLOOD_CONNECTIONS) let the flood press on the share when the server is slow.
 */
const FLOOD_CONNECTIONS = Number(process.env.BENCH_FLOOD_CONNECTIONS ?? 256);
const QUIET_CONNECTIONS = 16;

const load = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' / ');

const count = (r: autocannon.Result, status: number) =>
  (r.statusCodeStats as Record<string, { count: number }> | undefined)?.[String(status)]?.count ?? 0;

export async function main(): Promise<void> {
  const postgres = await startPostgres();
  const urls = await postgres.createDatabase();
  const web = await startWebProcess(urls.appUrl, randomBytes(32).toString('hex'));
  const loads: string[] = [];
  try {
    const flood = newWorkspace('flood');
    const quiet = newWorkspace('quiet');
    for (const ws of [flood, quiet]) {
      const installed = await install(web.url, ws);
      if (installed.status !== 204) throw new Error(`install failed: ${installed.status}`);
    }
    // Made-up workspaces exist in no Bitbucket: confirm them as Bitbucket's answer to the verification would.
    const owner = new pg.Client({ connectionString: urls.adminUrl });
    await owner.connect();
    await owner.query(
      `update tenants set state = 'installed', delete_after = null where client_key = any($1)`,
      [[flood.clientKey, quiet.clientKey]],
    );
    await owner.end();
    const floodSend = pushLoad(web.url, flood, '{00000000-0000-4000-8000-00000000f100}');
    const quietSend = pushLoad(web.url, quiet, '{00000000-0000-4000-8000-00000000a000}');
    console.log(`machine: ${machine()}`);
    // Warm-up (JIT, pools, first plans), stored like the rest.
    const [fWarm, qWarm] = await Promise.all([
      floodSend({ connections: 32, amount: 3000 }),
      quietSend({ connections: 2, amount: 200 }),
    ]);
    const rssWarm = web.peakRssMb();
    const sampler = setInterval(() => {
      web.peakRssMb();
      loads.push(os.loadavg()[0]!.toFixed(1));
    }, 1000);
    const before = load();
    const [f, q] = await Promise.all([
      floodSend({ connections: FLOOD_CONNECTIONS, overallRate: FLOOD_RATE, duration: SECONDS }),
      quietSend({ connections: QUIET_CONNECTIONS, overallRate: QUIET_RATE, duration: SECONDS }),
    ]);
    clearInterval(sampler);
    const peak = web.peakRssMb();
    const client = new pg.Client({ connectionString: urls.adminUrl });
    await client.connect();
    const { rows } = await client.query(
      `select t.client_key, count(*)::int as n from webhook_deliveries d join tenants t on t.id = d.tenant_id
        group by 1`,
    );
    await client.end();
    const stored = Object.fromEntries(rows.map((r) => [r.client_key as string, r.n as number]));
    console.log(
      `load average (1 / 5 / 15 min) before: ${before}; after: ${load()}; 1-min during: ${loads.join(' ')}`,
    );
    console.log(
      `flood connections: ${FLOOD_CONNECTIONS}, quiet connections: ${QUIET_CONNECTIONS}, ${SECONDS} s`,
    );
    console.log(
      `quiet tenant at ${QUIET_RATE}/s beside a ${FLOOD_RATE}/s flood: p50 ${q.latency.p50} ms, p99 ${q.latency.p99} ms, ` +
        `max ${q.latency.max} ms (target p99 ≤ 50 ms); ${q['2xx']} answered 2xx, ${q.non2xx} not ` +
        `(target 0), errors ${q.errors}, timeouts ${q.timeouts}`,
    );
    console.log(
      `flood tenant: ${(f.requests.total / f.duration).toFixed(0)} deliveries/s sent, ` +
        `${(f['2xx'] / f.duration).toFixed(0)}/s taken (2xx), ${count(f, 503)} answered 503 intake_full, ` +
        `other non-2xx ${f.non2xx - count(f, 503)}, errors ${f.errors}, timeouts ${f.timeouts}; ` +
        `latency p50 ${f.latency.p50} ms, p99 ${f.latency.p99} ms`,
    );
    console.log(`web role peak RSS: ${peak.toFixed(0)} MB (after warm-up ${rssWarm.toFixed(0)} MB)`);
    const accepted = (ws: Workspace, warm: number, r: autocannon.Result) =>
      `${stored[ws.clientKey] ?? 0}/${warm + r['2xx']}`;
    const floodStored = accepted(flood, fWarm['2xx'], f);
    console.log(
      `stored/accepted: flood ${floodStored}, quiet ${accepted(quiet, qWarm['2xx'], q)} (target: equal)`,
    );
  } finally {
    await web.stop();
    await postgres.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
