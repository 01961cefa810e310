import type { Knex } from 'knex';
import type { Trx } from '../db/database';
import { HttpError } from '../platform/errors';
import { addDays, sourceFor, type Scope } from './scope';

export type Interval = 'day' | 'week' | 'month';

/** The most periods a series answers: ten years of days (whatever the interval), so an answer stays small. */
export const MAX_SERIES_BUCKETS = 3653;

/**
 * Totals per local period, every period present (zeros for quiet ones): from `since` to the day before `until`
 * when given, else from the first to the last period with data. `aggregates` maps output columns to aggregate
 * expressions over `rows`, a subquery with a timestamptz column `at`. A series of more than MAX_SERIES_BUCKETS
 * periods is refused (range_too_large): the statement counts the periods before generating any, so a range of
 * thousands of years costs no more than the data in it.
 */
export async function densePeriods<T>(
  trx: Trx,
  scope: Scope,
  interval: Interval,
  rows: { sql: string; bindings: Knex.Value[] },
  aggregates: Record<string, string>,
): Promise<(T & { period: string })[]> {
  const names = Object.keys(aggregates);
  const last = scope.until === null ? null : addDays(scope.until, -1);
  const { rows: out } = await trx.raw(
    `with agg as (
       select date_trunc(?, src.at at time zone ?) as period,
              ${names.map((n) => `${aggregates[n]} as ${n}`).join(', ')}
         from (${rows.sql}) src group by 1
     ),
     bounds as (
       select coalesce(date_trunc(?, ?::timestamp), min(period)) as lo,
              coalesce(date_trunc(?, ?::timestamp), max(period)) as hi
         from agg
     ),
     size as (
       select lo, hi, case ?::text
                when 'day' then hi::date - lo::date
                when 'week' then (hi::date - lo::date) / 7
                else (extract(year from hi) - extract(year from lo)) * 12 + extract(month from hi) - extract(month from lo)
              end::bigint + 1 as buckets
         from bounds
     )
     select to_char(g.period, 'YYYY-MM-DD') as period, size.buckets as series_buckets,
            ${names.map((n) => `coalesce(a.${n}, 0)::bigint as ${n}`).join(', ')}
       from size
      cross join generate_series(size.lo, case when size.buckets <= ? then size.hi else size.lo end, ?::interval) as g(period)
       left join agg a on a.period = g.period
      order by g.period`,
    [
      interval,
      scope.timezone,
      ...rows.bindings,
      interval,
      scope.since,
      interval,
      last,
      interval,
      MAX_SERIES_BUCKETS,
      `1 ${interval}`,
    ],
  );
  const buckets = (out[0] as { series_buckets?: number } | undefined)?.series_buckets ?? 0;
  if (buckets > MAX_SERIES_BUCKETS)
    throw new HttpError(
      'range_too_large',
      `a series has at most ${MAX_SERIES_BUCKETS} periods (ten years of days); this one would have ${buckets}: narrow since/until or take a longer interval`,
    );
  return (out as (T & { period: string; series_buckets?: number })[]).map(
    ({ series_buckets: _b, ...point }) => point as T & { period: string },
  );
}

export interface PeriodTotals {
  /** The first local day of the period (weeks start on Monday). */
  period: string;
  commits: number;
  lines_added: number;
  lines_removed: number;
  /**
   * Lines in the code at the end of the period: added − removed by every commit in scope up to then, counted from
   * the first commit even when the range starts later (code frequency's running total).
   */
  lines_total: number;
}

/** Commits and lines per local day, week or month (code frequency is this by week), with the running total. */
export async function activitySeries(trx: Trx, scope: Scope, interval: Interval): Promise<PeriodTotals[]> {
  const series = await densePeriods<Omit<PeriodTotals, 'lines_total'>>(
    trx,
    scope,
    interval,
    sourceFor(scope, 'days'),
    {
      commits: 'sum(src.commits)',
      lines_added: 'sum(src.lines_added)',
      lines_removed: 'sum(src.lines_removed)',
    },
  );
  let total = series.length === 0 || scope.start === null ? 0 : await netLinesBefore(trx, scope);
  return series.map((p) => ({
    ...p,
    lines_total: (total += Number(p.lines_added) - Number(p.lines_removed)),
  }));
}

/** Lines added − removed by the scope's commits before its range starts (rollups, as any total). */
async function netLinesBefore(trx: Trx, scope: Scope): Promise<number> {
  const earlier: Scope = { ...scope, since: null, until: scope.since, start: null, end: scope.start };
  const source = sourceFor(earlier, 'totals');
  const { rows } = await trx.raw(
    `select coalesce(sum(src.lines_added - src.lines_removed), 0)::bigint as net from (${source.sql}) src`,
    source.bindings,
  );
  return Number((rows[0] as { net: string | number }).net);
}

export interface CalendarDay {
  date: string;
  commits: number;
}

/** Daily commit counts over the scope's range, which the caller bounds (a year for the profile tab). */
export async function calendarDays(trx: Trx, scope: Scope): Promise<CalendarDay[]> {
  const days = await densePeriods<{ commits: number }>(trx, scope, 'day', sourceFor(scope, 'days'), {
    commits: 'sum(src.commits)',
  });
  return days.map((d) => ({ date: d.period, commits: d.commits }));
}

/** Commits by local weekday (0 = Sunday) and hour: counts[weekday][hour]. */
export async function punchCard(trx: Trx, scope: Scope): Promise<number[][]> {
  const counts = Array.from({ length: 7 }, () => Array<number>(24).fill(0));
  const source = sourceFor(scope, 'hours');
  const { rows } = await trx.raw(
    `select extract(dow from src.at at time zone ?)::int as weekday, extract(hour from src.at at time zone ?)::int as hour,
            sum(src.commits)::bigint as commits
       from (${source.sql}) src group by 1, 2`,
    [scope.timezone, scope.timezone, ...source.bindings],
  );
  for (const r of rows as { weekday: number; hour: number; commits: number }[])
    counts[r.weekday]![r.hour] = r.commits;
  return counts;
}
