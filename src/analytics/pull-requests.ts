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

/** `and …` restricting alias p (pull_requests) to the scope's repositories and, unless included, non-bots. */
function prFilters(scope: Scope, nameColumn = 'p.author_name'): { sql: string; bindings: Knex.Value[] } {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  if (scope.repositoryIds !== null) {
    parts.push('and p.repository_id = any(?::bigint[])');
    bindings.push(scope.repositoryIds);
  }
  if (scope.bots === 'exclude') {
    parts.push(
      `and not exists (select 1 from unnest(?::text[]) b where strpos(lower(coalesce(${nameColumn}, '')), b) > 0)`,
    );
    bindings.push(scope.botPatterns);
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

/** A JSON object {count, p50, p75, p90, p95} of a numeric expression over the rows. */
const percentilesJson = (hours: string) =>
  `json_build_object('count', count(${hours}),
     ${[50, 75, 90, 95].map((p) => `'p${p}', percentile_cont(${p / 100}) within group (order by ${hours})`).join(', ')})`;

const round = (p: Percentiles): Percentiles => ({
  count: p.count,
  p50: p.p50 === null ? null : Math.round(p.p50 * 100) / 100,
  p75: p.p75 === null ? null : Math.round(p.p75 * 100) / 100,
  p90: p.p90 === null ? null : Math.round(p.p90 * 100) / 100,
  p95: p.p95 === null ? null : Math.round(p.p95 * 100) / 100,
});

export async function pullRequestStats(trx: Trx, scope: Scope, interval: Interval): Promise<PullRequestStats> {
  const filters = prFilters(scope);
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
  const totalsRow = (
    await trx.raw(
      `select coalesce(sum(created), 0)::int as created, coalesce(sum(merged), 0)::int as merged,
              coalesce(sum(declined), 0)::int as declined,
              (select count(*)::int from pull_requests p where p.state = 'OPEN' ${filters.sql}
                  and p.created_on < coalesce(?::timestamptz, 'infinity')) as open
         from (${events.sql}) e`,
      [...filters.bindings, iso(scope.end), ...events.bindings],
    )
  ).rows[0];

  // Merged pull requests in range with their first review by someone other than the author.
  const merged = inRange(scope, 'p.merged_on');
  const { rows: phases } = await trx.raw(
    `with m as (
       select p.created_on, p.merged_on,
              (select min(pp.participated_on) from pull_request_participants pp
                where pp.repository_id = p.repository_id and pp.pull_request_id = p.id
                  and pp.participated_on is not null
                  and (pp.role = 'REVIEWER' or pp.approved or pp.state is not null)
                  and pp.user_uuid is distinct from p.author_uuid) as first_review
         from pull_requests p
        where p.state = 'MERGED' and p.merged_on is not null ${filters.sql} ${merged.sql}
     ),
     h as (
       select extract(epoch from merged_on - created_on) / 3600 as to_merge,
              extract(epoch from first_review - created_on) / 3600 as to_review,
              extract(epoch from merged_on - first_review) / 3600 as review_to_merge
         from m
     )
     select ${percentilesJson('to_merge')} as to_merge,
            ${percentilesJson('to_review')} as to_review,
            ${percentilesJson('review_to_merge')} as review_to_merge,
            array[${HISTOGRAM.map((b, i) => {
              const lo = i === 0 ? null : HISTOGRAM[i - 1]!.max_hours;
              const cond = [lo === null ? null : `to_merge >= ${lo}`, b.max_hours === null ? null : `to_merge < ${b.max_hours}`]
                .filter(Boolean)
                .join(' and ');
              return `count(*) filter (where ${cond})::int`;
            }).join(', ')}] as histogram
       from h`,
    [...filters.bindings, ...merged.bindings],
  );
  const phase = phases[0] as {
    to_merge: Percentiles;
    to_review: Percentiles;
    review_to_merge: Percentiles;
    histogram: number[];
  };

  const reviewerFilters = prFilters(scope, 'pp.display_name');
  const activity = inRange(scope, 'coalesce(pp.participated_on, p.created_on)');
  const { rows: reviewers } = await trx.raw(
    `select pp.account_id, max(pp.display_name) as display_name,
            count(distinct (pp.repository_id, pp.pull_request_id))::int as reviews,
            count(*) filter (where pp.approved)::int as approvals,
            count(*) filter (where pp.state = 'changes_requested')::int as changes_requested
       from pull_request_participants pp
       join pull_requests p on p.tenant_id = pp.tenant_id and p.repository_id = pp.repository_id and p.id = pp.pull_request_id
      where pp.user_uuid is distinct from p.author_uuid
        and (pp.role = 'REVIEWER' or pp.approved or pp.state is not null)
        ${reviewerFilters.sql} ${activity.sql}
      group by pp.account_id, pp.user_uuid
      order by reviews desc, approvals desc, display_name`,
    [...reviewerFilters.bindings, ...activity.bindings],
  );

  return {
    series,
    totals: totalsRow,
    time_to_merge: {
      ...round(phase.to_merge),
      histogram: HISTOGRAM.map((b, i) => ({ ...b, count: phase.histogram[i] ?? 0 })),
    },
    cycle_time: {
      time_to_first_review: round(phase.to_review),
      review_to_merge: round(phase.review_to_merge),
    },
    reviewers,
  };
}
