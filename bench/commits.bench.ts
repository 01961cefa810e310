/**
 * The drill-down (GET /api/v1/commits) and the project filter on the synthetic 1,000,000-commit tenant of
 * bench/analytics.bench.ts (200 repositories in two projects of 100): p50/p95 over real HTTP of a first page in
 * each scope a click can open (workspace, a project, one repository, ten, the top contributor, a day, a week), a
 * page 50 pages deep (keyset: as cheap as the first), and two stats endpoints filtered by project. Target p95
 * ≤ 50 ms; each figure is printed with the 1-minute load average (the machine is shared).
 * Run alone: `npx tsx bench/commits.bench.ts` (BENCH_COMMITS, BENCH_RUNS change the size and requests).
 */
import os from 'node:os';
import pg from 'pg';
import { rebuildRollups } from '../src/analytics/rollups';
import { busiestAndTop, generate, installTenant, measure } from './analytics.bench';
import { startBenchStack } from './support/tally-stack';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const TARGET_MS = 50;
const load = () => os.loadavg()[0]!.toFixed(1);

export async function main(): Promise<void> {
  const stack = await startBenchStack();
  const db = stack.runtime.db;
  try {
    console.log(
      `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load ${load()}`,
    );
    const tenant = await installTenant(stack);
    const started = performance.now();
    const slow = db.withStatementTimeout(3_600_000);
    await slow.withTenant(tenant.tenantId, async (trx) => {
      await generate(trx);
      // Two projects of 100 repositories each, as a listing would store them.
      await trx.raw(
        `update repositories set project_key = case when id % 2 = 0 then 'EVEN' else 'ODD' end,
                project_name = case when id % 2 = 0 then 'Even' else 'Odd' end,
                project_uuid = case when id % 2 = 0 then '{00000000-0000-4000-8000-00000000e0e0}'
                                    else '{00000000-0000-4000-8000-0000000000dd}' end`,
      );
    });
    await slow.withTenant(tenant.tenantId, (trx) => rebuildRollups(trx));
    const admin = new pg.Client({ connectionString: stack.adminUrl });
    await admin.connect();
    await admin.query('analyze');
    await admin.end();
    console.log(
      `generated and built in ${((performance.now() - started) / 1000).toFixed(1)} s (load ${load()})`,
    );

    const { busiest, top } = await db.withTenant(tenant.tenantId, busiestAndTop);
    const api = `${stack.url}/api/v1`;
    const repo = (uuids: string[]) => uuids.map((u) => `repository=${encodeURIComponent(u)}`).join('&');
    const project = `project=${encodeURIComponent('{00000000-0000-4000-8000-00000000e0e0}')}`;

    // A cursor 50 pages of 50 into the workspace's commits, followed as the UI would.
    let cursor = '';
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${api}/commits?limit=50${cursor ? `&cursor=${cursor}` : ''}`, {
        headers: { authorization: `JWT ${tenant.token()}` },
      });
      cursor = ((await res.json()) as { next_cursor: string }).next_cursor;
    }

    const cells: [string, string][] = [
      ['commits: workspace, first page', '/commits?limit=50'],
      ['commits: workspace, 50 pages deep', `/commits?limit=50&cursor=${cursor}`],
      ['commits: workspace, 200 a page', '/commits?limit=200'],
      ['commits: a project (100 repositories)', `/commits?limit=50&${project}`],
      ['commits: one repository', `/commits?limit=50&${repo(busiest.slice(0, 1))}`],
      ['commits: ten repositories', `/commits?limit=50&${repo(busiest)}`],
      ['commits: the top contributor', `/commits?limit=50&contributor=${encodeURIComponent(top)}`],
      ['commits: a day', '/commits?limit=50&day=2025-06-03'],
      ['commits: a week of one repository', `/commits?limit=50&week=2025-06-02&${repo(busiest.slice(0, 1))}`],
      [
        'commits: a month of the top contributor',
        `/commits?limit=50&month=2025-06&contributor=${encodeURIComponent(top)}`,
      ],
      [
        'contributors: a project, 5 years',
        `/stats/contributors?${project}&since=2021-01-01&until=2026-01-01`,
      ],
      [
        'activity by week: a project, 5 years',
        `/stats/activity?interval=week&${project}&since=2021-01-01&until=2026-01-01`,
      ],
    ];
    const rows: string[] = [];
    for (const [name, path] of cells) {
      const r = await measure(`${api}${path}`, tenant.token, RUNS);
      if (r.status !== 200) throw new Error(`${path} answered ${r.status}`);
      const line = `| ${name} | ${r.p50.toFixed(1)} | ${r.p95 > TARGET_MS ? `**${r.p95.toFixed(1)}**` : r.p95.toFixed(1)} | ${load()} |`;
      console.log(line);
      rows.push(line);
    }
    console.log(`\n| request | p50 ms | p95 ms | load |\n|---|---|---|---|\n${rows.join('\n')}`);
  } finally {
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
