import type { Knex } from 'knex';
import type { Trx } from '../db/database';
import { REVIEWER_ROLLUPS } from './pull-request-facts';
import type { Scope } from './scope';
import { densePeriods, type Interval } from './series';
import { GRAINS, tileRange } from './time-buckets';

/**
 * Pull-request statistics, read from pull-request facts and rollups (pull-request-facts.ts): workspace-wide series
 * in UTC from the daily rollup, reviewers from the reviewer rollups; anything filtered by repository, and series
 * in other zones, from the facts (one row per pull request or review, far fewer than commits). Percentiles are
 * exact (percentile_cont over the merged pull requests in range). `merges` and `exclusions` do not apply to pull
 * requests; `bots` drops pull requests whose author name matches a bot pattern, and reviewers whose name does.
 */

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

interface Fragment {
  sql: string;
  bindings: Knex.Value[];
}

/** `and …` restricting alias f (pull-request facts) to the scope's repositories and, unless included, non-bots. */
function factFilters(scope: Scope): Fragment {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  if (scope.repositoryIds !== null) {
    parts.push('and f.repository_id = any(?::bigint[])');
    bindings.push(scope.repositoryIds);
  }
  if (scope.bots === 'exclude') parts.push('and not f.is_bot');
  return { sql: parts.join(' '), bindings };
}

/** `and col >= from and col < to`, open ends unbounded. */
function between(column: string, from: number | null, to: number | null): Fragment {
  return {
    sql: `and ${column} >= coalesce(?::timestamptz, '-infinity') and ${column} < coalesce(?::timestamptz, 'infinity')`,
    bindings: [iso(from), iso(to)],
  };
}

/** Created / merged / declined events in the scope's range, as rows (at, created, merged, declined). */
function events(scope: Scope): Fragment {
  if (scope.repositoryIds === null && scope.shape.alwaysUtc) {
    // UTC days tile the range (since and until are UTC midnights): the daily rollup is exact.
    const range = between('r.bucket', scope.start, scope.end);
    return {
      sql: `select r.bucket as at, r.created, r.merged, r.declined from pull_request_rollups_daily r
             where true ${range.sql} ${scope.bots === 'exclude' ? 'and not r.is_bot' : ''}`,
      bindings: range.bindings,
    };
  }
  const filters = factFilters(scope);
  const parts = (['created_on', 'merged_on', 'declined_on'] as const).map((column, i) => {
    const range = between(`f.${column}`, scope.start, scope.end);
    const flags = [0, 1, 2].map((j) => (i === j ? 1 : 0)).join(', ');
    return {
      sql: `select f.${column} as at, ${flags} from pull_request_facts f where true ${range.sql} ${filters.sql}`,
      bindings: [...range.bindings, ...filters.bindings],
    };
  });
  return {
    sql: parts.map((p) => p.sql).join('\nunion all\n'),
    bindings: parts.flatMap((p) => p.bindings),
  };
}

/**
 * Reviews per reviewer (user uuid) in the scope's range: whole UTC days, months and years from the reviewer rollups,
 * review facts at ragged ends; review facts alone when repositories are filtered (the rollups are workspace-wide).
 */
function reviewCounts(scope: Scope): Fragment {
  const facts = (from: number | null, to: number | null): Fragment | null => {
    if (from !== null && to !== null && from >= to) return null;
    const range = between('f.reviewed_at', from, to);
    const repositories =
      scope.repositoryIds === null
        ? { sql: '', bindings: [] }
        : { sql: 'and f.repository_id = any(?::bigint[])', bindings: [scope.repositoryIds] };
    return {
      sql: `select f.user_uuid, 1 as reviews, f.approved::int as approvals, f.changes_requested::int as changes_requested
              from pull_request_review_facts f where true ${range.sql} ${repositories.sql}`,
      bindings: [...range.bindings, ...repositories.bindings],
    };
  };
  if (scope.repositoryIds !== null) return facts(scope.start, scope.end)!;
  const day = GRAINS.day;
  const start = scope.start ?? Date.UTC(1000, 0, 1);
  const end = scope.end ?? Date.UTC(9000, 0, 1);
  const dayStart = day.floor(start) === start ? start : day.next(day.floor(start));
  const dayEnd = Math.max(day.floor(end), dayStart);
  const tables = Object.fromEntries(REVIEWER_ROLLUPS.map((r) => [r.grain, r.table]));
  const pieces: (Fragment | null)[] = [
    facts(scope.start, Math.min(dayStart, end)),
    ...tileRange(dayStart, dayEnd, ['day', 'month', 'year']).map((piece) => ({
      sql: `select r.user_uuid, r.reviews, r.approvals, r.changes_requested from ${tables[piece.grain]} r
             where r.bucket >= ? and r.bucket < ?`,
      bindings: [iso(piece.from), iso(piece.to)],
    })),
    facts(Math.max(dayEnd, dayStart), scope.end),
  ];
  const present = pieces.filter((p): p is Fragment => p !== null);
  return {
    sql: present.map((p) => p.sql).join('\nunion all\n'),
    bindings: present.flatMap((p) => p.bindings),
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
  const series = await densePeriods<PullRequestPoint>(trx, scope, interval, events(scope), {
    created: 'sum(src.created)',
    merged: 'sum(src.merged)',
    declined: 'sum(src.declined)',
  });
  const filters = factFilters(scope);
  // The dense series covers every event in range, so its sums are the totals.
  const open: number = (
    await trx.raw(
      `select count(*)::int as open from pull_request_facts f
        where f.is_open and f.created_on < coalesce(?::timestamptz, 'infinity') ${filters.sql}`,
      [iso(scope.end), ...filters.bindings],
    )
  ).rows[0].open;
  const sum = (k: 'created' | 'merged' | 'declined') => series.reduce((s, p) => s + Number(p[k]), 0);
  const totals = { created: sum('created'), merged: sum('merged'), declined: sum('declined'), open };

  // Pull requests merged in range, with their first review by someone other than the author (facts).
  const merged = between('f.merged_on', scope.start, scope.end);
  const { rows: phases } = await trx.raw(
    `with h as materialized (
       select extract(epoch from f.merged_on - f.created_on) / 3600 as to_merge,
              extract(epoch from f.first_review_on - f.created_on) / 3600 as to_review,
              extract(epoch from f.merged_on - f.first_review_on) / 3600 as review_to_merge
         from pull_request_facts f
        where f.merged_on is not null ${merged.sql} ${filters.sql}
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
    [...merged.bindings, ...filters.bindings],
  );
  const phase = phases[0] as Record<string, unknown> & { histogram: number[] };

  // Reviewers by user uuid; their names (and accounts) are looked up once each, and bot reviewers dropped by name.
  const reviews = reviewCounts(scope);
  const { rows: reviewers } = await trx.raw(
    `with r as (
       select src.user_uuid, sum(src.reviews)::int as reviews, sum(src.approvals)::int as approvals,
              sum(src.changes_requested)::int as changes_requested
         from (${reviews.sql}) src
        group by 1
       having sum(src.reviews) > 0
     )
     select n.account_id, n.display_name, r.reviews, r.approvals, r.changes_requested
       from r
       left join lateral (
         select x.account_id, x.display_name from pull_request_participants x
          where x.tenant_id = current_setting('app.tenant_id')::uuid and x.user_uuid = r.user_uuid
          order by x.display_name desc nulls last limit 1
       ) n on true
      where ${scope.bots === 'include' ? 'true' : `not exists (select 1 from unnest(?::text[]) b where strpos(lower(coalesce(n.display_name, '')), b) > 0)`}
      order by r.reviews desc, r.approvals desc, n.display_name, r.user_uuid`,
    [...reviews.bindings, ...(scope.bots === 'include' ? [] : [scope.botPatterns])],
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
