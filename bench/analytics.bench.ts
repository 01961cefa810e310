/**
 * Analytics read speed on a synthetic tenant of 1,000,000 commits (200 repositories, 2,000 contributors, 5 years,
 * 50,000 pull requests) generated into the real schema with set-based SQL, then: the initial build of facts and
 * rollups, a settings change (request and rebuild job), and p50/p95 of every graph endpoint over real HTTP for a
 * whole-workspace 5-year range and a one-repository 90-day range (target p95 ≤ 50 ms). Each figure is printed with
 * the 1-minute load average (the machine is shared).
 * The same run loads the express history and compares Tally's contributor totals with totals computed straight
 * from the export (what `git log --numstat` gives), as a ratio of values and of time.
 * Run alone: `npx tsx bench/analytics.bench.ts` (BENCH_COMMITS to change the size).
 */
import os from 'node:os';
import pg from 'pg';
import { runRollupRebuild } from '../src/analytics/rollup-rebuild';
import { rebuildRollups } from '../src/analytics/rollups';
import { createSessionToken } from '../src/connect/jwt';
import { scopeForPage } from '../src/connect/session-scope';
import type { Trx } from '../src/db/database';
import { install, newWorkspace, type Workspace } from '../test/support/bitbucket';
import { loadExport, readExport } from '../test/support/load-export';
import { startBenchStack, type BenchStack } from './support/tally-stack';

const COMMITS = Number(process.env.BENCH_COMMITS ?? 1_000_000);
const REPOSITORIES = 200;
const CONTRIBUTORS = 2_000;
const PULL_REQUESTS = Math.round(COMMITS / 20);
const WARMUP = 5;
const RUNS = Number(process.env.BENCH_RUNS ?? 60);
const TARGET_MS = 50;

const T = `current_setting('app.tenant_id')::uuid`;

/** The synthetic tenant, written in a few statements (generate_series), never row by row. */
export async function generate(trx: Trx, repositories = REPOSITORIES): Promise<void> {
  await trx.raw(`select setseed(0.42)`);
  await trx.raw(
    `insert into repositories (tenant_id, uuid, full_name, slug, name, sync_state)
     select ${T}, '{' || md5('repo' || i)::uuid || '}', 'bench/repo-' || i, 'repo-' || i, 'repo-' || i, 'ready'
       from generate_series(1, ?) i`,
    [repositories],
  );
  const base: number = (await trx.raw(`select min(id) - 1 as base from repositories`)).rows[0].base;
  // Contributors are skewed (a few do most commits), mostly commit to a home repository, in working hours.
  await trx.raw(
    `create temp table gen on commit drop as
     select i, c, bot, merge,
            ? + case when u1 < 0.85 then (c * 7) % ? else floor(u2 * ?)::int end + 1 as repository_id,
            timestamptz '2021-01-01 00:00:00+00' + floor(u3 * 1826) * interval '1 day'
              + (case when u4 < 0.8 then 13 + floor(u5 * 9) else floor(u5 * 24) end) * interval '1 hour'
              + floor(u6 * 3600) * interval '1 second' as at,
            1 + floor(power(u7, 2) * 4)::int as files
       from (select i, floor(? * power(random(), 1.8))::int as c, random() < 0.02 as bot, random() < 0.06 as merge,
                    random() as u1, random() as u2, random() as u3, random() as u4, random() as u5, random() as u6,
                    random() as u7
               from generate_series(1, ?) i) g`,
    [base, repositories, repositories, CONTRIBUTORS, COMMITS],
  );
  await trx.raw(
    `create temp table gen_files on commit drop as
     select g.i, o as ordinal,
            case when random() < 0.04 then 'package-lock.json'
                 when random() < 0.03 then 'vendor/lib' || floor(random() * 50) || '.js'
                 else 'src/module' || floor(random() * 400) || (case when random() < 0.5 then '.ts' else '/index.ts' end) end as path,
            floor(power(random(), 3) * 300)::int as added, floor(power(random(), 3) * 150)::int as removed
       from gen g cross join lateral generate_series(0, g.files - 1) o`,
  );
  await trx.raw(
    `insert into commits (tenant_id, repository_id, hash, author_raw, author_name, author_email, author_account_id,
                          authored_at, parents, is_merge, message, lines_added, lines_removed, files_changed)
     select ${T}, g.repository_id, md5(g.i::text) || substr(md5('x' || g.i), 1, 8),
            case when g.bot then 'renovate[bot] <bot@renovateapp.com>' else 'Developer ' || g.c || ' <dev' || g.c || '@corp.example>' end,
            case when g.bot then 'renovate[bot]' else 'Developer ' || g.c end,
            case when g.bot then 'bot@renovateapp.com' else 'dev' || g.c || '@corp.example' end,
            case when not g.bot and g.c % 10 < 7 then 'acct-' || g.c end,
            g.at,
            case when g.merge then array[md5('p' || g.i), md5('q' || g.i)] else array[md5('p' || g.i)] end,
            g.merge, 'change ' || g.i, s.added, s.removed, s.files
       from gen g
       join (select i, sum(added)::int as added, sum(removed)::int as removed, count(*)::int as files
               from gen_files group by i) s on s.i = g.i`,
  );
  await trx.raw(
    `insert into commit_files (tenant_id, repository_id, hash, ordinal, path, status, lines_added, lines_removed)
     select ${T}, g.repository_id, md5(g.i::text) || substr(md5('x' || g.i), 1, 8), f.ordinal, f.path, 'modified',
            f.added, f.removed
       from gen_files f join gen g on g.i = f.i`,
  );
  await trx.raw(
    `insert into pull_requests (tenant_id, repository_id, id, title, state, author_account_id, author_uuid, author_name,
                                created_on, updated_on, merged_on, closed_on)
     select ${T}, ? + 1 + (i % ?), i, 'Pull request ' || i, st, 'acct-' || c, '{' || md5('u' || c)::uuid || '}',
            'Developer ' || c, created, created + d, case when st = 'MERGED' then created + d end,
            case when st in ('MERGED', 'DECLINED') then created + d end
       from (select i, floor(? * power(random(), 1.8))::int as c,
                    timestamptz '2021-01-01 00:00:00+00' + random() * interval '1826 days' as created,
                    power(random(), 2) * interval '20 days' as d,
                    case when random() < 0.7 then 'MERGED' when random() < 0.5 then 'DECLINED'
                         when random() < 0.7 then 'OPEN' else 'SUPERSEDED' end as st
               from generate_series(1, ?) i) p`,
    [base, repositories, CONTRIBUTORS, PULL_REQUESTS],
  );
  await trx.raw(
    `insert into pull_request_participants (tenant_id, repository_id, pull_request_id, user_uuid, account_id,
                                            display_name, role, approved, state, participated_on)
     select ${T}, p.repository_id, p.id, '{' || md5('u' || r.c)::uuid || '}', 'acct-' || r.c, 'Developer ' || r.c,
            'REVIEWER', random() < 0.7, null, p.created_on + random() * (p.updated_on - p.created_on)
       from pull_requests p
       -- Two reviewers per pull request (p.id * 0 makes the draw run once per pull request).
       cross join lateral (select distinct floor(? * random() + p.id * 0)::int as c from generate_series(1, 2)) r
     on conflict do nothing`,
    [CONTRIBUTORS],
  );
}

/** A team of the ten busiest people with a Bitbucket account (issue 18's team cells); its id. */
export async function benchTeam(trx: Trx, tenantId: string): Promise<number> {
  const [row] = await trx('teams')
    .insert({ tenant_id: tenantId, name: 'Bench', created_at: new Date(), updated_at: new Date() })
    .returning('id');
  const id = Number((row as { id: number }).id);
  await trx.raw(
    `insert into team_members (tenant_id, team_id, contributor_key)
     select ?, ?, 'a:' || c.account_id from commit_facts f join contributors c on c.id = f.contributor_id
      where c.account_id is not null group by c.account_id order by count(*) desc limit 10`,
    [tenantId, id],
  );
  return id;
}

/**
 * Settles a freshly built tenant as a live database is: vacuumed (autovacuum would otherwise start on the fresh
 * million rows while cells are measured, and its work shows in their tails), analyzed, and checkpointed.
 */
export async function settle(adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('vacuum (analyze)');
    await admin.query('checkpoint');
  } finally {
    await admin.end();
  }
}

/** The ten repositories with the most counted commits, and the key of the contributor with the most. */
export async function busiestAndTop(trx: Trx): Promise<{ busiest: string[]; top: string }> {
  const busiest = await trx.raw(
    `select r.uuid from commit_facts f join repositories r on r.id = f.repository_id
      group by r.uuid order by count(*) desc limit 10`,
  );
  const top = await trx.raw(
    `select 'a:' || c.account_id as key from commit_facts f join contributors c on c.id = f.contributor_id
      where c.account_id is not null group by c.account_id order by count(*) desc limit 1`,
  );
  return { busiest: busiest.rows.map((r: { uuid: string }) => r.uuid), top: top.rows[0].key };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function measure(
  url: string,
  token: () => string,
  runs = RUNS,
): Promise<{ p50: number; p95: number; status: number }> {
  const times: number[] = [];
  let status = 0;
  for (let i = 0; i < WARMUP + runs; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers: { authorization: `JWT ${token()}` } });
    await res.arrayBuffer();
    status = res.status;
    if (status !== 200) throw new Error(`${url} answered ${status}`);
    if (i >= WARMUP) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), status };
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
/** The machine is shared: every figure is printed with the 1-minute load average at the time it was taken. */
const load = () => `load ${os.loadavg()[0]!.toFixed(1)}`;

export async function installTenant(
  stack: BenchStack,
): Promise<{ ws: Workspace; tenantId: string; token: () => string; adminToken: () => string }> {
  const ws = newWorkspace();
  const res = await install(stack, ws);
  if (res.status !== 204) throw new Error(`install failed: ${res.status}`);
  const tenant = await stack.runtime.tenants.findByClientKey(ws.clientKey);
  const token = () =>
    createSessionToken({
      appKey: 'tally',
      clientKey: ws.clientKey,
      secret: ws.sharedSecret,
      scope: scopeForPage('workspace', {}),
    });
  const adminToken = () =>
    createSessionToken({
      appKey: 'tally',
      clientKey: ws.clientKey,
      secret: ws.sharedSecret,
      page: 'configure',
      scope: scopeForPage('configure', {}),
    });
  return { ws, tenantId: tenant!.id, token, adminToken };
}

export async function main(): Promise<void> {
  const stack = await startBenchStack();
  const db = stack.runtime.db;
  try {
    console.log(
      `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    );
    const big = await installTenant(stack);
    let started = performance.now();
    await db.withTenant(big.tenantId, generate);
    console.log(`generated ${COMMITS} commits: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    started = performance.now();
    await db.withTenant(big.tenantId, (trx) => rebuildRollups(trx));
    console.log(
      `initial build of facts and rollups from scratch for ${COMMITS} commits: ${seconds(started)} (${load()})`,
    );
    const admin = new pg.Client({ connectionString: stack.adminUrl });
    await admin.connect();
    await admin.query('analyze');
    const sizes = await admin.query(
      `select relname, n_live_tup::bigint as n from pg_stat_user_tables
        where relname in ('commits', 'commit_files', 'commit_facts', 'pull_requests', 'pull_request_facts')
           or relname like '%rollups%'
        order by relname`,
    );
    await admin.end();
    console.log(`rows: ${sizes.rows.map((r) => `${r.relname} ${r.n}`).join(', ')}`);

    const stats = await db.withTenant(big.tenantId, async (trx) => {
      const repo = (
        await trx.raw(
          `select r.uuid from commit_facts f join repositories r on r.id = f.repository_id
            group by r.uuid order by count(*) desc limit 1`,
        )
      ).rows[0].uuid as string;
      const top = (
        await trx.raw(
          `select 'a:' || c.account_id as key from commit_facts f join contributors c on c.id = f.contributor_id
            where c.account_id is not null group by c.account_id order by count(*) desc limit 1`,
        )
      ).rows[0].key as string;
      return { repo, top };
    });
    const scopes: Record<string, string> = {
      'workspace 5 years': 'since=2021-01-01&until=2026-01-01',
      'one repository 90 days': `repository=${encodeURIComponent(stats.repo)}&since=2025-10-03&until=2026-01-01`,
    };
    const endpoints: [string, string][] = [
      ['contributors', '/stats/contributors?'],
      ['activity by week', '/stats/activity?interval=week&'],
      ['activity by day', '/stats/activity?interval=day&'],
      ['punch card', '/stats/punchcard?'],
      ['top people and repositories', '/stats/top?by=lines&'],
      ['pull-request stats', '/pull-requests/stats?interval=week&'],
    ];
    const results: { name: string; p50: number; p95: number }[] = [];
    const run = async (name: string, path: string, runs = RUNS) => {
      const r = await measure(`${stack.url}/api/v1${path}`, big.token, runs);
      results.push({ name, ...r });
      console.log(`${name} p50: ${fmt(r.p50)}, p95: ${fmt(r.p95)} (target p95 ≤ ${TARGET_MS} ms; ${load()})`);
    };
    for (const [scopeName, query] of Object.entries(scopes)) {
      for (const [name, path] of endpoints) await run(`${name}, ${scopeName}`, `${path}${query}`);
    }
    const calendarYear = 'since=2025-01-01&until=2026-01-01';
    await run(
      'calendar of the top contributor, workspace 1 year',
      `/stats/calendar?contributor=${encodeURIComponent(stats.top)}&${calendarYear}`,
    );
    await run(
      'calendar of the top contributor, one repository 90 days',
      `/stats/calendar?contributor=${encodeURIComponent(stats.top)}&${scopes['one repository 90 days']}`,
    );
    // Zones: whole-hour offsets read hourly rollups; others (India +5:30) fall back to commit facts.
    for (const tz of ['America/New_York', 'Asia/Kolkata']) {
      // The fallback is slow by design: fewer runs of it.
      const runs = tz === 'Asia/Kolkata' ? 15 : RUNS;
      await run(
        `activity by week in ${tz}, workspace 5 years`,
        `/stats/activity?interval=week&tz=${tz}&${scopes['workspace 5 years']}`,
        runs,
      );
      await run(
        `punch card in ${tz}, workspace 5 years`,
        `/stats/punchcard?tz=${tz}&${scopes['workspace 5 years']}`,
        runs,
      );
      await run(
        `contributors in ${tz}, workspace 5 years`,
        `/stats/contributors?tz=${tz}&${scopes['workspace 5 years']}`,
        runs,
      );
    }
    started = performance.now();
    const exported = await fetch(`${stack.url}/api/v1/export/commits?merges=include&bots=include`, {
      headers: { authorization: `JWT ${big.token()}` },
    });
    const text = await exported.text();
    const rows = text.split('\r\n').length - 2;
    const exportSeconds = (performance.now() - started) / 1000;
    console.log(
      `export of every commit as CSV: ${rows} rows in ${exportSeconds.toFixed(1)} s (${Math.round(rows / exportSeconds)} rows/s)`,
    );

    // The express history: Tally's totals against totals computed straight from the export.
    const express = await installTenant(stack);
    await loadExport({ db, tenantId: express.tenantId, commits: readExport(), accountOf: () => null });
    // Statistics that know the second tenant (autovacuum would get there; without them every plan assumes the
    // big tenant's million rows).
    const analyzer = new pg.Client({ connectionString: stack.adminUrl });
    await analyzer.connect();
    await analyzer.query('analyze');
    await analyzer.end();
    const totalsUrl = `${stack.url}/api/v1/stats/contributors?bots=include&exclusions=ignore`;
    const res = await fetch(totalsUrl, { headers: { authorization: `JWT ${express.token()}` } });
    const body = (await res.json()) as {
      contributors: { commits: number; lines_added: number; lines_removed: number }[];
    };
    const api = await measure(totalsUrl, express.token);
    // What `git log --numstat` over a clone amounts to here: read the history, sum per author email.
    const exportStarted = performance.now();
    const fromExport = new Map<string, { commits: number; added: number; removed: number }>();
    for (const c of readExport()) {
      if (c.parents.length > 1) continue; // `git log --numstat` shows no numstat for merges; Tally leaves them out
      const key = c.author.email.trim().toLowerCase();
      const t = fromExport.get(key) ?? { commits: 0, added: 0, removed: 0 };
      t.commits += 1;
      for (const file of c.files) {
        t.added += file.added ?? 0;
        t.removed += file.removed ?? 0;
      }
      fromExport.set(key, t);
    }
    const exportMs = performance.now() - exportStarted;
    const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((s, x) => s + f(x), 0);
    const tally = body.contributors;
    const truth = [...fromExport.values()];
    console.log(
      `express contributors: Tally ${tally.length}, export ${truth.length} (ratio ${(tally.length / truth.length).toFixed(4)})`,
    );
    console.log(
      `express totals ratio Tally/export: commits ${(sum(tally, (c) => c.commits) / sum(truth, (c) => c.commits)).toFixed(4)}, ` +
        `lines added ${(sum(tally, (c) => c.lines_added) / sum(truth, (c) => c.added)).toFixed(4)}, ` +
        `lines removed ${(sum(tally, (c) => c.lines_removed) / sum(truth, (c) => c.removed)).toFixed(4)} (target 1.0000)`,
    );
    console.log(
      `express contributor totals time: Tally API p50 ${fmt(api.p50)}, reading and summing the export ${fmt(exportMs)} (ratio ${(exportMs / api.p50).toFixed(1)}×)`,
    );
    // Last, so that the reads above see the tenant as built (not the dead rows a rebuild leaves for vacuum).
    // A settings change as an admin makes it: the request, then the rebuild job it queued (run here directly).
    // Default exclusions off and on again: each time the lines of every commit touching a lockfile or vendored
    // file change (about one commit in eight).
    for (const useDefaults of [false, true]) {
      started = performance.now();
      const res = await fetch(`${stack.url}/api/v1/settings`, {
        method: 'PUT',
        headers: { authorization: `JWT ${big.adminToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ default_path_exclusions: useDefaults }),
      });
      await res.arrayBuffer();
      const answered = performance.now() - started;
      if (res.status !== 202) throw new Error(`settings change answered ${res.status}`);
      started = performance.now();
      await runRollupRebuild(db, { tenantId: big.tenantId });
      console.log(
        `settings change (default exclusions ${useDefaults ? 'on' : 'off'}): answered ${res.status} in ${fmt(answered)}, ` +
          `rebuild job ${seconds(started)} (${load()})`,
      );
    }
    const worst = results.reduce((w, r) => (r.p95 > w.p95 ? r : w));
    console.log(`worst p95: ${worst.name} ${fmt(worst.p95)} (target ≤ ${TARGET_MS} ms)`);
  } finally {
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
