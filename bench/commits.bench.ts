/**
 * The drill-down (GET /api/v1/commits) on the synthetic 1,000,000-commit tenant of bench/analytics.bench.ts (200
 * repositories in two projects of 100): p50/p95 over real HTTP of a first page in each scope a click can open
 * (workspace, a project, one repository, ten, the top contributor, a team, a day, a week, a month, the merge and
 * bot switches), and pages deep into a scope (keyset: as cheap as the first). Target p95 ≤ 50 ms; each figure is
 * printed with the 1-minute load average (the machine is shared). Then each cell's page statement is run again
 * under EXPLAIN (ANALYZE, BUFFERS) and its plan printed (server time beside the HTTP figure: what the plan reads,
 * not the load, decides whether a cell is bounded by its page).
 * Run alone: `npx tsx bench/commits.bench.ts` (BENCH_COMMITS, BENCH_RUNS change the size and requests;
 * BENCH_PLANS=0 skips the plans).
 */
import os from 'node:os';
import { rebuildRollups } from '../src/analytics/rollups';
import { benchTeam, busiestAndTop, generate, installTenant, measure, settle } from './analytics.bench';
import { startBenchStack } from './support/tally-stack';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const TARGET_MS = 50;
const PLANS = process.env.BENCH_PLANS !== '0';
const load = () => os.loadavg()[0]!.toFixed(1);

interface Plan {
  'Execution Time': number;
  'Planning Time': number;
  Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number; 'Actual Rows': number };
}

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
    await settle(stack.adminUrl);
    console.log(
      `generated and built in ${((performance.now() - started) / 1000).toFixed(1)} s (load ${load()})`,
    );

    const { busiest, top } = await db.withTenant(tenant.tenantId, busiestAndTop);
    // A team of the ten busiest people, as the analytics matrix has.
    const team = await db.withTenant(tenant.tenantId, (trx) => benchTeam(trx, tenant.tenantId));
    // Every statement the web role runs, as knex sends it, so that a cell's page statement can be explained.
    let captured: { sql: string; bindings: unknown[] }[] | null = null;
    db.knex.on('query', (q: { sql: string; bindings?: unknown[] }) => {
      if (captured && /^\s*(select|with)\b/i.test(q.sql))
        captured.push({ sql: q.sql.replace(/\$\d+\b/g, '?'), bindings: q.bindings ?? [] });
    });
    const api = `${stack.url}/api/v1`;
    const repo = (uuids: string[]) => uuids.map((u) => `repository=${encodeURIComponent(u)}`).join('&');
    const project = `project=${encodeURIComponent('{00000000-0000-4000-8000-00000000e0e0}')}`;

    /** The cursor `pages` pages of 50 into a scope, followed as the UI would. */
    const deep = async (query: string, pages: number) => {
      let cursor = '';
      for (let i = 0; i < pages; i++) {
        const res = await fetch(`${api}/commits?limit=50${query}${cursor ? `&cursor=${cursor}` : ''}`, {
          headers: { authorization: `JWT ${tenant.token()}` },
        });
        cursor = ((await res.json()) as { next_cursor: string | null }).next_cursor ?? '';
        // A small tenant's scope can end sooner: its last page then.
        if (!cursor) break;
      }
      return cursor ? `&cursor=${cursor}` : '';
    };
    const one = `&${repo(busiest.slice(0, 1))}`;
    // The repository with the fewest commits: a date index filtered by it would walk everyone else's rows.
    const quietest = await db.withTenant(tenant.tenantId, async (trx) =>
      String(
        (
          await trx.raw(
            `select r.uuid from repositories r join repository_rollups_yearly y on y.repository_id = r.id
              group by r.uuid order by sum(y.commits) limit 1`,
          )
        ).rows[0].uuid,
      ),
    );
    const ten = `&${repo(busiest)}`;
    const person = `&contributor=${encodeURIComponent(top)}`;

    const cells: [string, string][] = [
      ['commits: workspace, first page', '/commits?limit=50'],
      ['commits: workspace, 50 pages deep', `/commits?limit=50${await deep('', 50)}`],
      ['commits: workspace, 200 a page', '/commits?limit=200'],
      ['commits: a project (100 repositories)', `/commits?limit=50&${project}`],
      ['commits: a project, 20 pages deep', `/commits?limit=50&${project}${await deep(`&${project}`, 20)}`],
      ['commits: one repository', `/commits?limit=50${one}`],
      ['commits: ten repositories', `/commits?limit=50${ten}`],
      ['commits: ten repositories, 20 pages deep', `/commits?limit=50${ten}${await deep(ten, 20)}`],
      ['commits: the top contributor', `/commits?limit=50${person}`],
      ['commits: the top contributor in one repository', `/commits?limit=50${person}${one}`],
      ['commits: the quietest repository', `/commits?limit=50&${repo([quietest])}`],
      ['commits: a team (ten people)', `/commits?limit=50&team=${team}`],
      ['commits: a day', '/commits?limit=50&day=2025-06-03'],
      ['commits: a day of one repository', `/commits?limit=50&day=2025-06-03${one}`],
      ['commits: a week of one repository', `/commits?limit=50&week=2025-06-02${one}`],
      [
        'commits: a week of one repository, page 3',
        `/commits?limit=50&week=2025-06-02${one}${await deep(`&week=2025-06-02${one}`, 2)}`,
      ],
      ['commits: a week of ten repositories', `/commits?limit=50&week=2025-06-02${ten}`],
      ['commits: a month of the top contributor', `/commits?limit=50&month=2025-06${person}`],
      ['commits: a month of a project', `/commits?limit=50&month=2025-06&${project}`],
      ['commits: merges only', '/commits?limit=50&merges=only'],
      ['commits: merges only, one repository', `/commits?limit=50&merges=only${one}`],
      ['commits: bots and merges included', '/commits?limit=50&bots=include&merges=include'],
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
    for (const [name, path] of PLANS ? cells : []) {
      captured = [];
      await (
        await fetch(`${api}${path}`, { headers: { authorization: `JWT ${tenant.token()}` } })
      ).arrayBuffer();
      const statements = captured.filter((st) => /commit_facts/.test(st.sql));
      captured = null;
      for (const st of statements) {
        const [json, text] = await db.withTenant(tenant.tenantId, async (trx) => [
          (
            (await trx.raw(`explain (analyze, buffers, format json) ${st.sql}`, st.bindings as never))
              .rows[0]['QUERY PLAN'] as Plan[]
          )[0]!,
          (await trx.raw(`explain (analyze, buffers, costs off, timing off) ${st.sql}`, st.bindings as never))
            .rows as { 'QUERY PLAN': string }[],
        ]);
        console.log(
          `\nEXPLAIN ${name}: ${json['Execution Time'].toFixed(1)} ms (planning ${json['Planning Time'].toFixed(1)} ms), ` +
            `${json.Plan['Shared Hit Blocks']} hit / ${json.Plan['Shared Read Blocks']} read, ` +
            `${json.Plan['Actual Rows']} rows (load ${load()})`,
        );
        for (const line of text) console.log(`    ${line['QUERY PLAN']}`);
      }
    }
  } finally {
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
