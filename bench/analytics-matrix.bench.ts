/**
 * Every path a person can click, measured (issue 15): scopes {whole workspace, one repository, ten repositories, a
 * project of 20 and one of 100 repositories (200-repository tenant)} ×
 * ranges {all time, 5 years, 1 year, 90 days, 30 days} × every stats and pull-request endpoint, on two synthetic
 * tenants of 1,000,000 commits each — 200 repositories (bench/analytics.bench.ts's tenant) and a monorepo (every
 * commit and pull request in one repository) — plus the zones whose offset is not a whole number of hours.
 * Target p95 ≤ 50 ms per cell; each cell is printed with the 1-minute load average when it was taken (the machine
 * is shared), and as a markdown row at the end (docs/benchmarks.md).
 * Run alone: `npx tsx bench/analytics-matrix.bench.ts` (BENCH_COMMITS, BENCH_RUNS change the size and requests;
 * BENCH_TENANTS=monorepo builds only that tenant; BENCH_SCOPES and BENCH_ENDPOINTS, comma-separated names as printed,
 * run only those scopes and endpoints; BENCH_ZONES=0 leaves the zone cells out). After each tenant's matrix, the
 * statements of a few cells are run again under EXPLAIN (ANALYZE, BUFFERS) and summarised (the machine is shared: server time beside the HTTP figure).
 */
import os from 'node:os';
import { rebuildRollups } from '../src/analytics/rollups';
import { benchTeam, busiestAndTop, generate, installTenant, measure, settle } from './analytics.bench';
import { startBenchStack } from './support/tally-stack';

const COMMITS = Number(process.env.BENCH_COMMITS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const TARGET_MS = 50;
const TENANTS = (process.env.BENCH_TENANTS ?? '200 repositories,monorepo').split(',');
/** Only these scopes / endpoints (names as printed), to measure one change without the whole matrix. */
const chosen = (names: string | undefined) => (name: string) =>
  names === undefined || names.split(',').includes(name);
const SCOPE_CHOSEN = chosen(process.env.BENCH_SCOPES);
const ENDPOINT_CHOSEN = chosen(process.env.BENCH_ENDPOINTS);
const ZONES = process.env.BENCH_ZONES !== '0';

/** The cells whose statements are explained (the slowest before per-repository punch-card and pull-request rollups). */
const EXPLAINED: [scope: string, path: string][] = [
  ['one repository', '/stats/punchcard?'],
  ['one repository', '/pull-requests/stats?interval=week&'],
  ['workspace', '/pull-requests/stats?interval=week&'],
  ['one repository', '/stats/contributors?since=2025-12-02&until=2026-01-01&'],
  ['workspace', '/stats/contributors?since=2021-01-01&until=2026-01-01&tz=Australia%2FAdelaide&'],
];

interface Plan {
  'Execution Time': number;
  'Planning Time': number;
  Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number; 'Actual Rows': number };
}

/** The synthetic history ends on 2025-12-31: ranges end there (a range ending today would be empty). */
const RANGES: Record<string, string> = {
  'all time': '',
  '5 years': 'since=2021-01-01&until=2026-01-01',
  '1 year': 'since=2025-01-01&until=2026-01-01',
  '90 days': 'since=2025-10-03&until=2026-01-01',
  '30 days': 'since=2025-12-02&until=2026-01-01',
};

const load = () => os.loadavg()[0]!.toFixed(1);
const fmt = (ms: number) => ms.toFixed(1);

interface Cell {
  tenant: string;
  scope: string;
  range: string;
  endpoint: string;
  p50: number;
  p95: number;
  load: string;
}

export async function main(): Promise<void> {
  const stack = await startBenchStack();
  const db = stack.runtime.db;
  const cells: Cell[] = [];
  try {
    console.log(
      `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    );
    // Every statement the web role runs, as knex sends it, so that a cell's statements can be explained afterwards.
    let captured: { sql: string; bindings: unknown[] }[] | null = null;
    db.knex.on('query', (q: { sql: string; bindings?: unknown[] }) => {
      // Builder queries arrive in PostgreSQL's $n form (each once, in order); raw ones with knex's ?.
      if (captured && /^\s*(select|with)\b/i.test(q.sql))
        captured.push({ sql: q.sql.replace(/\$\d+\b/g, '?'), bindings: q.bindings ?? [] });
    });
    for (const [tenantName, repositories] of (
      [
        ['200 repositories', 200],
        ['monorepo', 1],
      ] as const
    ).filter(([name]) => TENANTS.includes(name))) {
      const tenant = await installTenant(stack);
      const started = performance.now();
      // Set-up statements run for minutes: past the request timeout of the pooled connections.
      const slow = db.withStatementTimeout(3_600_000);
      await slow.withTenant(tenant.tenantId, async (trx) => {
        await generate(trx, repositories);
        // Projects as a listing would store them (before the rollups are built): the even-id repositories in one
        // project, the odd ones in five projects of 20 (a monorepo's one repository has none).
        if (repositories >= 200)
          await trx.raw(
            `with r as (select id, case when id % 2 = 0 then 'EVEN'
                                        else 'ODD' || ((row_number() over (partition by id % 2 order by id) - 1) / 20)
                                   end as key
                          from repositories)
             update repositories x set project_key = r.key, project_name = r.key,
                    project_uuid = '{00000000-0000-4000-8000-' || lpad(md5(r.key), 12, '0') || '}'
               from r where x.id = r.id`,
          );
      });
      const built = performance.now();
      await slow.withTenant(tenant.tenantId, (trx) => rebuildRollups(trx));
      console.log(
        `${tenantName}: initial build of facts and rollups ${((performance.now() - built) / 1000).toFixed(1)} s (load ${load()})`,
      );
      await settle(stack.adminUrl);
      console.log(
        `${tenantName}: ${COMMITS} commits generated and built in ${((performance.now() - started) / 1000).toFixed(1)} s (load ${load()})`,
      );
      const { busiest, top } = await db.withTenant(tenant.tenantId, busiestAndTop);
      // A team of the ten busiest people (issue 18): team= on the stats and pull requests.
      const team = await db.withTenant(tenant.tenantId, (trx) => benchTeam(trx, tenant.tenantId));
      const repo = (uuids: string[]) => uuids.map((u) => `repository=${encodeURIComponent(u)}`).join('&');
      const scopes: Record<string, string> = { workspace: '', 'one repository': repo(busiest.slice(0, 1)) };
      // A monorepo has no ten repositories: its "ten" would be its one.
      if (busiest.length >= 10) scopes['ten repositories'] = repo(busiest);
      // Issue 18: a project's statistics (one of the five projects of 20, and the project of 100).
      if (repositories >= 200) {
        const project = async (key: string) => {
          const { rows } = await db.withTenant(tenant.tenantId, (trx) =>
            trx.raw(`select project_uuid from repositories where project_key = ? limit 1`, [key]),
          );
          return `project=${encodeURIComponent((rows[0] as { project_uuid: string }).project_uuid)}`;
        };
        scopes['a project (20 repositories)'] = await project('ODD0');
        scopes['a project (100 repositories)'] = await project('EVEN');
      }
      const endpoints: Record<string, (range: string) => string | null> = {
        contributors: () => '/stats/contributors?',
        'activity by week': () => '/stats/activity?interval=week&',
        'activity by day': () => '/stats/activity?interval=day&',
        'punch card': () => '/stats/punchcard?',
        'top by lines': (range) => `/stats/top?by=lines&${range === 'all time' ? 'period=all&' : ''}`,
        // A calendar covers at most 366 days.
        'calendar of the top contributor': (range) =>
          ['all time', '5 years'].includes(range)
            ? null
            : `/stats/calendar?contributor=${encodeURIComponent(top)}&`,
        'pull-request stats': () => '/pull-requests/stats?interval=week&',
        // Issue 18: teams, pull requests per person; activity answers carry the running total of lines.
        'activity by week of a team': () => `/stats/activity?interval=week&team=${team}&`,
        'contributors of a team': () => `/stats/contributors?team=${team}&`,
        'pull-request stats of a team': () => `/pull-requests/stats?interval=week&team=${team}&`,
        'pull-request stats of the top author': () =>
          `/pull-requests/stats?interval=week&author=${encodeURIComponent(top)}&`,
        'pull-request stats of the top reviewer': () =>
          `/pull-requests/stats?interval=week&reviewer=${encodeURIComponent(top)}&`,
      };
      const cell = async (scope: string, range: string, endpoint: string, path: string) => {
        const r = await measure(`${stack.url}/api/v1${path}`, tenant.token, RUNS);
        const c = { tenant: tenantName, scope, range, endpoint, p50: r.p50, p95: r.p95, load: load() };
        cells.push(c);
        console.log(
          `${tenantName} | ${scope} | ${range} | ${endpoint}: p50 ${fmt(r.p50)} ms, p95 ${fmt(r.p95)} ms` +
            ` (load ${c.load})${r.p95 > TARGET_MS ? ' MISS' : ''}`,
        );
      };
      for (const [scope, scopeQuery] of Object.entries(scopes).filter(([name]) => SCOPE_CHOSEN(name)))
        for (const [range, rangeQuery] of Object.entries(RANGES))
          for (const [endpoint, path] of Object.entries(endpoints)) {
            const p = path(range);
            if (p === null || !ENDPOINT_CHOSEN(endpoint)) continue;
            await cell(scope, range, endpoint, `${p}${[scopeQuery, rangeQuery].filter(Boolean).join('&')}`);
          }
      for (const [scope, path] of EXPLAINED.filter(
        ([name]) => SCOPE_CHOSEN(name) && scopes[name] !== undefined,
      )) {
        captured = [];
        const url = `${stack.url}/api/v1${path}${scopes[scope]}`;
        const res = await fetch(url, { headers: { authorization: `JWT ${tenant.token()}` } });
        await res.arrayBuffer();
        const statements = captured;
        captured = null;
        let total = 0;
        const lines: string[] = [];
        for (const st of statements) {
          // The freshness and settings look-ups are the same in every cell; the cell's own statements are the rest.
          const plan = await db.withTenant(tenant.tenantId, async (trx) => {
            const { rows } = await trx.raw(
              `explain (analyze, buffers, format json) ${st.sql}`,
              st.bindings as never,
            );
            return (rows[0]['QUERY PLAN'] as Plan[])[0]!;
          });
          total += plan['Execution Time'];
          const text = st.sql.replace(/\s+/g, ' ').slice(0, 70);
          lines.push(
            `    ${plan['Execution Time'].toFixed(1)} ms (planning ${plan['Planning Time'].toFixed(1)} ms), ` +
              `${plan.Plan['Shared Hit Blocks']} hit / ${plan.Plan['Shared Read Blocks']} read, ` +
              `${plan.Plan['Actual Rows']} rows: ${text}`,
          );
        }
        console.log(
          `EXPLAIN ${tenantName} | ${scope} | ${path}: ${statements.length} statements, ${total.toFixed(1)} ms executing (load ${load()})`,
        );
        for (const line of lines) console.log(line);
      }
      for (const tz of ZONES ? ['Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Adelaide'] : [])
        for (const range of ['all time', '5 years'])
          for (const [endpoint, path] of [
            ['activity by week', '/stats/activity?interval=week&'],
            ['punch card', '/stats/punchcard?'],
            ['contributors', '/stats/contributors?'],
          ] as const)
            if (ENDPOINT_CHOSEN(endpoint))
              await cell(
                `workspace, ${tz}`,
                range,
                endpoint,
                `${path}tz=${encodeURIComponent(tz)}${RANGES[range] ? `&${RANGES[range]}` : ''}`,
              );
    }
    console.log(
      '\n| tenant | scope | range | endpoint | p50 ms | p95 ms | load |\n|---|---|---|---|---|---|---|',
    );
    for (const c of cells)
      console.log(
        `| ${c.tenant} | ${c.scope} | ${c.range} | ${c.endpoint} | ${fmt(c.p50)} | ${c.p95 > TARGET_MS ? `**${fmt(c.p95)}**` : fmt(c.p95)} | ${c.load} |`,
      );
    const misses = cells.filter((c) => c.p95 > TARGET_MS);
    console.log(`cells: ${cells.length}, over ${TARGET_MS} ms at p95: ${misses.length}`);
  } finally {
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
