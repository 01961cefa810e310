import type { Knex } from 'knex';
import type { Trx } from '../db/database';
import type { Scope } from './scope';
import { densePeriods, type Interval } from './series';

/**
 * Pull-request statistics, read straight from pull_requests and their participants (far fewer rows than commits;
 * see docs/benchmarks.md). `merges` and `exclusions` do not apply to pull requests; `bots` drops pull requests
 * (and reviewers) whose display name matches a bot pattern.
 */

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The bot names among the given names (case-insensitive substrings of the bot patterns), found once per request
 * over distinct names so that the per-row filter is a plain membership test.
 */
async function botNames(trx: Trx, scope: Scope, namesSql: string): Promise<string[]> {
  if (scope.bots === 'include') return [];
  const { rows } = await trx.raw(
    `select n from (${namesSql}) d(n)
      where exists (select 1 from unnest(?::text[]) b where strpos(lower(coalesce(n, '')), b) > 0)`,
    [scope.botPatterns],
  );
  return (rows as { n: string }[]).map((r) => r.n);
}

/** `and …` restricting alias p (pull_requests) to the scope's repositories and, unless included, non-bots. */
function prFilters(scope: Scope, bots: string[], nameColumn = 'p.author_name') {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  if (scope.repositoryIds !== null) {
    parts.push('and p.repository_id = any(?::bigint[])');
    bindings.push(scope.repositoryIds);
  }
  if (bots.length > 0) {
    parts.push(`and not (coalesce(${nameColumn}, '') = any(?::text[]))`);
    bindings.push(bots);
  }
  return { sql: parts.join(' '), bindings };
}

/** `and col >= since and col < until` for whichever ends the scope has. */
function inRange(scope: Scope, column: string): { sql: string; bindings: Knex.Value[] } {
  return {
    sql: `and ${column} >= coalesce(?::timestamptz, '-infinity') and ${column} < coalesce(?::timestamptz, 'infinity')`,
    bindings: [iso(scope.start), iso(scope.end)],
  };
}

export interface PullRequestPoint {
  period: string;
  created: number;
  merged: number;
  declined: number;
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p75: number | null;
  p90: number | null;
  p95: number | null;
}

export interface PullRequestStats {
  series: PullRequestPoint[];
  totals: { created: number; merged: number; declined: number; open: number };
  time_to_merge: Percentiles & { histogram: { label: string; max_hours: number | null; count: number }[] };
  cycle_time: { time_to_first_review: Percentiles; review_to_merge: Percentiles };
  reviewers: {
    account_id: string | null;
    display_name: string | null;
    reviews: number;
    approvals: number;
    changes_requested: number;
  }[];
}

const HISTOGRAM: { label: string; max_hours: number | null }[] = [
  { label: '< 1 hour', max_hours: 1 },
  { label: '1–4 hours', max_hours: 4 },
  { label: '4–24 hours', max_hours: 24 },
  { label: '1–3 days', max_hours: 72 },
  { label: '3–7 days', max_hours: 168 },
  { label: '1–4 weeks', max_hours: 672 },
  { label: '> 4 weeks', max_hours: null },
];

const FRACTIONS = [0.5, 0.75, 0.9, 0.95];

/** Count and p50/p75/p90/p95 of a numeric expression over the rows (one sort for all four). */
const percentilesSql = (hours: string, name: string) =>
  `count(${hours})::int as ${name}_count,
   percentile_cont(array[${FRACTIONS.join(', ')}]::float8[]) within group (order by ${hours}) as ${name}_p`;

const percentilesOf = (row: Record<string, unknown>, name: string): Percentiles => {
  const p = (row[`${name}_p`] as (number | null)[] | null) ?? [];
  return {
    count: row[`${name}_count`] as number,
    p50: p[0] ?? null,
    p75: p[1] ?? null,
    p90: p[2] ?? null,
    p95: p[3] ?? null,
  };
};

const round = (p: Percentiles): Percentiles => ({
  count: p.count,
  p50: p.p50 === null ? null : Math.round(p.p50 * 100) / 100,
  p75: p.p75 === null ? null : Math.round(p.p75 * 100) / 100,
  p90: p.p90 === null ? null : Math.round(p.p90 * 100) / 100,
  p95: p.p95 === null ? null : Math.round(p.p95 * 100) / 100,
});

export async function pullRequestStats(
  trx: Trx,
  scope: Scope,
  interval: Interval,
): Promise<PullRequestStats> {
  const authorBots = await botNames(trx, scope, 'select distinct author_name from pull_requests');
  const filters = prFilters(scope, authorBots);
  const events = {
    sql: `select p.created_on as at, 1 as created, 0 as merged, 0 as declined from pull_requests p
           where true ${filters.sql} ${inRange(scope, 'p.created_on').sql}
          union all
          select p.merged_on, 0, 1, 0 from pull_requests p
           where p.state = 'MERGED' and p.merged_on is not null ${filters.sql} ${inRange(scope, 'p.merged_on').sql}
          union all
          select coalesce(p.closed_on, p.updated_on), 0, 0, 1 from pull_requests p
           where p.state = 'DECLINED' ${filters.sql} ${inRange(scope, 'coalesce(p.closed_on, p.updated_on)').sql}`,
    bindings: [
      ...filters.bindings,
      ...inRange(scope, '').bindings,
      ...filters.bindings,
      ...inRange(scope, '').bindings,
      ...filters.bindings,
      ...inRange(scope, '').bindings,
    ],
  };
  const series = await densePeriods<PullRequestPoint>(trx, scope, interval, events, {
    created: 'sum(src.created)',
    merged: 'sum(src.merged)',
    declined: 'sum(src.declined)',
  });
  // The dense series covers every event in range, so its sums are the totals.
  const open: number = (
    await trx.raw(
      `select count(*)::int as open from pull_requests p
        where p.state = 'OPEN' and p.created_on < coalesce(?::timestamptz, 'infinity') ${filters.sql}`,
      [iso(scope.end), ...filters.bindings],
    )
  ).rows[0].open;
  const sum = (k: 'created' | 'merged' | 'declined') => series.reduce((s, p) => s + Number(p[k]), 0);
  const totals = { created: sum('created'), merged: sum('merged'), declined: sum('declined'), open };

  // Merged pull requests in range with their first review by someone other than the author.
  const merged = inRange(scope, 'p.merged_on');
  const { rows: phases } = await trx.raw(
    `with m as materialized (
       select p.repository_id, p.id, p.created_on, p.merged_on, p.author_uuid
         from pull_requests p
        where p.state = 'MERGED' and p.merged_on is not null ${filters.sql} ${merged.sql}
     ),
     reviewed as (
       select pp.repository_id, pp.pull_request_id, min(pp.participated_on) as first_review
         from pull_request_participants pp
         join m on m.repository_id = pp.repository_id and m.id = pp.pull_request_id
        where pp.participated_on is not null and (pp.role = 'REVIEWER' or pp.approved or pp.state is not null)
          and pp.user_uuid is distinct from m.author_uuid
        group by 1, 2
     ),
     h as materialized (
       select extract(epoch from m.merged_on - m.created_on) / 3600 as to_merge,
              extract(epoch from r.first_review - m.created_on) / 3600 as to_review,
              extract(epoch from m.merged_on - r.first_review) / 3600 as review_to_merge
         from m left join reviewed r on r.repository_id = m.repository_id and r.pull_request_id = m.id
     )
     select ${percentilesSql('to_merge', 'to_merge')},
            ${percentilesSql('to_review', 'to_review')},
            ${percentilesSql('review_to_merge', 'review_to_merge')},
            array[${HISTOGRAM.map((b, i) => {
              const lo = i === 0 ? null : HISTOGRAM[i - 1]!.max_hours;
              const cond = [
                lo === null ? null : `to_merge >= ${lo}`,
                b.max_hours === null ? null : `to_merge < ${b.max_hours}`,
              ]
                .filter(Boolean)
                .join(' and ');
              return `count(*) filter (where ${cond})::int`;
            }).join(', ')}] as histogram
       from h`,
    [...filters.bindings, ...merged.bindings],
  );
  const phase = phases[0] as Record<string, unknown> & { histogram: number[] };

  // A participant row is one user on one pull request, so a reviewer's rows count their reviews; bot reviewers
  // are dropped after grouping (one name test per reviewer, not per row).
  const repositories = prFilters(scope, []);
  const activity = inRange(scope, 'coalesce(pp.participated_on, p.created_on)');
  const { rows: reviewers } = await trx.raw(
    `select * from (
       select pp.account_id, max(pp.display_name) as display_name, count(*)::int as reviews,
              count(*) filter (where pp.approved)::int as approvals,
              count(*) filter (where pp.state = 'changes_requested')::int as changes_requested
         from pull_request_participants pp
         join pull_requests p on p.tenant_id = pp.tenant_id and p.repository_id = pp.repository_id and p.id = pp.pull_request_id
        where pp.user_uuid is distinct from p.author_uuid
          and (pp.role = 'REVIEWER' or pp.approved or pp.state is not null)
          ${repositories.sql} ${activity.sql}
        group by pp.account_id, pp.user_uuid
     ) r
     where ${scope.bots === 'include' ? 'true' : `not exists (select 1 from unnest(?::text[]) b where strpos(lower(coalesce(r.display_name, '')), b) > 0)`}
     order by reviews desc, approvals desc, display_name`,
    [
      ...repositories.bindings,
      ...activity.bindings,
      ...(scope.bots === 'include' ? [] : [scope.botPatterns]),
    ],
  );

  return {
    series,
    totals,
    time_to_merge: {
      ...round(percentilesOf(phase, 'to_merge')),
      histogram: HISTOGRAM.map((b, i) => ({ ...b, count: phase.histogram[i] ?? 0 })),
    },
    cycle_time: {
      time_to_first_review: round(percentilesOf(phase, 'to_review')),
      review_to_merge: round(percentilesOf(phase, 'review_to_merge')),
    },
    reviewers,
  };
}
