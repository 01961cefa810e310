import type { Trx } from '../db/database';
import {
  BINS_PER_OCTAVE,
  durationBinsSql,
  durationSql,
  HISTOGRAM_HOURS,
  METRICS,
  PROJECT_PR_ROLLUPS,
  REPOSITORY_PR_ROLLUPS,
  WORKSPACE_PR_ROLLUPS,
  type PullRequestRollups,
  type RollupGrain,
} from './pull-request-facts';
import type { PullRequestPeople } from './identities';
import type { Scope } from './scope';
import { densePeriods, type Interval } from './series';
import { GRAINS, tileRange } from './time-buckets';
import type { Fragment } from './upkeep';

/**
 * Pull-request statistics from pull-request facts and rollups (pull-request-facts.ts, docs/analytics.md): the
 * workspace's rollups, the per-project ones when the scope is whole projects (scope.projectIds, as for commits), or
 * the per-repository ones when filtered by repository (UTC days, months and years; facts for
 * ragged range ends and, for the series, zones other than UTC); answers filtered by person (author=, reviewer=,
 * team=) read the facts (one row per pull request or review). Percentiles are exact (percentile_cont over the merged
 * pull requests) up to EXACT_PERCENTILES_UP_TO merged pull requests in scope, and interpolated from log-spaced bins
 * above that. `merges` and `exclusions` do not
 * apply to pull requests; `bots` drops pull requests whose author name matches a bot pattern, and reviewers whose
 * name does.
 */

/** Up to this many merged pull requests in scope, percentiles are computed exactly from the facts. */
export const EXACT_PERCENTILES_UP_TO = 5000;

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

const HISTOGRAM_LABELS = [
  '< 1 hour',
  '1–4 hours',
  '4–24 hours',
  '1–3 days',
  '3–7 days',
  '1–4 weeks',
  '> 4 weeks',
];
const FRACTIONS = [0.5, 0.75, 0.9, 0.95];

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const join = (pieces: Fragment[]): Fragment => ({
  sql: pieces.map((p) => p.sql).join('\nunion all\n'),
  bindings: pieces.flatMap((p) => p.bindings),
});

/** `and …` conditions, one after the other. */
const all = (conditions: Fragment[]): Fragment => ({
  sql: conditions.map((c) => c.sql).join(' '),
  bindings: conditions.flatMap((c) => c.bindings),
});

/** `and …` restricting alias (a pull request or a fact: repository_id) to the scope's repositories, where filtered. */
const repositoryFilter = (scope: Scope, alias: string): Fragment =>
  scope.repositoryIds === null
    ? { sql: '', bindings: [] }
    : { sql: `and ${alias}.repository_id = any(?::bigint[])`, bindings: [scope.repositoryIds] };

/** True when the scope names people: no rollup has them, the facts answer. */
const filtered = (scope: Scope) => scope.pullRequestAuthors.length > 0 || scope.pullRequestReviewer !== null;

/**
 * The rollups of a scope without people: per project when it is whole projects whose rollups hold exactly its
 * repositories' pull requests (scope.projectIds, resolved as for commit statistics: project= alone, no move
 * pending), else per repository when filtered by repository, else the workspace's.
 */
export const pullRequestRollupsFor = (scope: Scope): PullRequestRollups =>
  scope.projectIds
    ? PROJECT_PR_ROLLUPS
    : scope.repositoryIds === null
      ? WORKSPACE_PR_ROLLUPS
      : REPOSITORY_PR_ROLLUPS;

/** `and …` restricting alias r (a row of pullRequestRollupsFor(scope)) to the scope's projects or repositories. */
function rollupScope(scope: Scope): Fragment {
  if (scope.projectIds) return { sql: 'and r.project_id = any(?::bigint[])', bindings: [scope.projectIds] };
  return repositoryFilter(scope, 'r');
}

/**
 * `and …` restricting alias (a pull request, or a pull-request or review fact: each has the pull request's author
 * as account id and lower-cased uuid) to pull requests authored by each author set (author=, team=). Uuids are
 * compared in their stored lower-cased columns: under RLS an index on lower() is never used (202612089000).
 */
function authorFilters(scope: Scope, alias: string): Fragment {
  return {
    sql: scope.pullRequestAuthors
      .map(
        () =>
          `and (${alias}.author_account_id = any(?::text[]) or ${alias}.author_uuid_lower = any(?::text[]))`,
      )
      .join(' '),
    bindings: scope.pullRequestAuthors.flatMap((people) => [people.accountIds, people.uuids]),
  };
}

/** The pull requests the scope's reviewer (reviewer=) reviewed, as (repository_id, id), by the index by reviewer. */
function reviewedKeys(reviewer: PullRequestPeople): Fragment {
  return {
    sql: `select v.repository_id, v.pull_request_id as id from pull_request_review_facts v
           where v.user_uuid_lower = any(?::text[])`,
    bindings: [reviewer.uuids],
  };
}

/** `and …` restricting alias p (a pull request: repository_id, id) to the scope's repositories and people (the export). */
export function pullRequestFilters(scope: Scope, alias = 'p'): Fragment {
  const reviewed: Fragment =
    scope.pullRequestReviewer === null ? { sql: '', bindings: [] } : reviewedKeys(scope.pullRequestReviewer);
  return all([
    repositoryFilter(scope, alias),
    authorFilters(scope, alias),
    {
      sql: reviewed.sql && `and (${alias}.repository_id, ${alias}.id) in (${reviewed.sql})`,
      bindings: reviewed.bindings,
    },
  ]);
}

/**
 * The scope's pull-request facts as the from-item `f`. With reviewer=, the pull requests that person reviewed are
 * found first (index by reviewer) and their facts read one by one (lateral, `offset 0` keeps it a loop): the planner,
 * unable to tell how few they are, would otherwise hash every fact in range (50,000 pull requests) per statement.
 */
function factsFrom(scope: Scope): Fragment {
  if (scope.pullRequestReviewer === null) return { sql: 'pull_request_facts f', bindings: [] };
  const keys = reviewedKeys(scope.pullRequestReviewer);
  return {
    sql: `(select x.* from (select distinct k.repository_id, k.id from (${keys.sql}) k) k
             cross join lateral (select * from pull_request_facts x
                                  where x.repository_id = k.repository_id and x.pull_request_id = k.id offset 0) x) f`,
    bindings: keys.bindings,
  };
}

/** `and …` restricting alias f (pull-request facts from factsFrom) to the scope's repositories, authors and bots. */
function factFilters(scope: Scope): Fragment {
  return all([
    repositoryFilter(scope, 'f'),
    authorFilters(scope, 'f'),
    { sql: scope.bots === 'exclude' ? 'and not f.is_bot' : '', bindings: [] },
  ]);
}

/** `and col >= from and col < to`, open ends unbounded. */
function between(column: string, from: number | null, to: number | null): Fragment {
  return {
    sql: `and ${column} >= coalesce(?::timestamptz, '-infinity') and ${column} < coalesce(?::timestamptz, 'infinity')`,
    bindings: [iso(from), iso(to)],
  };
}

/**
 * The scope's range as rollup tiles (whole UTC days, months, years) and ragged ends (to be read from facts), for
 * workspace-wide rollups that hold days, months and years.
 */
function tiles(scope: Scope): {
  rollups: { grain: RollupGrain; from: number; to: number }[];
  ends: [number | null, number | null][];
} {
  const day = GRAINS.day;
  const start = scope.start ?? Date.UTC(1000, 0, 1);
  const end = scope.end ?? Date.UTC(9000, 0, 1);
  const dayStart = day.floor(start) === start ? start : day.next(day.floor(start));
  const dayEnd = Math.max(day.floor(end), dayStart);
  const ends: [number | null, number | null][] = [];
  if (start < Math.min(dayStart, end)) ends.push([scope.start, Math.min(dayStart, end)]);
  if (Math.max(dayEnd, dayStart) < end) ends.push([Math.max(dayEnd, dayStart), scope.end]);
  // A range wholly outside the years rollups cover tiles into nothing: one empty end keeps the SQL whole.
  if (ends.length === 0 && dayStart >= dayEnd) ends.push([start, start]);
  const rollups = tileRange(dayStart, dayEnd, ['day', 'month', 'year']).map((p) => ({
    grain: p.grain as RollupGrain,
    from: p.from,
    to: p.to,
  }));
  return { rollups, ends };
}

/** Created / merged / declined events in the scope's range, as rows (at, created, merged, declined). */
function events(scope: Scope): Fragment {
  if (!filtered(scope) && scope.shape.alwaysUtc) {
    // UTC days tile the range (since and until are UTC midnights): the daily rollup is exact.
    const range = between('r.bucket', scope.start, scope.end);
    const repositories = rollupScope(scope);
    return {
      sql: `select r.bucket as at, r.created, r.merged, r.declined from ${pullRequestRollupsFor(scope).daily} r
             where true ${range.sql} ${repositories.sql} ${scope.bots === 'exclude' ? 'and not r.is_bot' : ''}`,
      bindings: [...range.bindings, ...repositories.bindings],
    };
  }
  const facts = factsFrom(scope);
  const filters = factFilters(scope);
  if (filtered(scope)) {
    // A person's few pull requests: one pass over them, each giving up to three events.
    const range = between('e.at', scope.start, scope.end);
    return {
      sql: `select e.at, e.created, e.merged, e.declined from ${facts.sql}
             cross join lateral (values (f.created_on, 1, 0, 0), (f.merged_on, 0, 1, 0), (f.declined_on, 0, 0, 1))
                                 as e(at, created, merged, declined)
             where e.at is not null ${range.sql} ${filters.sql}`,
      bindings: [...facts.bindings, ...range.bindings, ...filters.bindings],
    };
  }
  return join(
    (['created_on', 'merged_on', 'declined_on'] as const).map((column, i) => {
      const range = between(`f.${column}`, scope.start, scope.end);
      const flags = ['created', 'merged', 'declined'].map((name, j) => `${i === j ? 1 : 0} as ${name}`);
      return {
        sql: `select f.${column} as at, ${flags.join(', ')} from ${facts.sql} where true ${range.sql} ${filters.sql}`,
        bindings: [...facts.bindings, ...range.bindings, ...filters.bindings],
      };
    }),
  );
}

/**
 * Reviews per reviewer (user uuid) in the scope's range, as rows (user_uuid, reviews, approvals,
 * changes_requested): reviewer rollups (the workspace's or per repository) and review facts at ragged ends; review
 * facts alone when people are filtered.
 */
function reviewCounts(scope: Scope): Fragment {
  const facts = (from: number | null, to: number | null): Fragment => {
    const filters = all([
      between('f.reviewed_at', from, to),
      repositoryFilter(scope, 'f'),
      // Review facts carry the pull request's author: author= and team= apply to them directly.
      authorFilters(scope, 'f'),
      // With reviewer=, that person's reviews only (of the pull requests in scope), by the index by reviewer.
      scope.pullRequestReviewer === null
        ? { sql: '', bindings: [] }
        : { sql: 'and f.user_uuid_lower = any(?::text[])', bindings: [scope.pullRequestReviewer.uuids] },
    ]);
    return {
      sql: `select f.user_uuid, 1 as reviews, f.approved::int as approvals, f.changes_requested::int as changes_requested
              from pull_request_review_facts f where true ${filters.sql}`,
      bindings: filters.bindings,
    };
  };
  if (filtered(scope)) return facts(scope.start, scope.end);
  const { rollups, ends } = tiles(scope);
  const repositories = rollupScope(scope);
  return join([
    ...ends.map(([from, to]) => facts(from, to)),
    ...rollups.map((piece) => ({
      sql: `select r.user_uuid, r.reviews, r.approvals, r.changes_requested
              from ${pullRequestRollupsFor(scope).reviewers[piece.grain]} r
             where r.bucket >= ? and r.bucket < ? ${repositories.sql}`,
      bindings: [iso(piece.from), iso(piece.to), ...repositories.bindings],
    })),
  ]);
}

/** Merged pull requests per (metric, bin) in a scope without people: duration rollups and binned facts at the ends. */
async function durationBins(trx: Trx, scope: Scope): Promise<Map<number, Map<number, number>>> {
  const filters = factFilters(scope);
  const repositories = rollupScope(scope);
  const { rollups, ends } = tiles(scope);
  const source = join([
    ...ends.map(([from, to]) => {
      const range = between('f.merged_on', from, to);
      return {
        sql: `select m.metric, m.bin, 1 as merged from pull_request_facts f
                cross join lateral ${durationBinsSql('f')} as m(metric, bin)
               where f.merged_on is not null and m.bin is not null ${range.sql} ${filters.sql}`,
        bindings: [...range.bindings, ...filters.bindings],
      };
    }),
    ...rollups.map((piece) => ({
      sql: `select r.metric, r.bin, r.merged from ${pullRequestRollupsFor(scope).durations[piece.grain]} r
             where r.bucket >= ? and r.bucket < ? ${repositories.sql} ${scope.bots === 'exclude' ? 'and not r.is_bot' : ''}`,
      bindings: [iso(piece.from), iso(piece.to), ...repositories.bindings],
    })),
  ]);
  const { rows } = await trx.raw(
    `select src.metric, src.bin, sum(src.merged)::int as merged from (${source.sql}) src group by 1, 2`,
    source.bindings,
  );
  const out = new Map<number, Map<number, number>>();
  for (const r of rows as { metric: number; bin: number; merged: number }[]) {
    if (r.merged <= 0) continue;
    if (!out.has(r.metric)) out.set(r.metric, new Map());
    out.get(r.metric)!.set(r.bin, r.merged);
  }
  return out;
}

/** The hours a log-spaced bin holds at a fraction (0–1) of its way: geometric inside the bin, linear under a minute. */
const hoursIn = (bin: number, fraction: number) =>
  bin < 0 ? fraction / 60 : 2 ** ((bin + fraction) / BINS_PER_OCTAVE) / 60;

/** Percentiles of binned durations: each order statistic placed at its share of its bin (error under one bin). */
function binnedPercentiles(bins: Map<number, number> = new Map()): Percentiles {
  const sorted = [...bins.entries()].sort((a, b) => a[0] - b[0]);
  const count = sorted.reduce((s, [, n]) => s + n, 0);
  const at = (fraction: number): number | null => {
    if (count === 0) return null;
    const rank = fraction * (count - 1);
    let before = 0;
    for (const [bin, n] of sorted) {
      if (rank < before + n) return hoursIn(bin, (rank - before + 0.5) / n);
      before += n;
    }
    return hoursIn(sorted.at(-1)![0], 1);
  };
  const [p50, p75, p90, p95] = FRACTIONS.map(at) as [
    number | null,
    number | null,
    number | null,
    number | null,
  ];
  return { count, p50, p75, p90, p95 };
}

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

const round = (p: Percentiles): Percentiles => {
  const r = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  return { count: p.count, p50: r(p.p50), p75: r(p.p75), p90: r(p.p90), p95: r(p.p95) };
};

interface Durations {
  toMerge: Percentiles;
  toReview: Percentiles;
  reviewToMerge: Percentiles;
  histogram: number[];
}

/** Exact durations of the pull requests merged in range (facts). */
async function exactDurations(trx: Trx, scope: Scope): Promise<Durations> {
  const facts = factsFrom(scope);
  const filters = factFilters(scope);
  const merged = between('f.merged_on', scope.start, scope.end);
  const d = durationSql('f');
  const { rows } = await trx.raw(
    `with h as materialized (
       select ${d.toMerge} as to_merge, ${d.toReview} as to_review, ${d.reviewToMerge} as review_to_merge
         from ${facts.sql}
        where f.merged_on is not null ${merged.sql} ${filters.sql}
     )
     select ${percentilesSql('to_merge', 'to_merge')},
            ${percentilesSql('to_review', 'to_review')},
            ${percentilesSql('review_to_merge', 'review_to_merge')},
            array[${[...HISTOGRAM_HOURS, null]
              .map((hi, i) => {
                const lo = i === 0 ? null : HISTOGRAM_HOURS[i - 1]!;
                const cond = [
                  lo === null ? null : `to_merge >= ${lo}`,
                  hi === null ? null : `to_merge < ${hi}`,
                ]
                  .filter(Boolean)
                  .join(' and ');
                return `count(*) filter (where ${cond})::int`;
              })
              .join(', ')}] as histogram
       from h`,
    [...facts.bindings, ...merged.bindings, ...filters.bindings],
  );
  const row = rows[0] as Record<string, unknown> & { histogram: number[] };
  return {
    toMerge: percentilesOf(row, 'to_merge'),
    toReview: percentilesOf(row, 'to_review'),
    reviewToMerge: percentilesOf(row, 'review_to_merge'),
    histogram: row.histogram,
  };
}

/** Durations of the merged pull requests in scope: exact when few (or filtered by person), else binned. */
async function durations(trx: Trx, scope: Scope): Promise<Durations> {
  if (filtered(scope)) return exactDurations(trx, scope);
  const bins = await durationBins(trx, scope);
  const histogram = HISTOGRAM_LABELS.map((_l, i) => bins.get(METRICS.histogram)?.get(i) ?? 0);
  if (histogram.reduce((a, b) => a + b, 0) <= EXACT_PERCENTILES_UP_TO) return exactDurations(trx, scope);
  return {
    toMerge: binnedPercentiles(bins.get(METRICS.toMerge)),
    toReview: binnedPercentiles(bins.get(METRICS.toReview)),
    reviewToMerge: binnedPercentiles(bins.get(METRICS.reviewToMerge)),
    histogram,
  };
}

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
  const facts = factsFrom(scope);
  const filters = factFilters(scope);
  // The dense series covers every event in range, so its sums are the totals.
  const open: number = (
    await trx.raw(
      `select count(*)::int as open from ${facts.sql}
        where f.is_open and f.created_on < coalesce(?::timestamptz, 'infinity') ${filters.sql}`,
      [...facts.bindings, iso(scope.end), ...filters.bindings],
    )
  ).rows[0].open;
  const sum = (k: 'created' | 'merged' | 'declined') => series.reduce((s, p) => s + Number(p[k]), 0);
  const totals = { created: sum('created'), merged: sum('merged'), declined: sum('declined'), open };

  const merged = await durations(trx, scope);

  // A reviewer's name is the one on the latest written participant row (pull_request_reviewers).
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
       from r left join pull_request_reviewers n on n.user_uuid = r.user_uuid
      where ${scope.bots === 'include' ? 'true' : `not exists (select 1 from unnest(?::text[]) b where strpos(lower(coalesce(n.display_name, '')), b) > 0)`}
      order by r.reviews desc, r.approvals desc, n.display_name, r.user_uuid`,
    [...reviews.bindings, ...(scope.bots === 'include' ? [] : [scope.botPatterns])],
  );

  return {
    series,
    totals,
    time_to_merge: {
      ...round(merged.toMerge),
      histogram: HISTOGRAM_LABELS.map((label, i) => ({
        label,
        max_hours: HISTOGRAM_HOURS[i] ?? null,
        count: merged.histogram[i] ?? 0,
      })),
    },
    cycle_time: {
      time_to_first_review: round(merged.toReview),
      review_to_merge: round(merged.reviewToMerge),
    },
    reviewers,
  };
}
