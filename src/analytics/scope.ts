import type { Knex } from 'knex';
import type { Trx } from '../db/database';
import { badRequest, notFound } from '../platform/errors';
import { membersOf, resolveContributor } from './identities';
import { CONTRIBUTOR_TABLES, WORKSPACE_TABLES } from './rollups';
import { effectiveBotPatterns, loadSettings } from './rules';
import { ceilHour, floorHour, tileRange } from './time-buckets';
import { validZone, zoneShape, type ZoneShape } from './timezones';

export type Merges = 'exclude' | 'include' | 'only';
export type Bots = 'exclude' | 'include';
export type Exclusions = 'apply' | 'ignore';

/** The filters every analytics endpoint takes, already checked for form by the API layer. */
export interface StatsFilters {
  /** Repository uuids, braced and lower-case; empty = the whole workspace. */
  repositories: string[];
  /** Local dates (YYYY-MM-DD) in the effective zone; half-open [since, until). */
  since?: string;
  until?: string;
  merges: Merges;
  bots: Bots;
  exclusions: Exclusions;
  tz?: string;
  /** A contributor key (`a:…`, `e:…`) or Bitbucket user uuid. */
  contributor?: string;
}

export interface Scope {
  repositoryIds: number[] | null;
  contributorIds: number[] | null;
  merges: Merges;
  bots: Bots;
  exclusions: Exclusions;
  timezone: string;
  shape: ZoneShape;
  since: string | null;
  until: string | null;
  /** The instants of since and until (ms), or null when open. */
  start: number | null;
  end: number | null;
  /** Today's date in the effective zone. */
  today: string;
  /** Lower-cased bot substrings (for tables without facts: pull requests). */
  botPatterns: string[];
}

/** Plain date arithmetic (no zone involved): '2024-02-28' + 2 → '2024-03-01'. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Fills in a range the request left open, from today's date in the effective zone (e.g. "the last year"). */
export type RangeDefaults = (today: string, given: { since?: string; until?: string }) => {
  since?: string;
  until?: string;
};

/** Resolves filters against the tenant's data and settings: ids, zone, instants. */
export async function resolveScope(
  trx: Trx,
  filters: StatsFilters,
  now: Date,
  defaults?: RangeDefaults,
): Promise<Scope> {
  const settings = await loadSettings(trx);
  const timezone = await validZone(trx, filters.tz ?? settings.timezone);
  let repositoryIds: number[] | null = null;
  if (filters.repositories.length > 0) {
    const rows = await trx('repositories')
      .select('id')
      .whereRaw('lower(uuid) = any(?::text[])', [filters.repositories]);
    repositoryIds = rows.map((r: { id: number }) => r.id);
  }
  let contributorIds: number[] | null = null;
  if (filters.contributor !== undefined) {
    const root = await resolveContributor(trx, filters.contributor);
    if (root === null) throw notFound(`no contributor ${filters.contributor}`);
    contributorIds = await membersOf(trx, root);
  }
  const today: string = (
    await trx.raw(`select (?::timestamptz at time zone ?)::date::text as today`, [now.toISOString(), timezone])
  ).rows[0].today;
  const range = defaults ? defaults(today, filters) : { since: filters.since, until: filters.until };
  const since = range.since ?? null;
  const until = range.until ?? null;
  if (since !== null && until !== null && since >= until) throw badRequest('until: must be after since');
  const { rows } = await trx.raw(
    `select (extract(epoch from (?::date::timestamp at time zone ?)) * 1000)::float8 as start,
            (extract(epoch from (?::date::timestamp at time zone ?)) * 1000)::float8 as end`,
    [since, timezone, until, timezone],
  );
  const times = rows[0] as { start: number | null; end: number | null };
  return {
    repositoryIds,
    contributorIds,
    merges: filters.merges,
    bots: filters.bots,
    exclusions: filters.exclusions,
    timezone,
    shape: zoneShape(timezone),
    since,
    until,
    start: times.start,
    end: times.end,
    today,
    botPatterns: effectiveBotPatterns(settings),
  };
}

/** True when a filter matches nothing (an unknown or foreign repository): answer empty without querying. */
export const matchesNothing = (scope: Scope) =>
  (scope.repositoryIds !== null && scope.repositoryIds.length === 0) ||
  (scope.contributorIds !== null && scope.contributorIds.length === 0);

/**
 * What a query needs from its rows: `totals` (no time grouping), `days` (local day, week or month buckets),
 * `hours` (local hour of day: the punch card).
 */
export type Resolution = 'totals' | 'days' | 'hours';

export interface Source {
  /** A subquery with columns at, repository_id, contributor_id, commits, lines_added, lines_removed, first_at, last_at. */
  sql: string;
  bindings: Knex.Value[];
}

/**
 * `and …` conditions of the scope's merge, bot, repository and contributor filters on alias (a facts or rollup
 * row); workspace rollups have no repository or contributor columns (perContributor false).
 */
export function scopeFilters(scope: Scope, alias: string, perContributor = true): { sql: string; bindings: Knex.Value[] } {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  if (scope.merges === 'exclude') parts.push(`and not ${alias}.is_merge`);
  if (scope.merges === 'only') parts.push(`and ${alias}.is_merge`);
  if (scope.bots === 'exclude') parts.push(`and not ${alias}.is_bot`);
  if (perContributor && scope.repositoryIds !== null) {
    parts.push(`and ${alias}.repository_id = any(?::bigint[])`);
    bindings.push(scope.repositoryIds);
  }
  if (perContributor && scope.contributorIds !== null) {
    parts.push(`and ${alias}.contributor_id = any(?::bigint[])`);
    bindings.push(scope.contributorIds);
  }
  return { sql: parts.join(' '), bindings };
}

const EARLIEST = Date.UTC(1000, 0, 1);
const LATEST = Date.UTC(9000, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The cheapest exact rows for a scope: rollups where their UTC buckets tile the range and the local buckets,
 * commit facts where they cannot (sub-hour range edges and zones with non-whole-hour offsets). See docs/analytics.md.
 */
export function sourceFor(scope: Scope, resolution: Resolution): Source {
  const added = scope.exclusions === 'apply' ? 'lines_added' : 'lines_added_all';
  const removed = scope.exclusions === 'apply' ? 'lines_removed' : 'lines_removed_all';
  const start = scope.start ?? EARLIEST;
  const end = scope.end ?? LATEST;
  const pieces: Source[] = [];

  const filters = (perContributor: boolean) => scopeFilters(scope, 'x', perContributor);
  const rollup = (table: string, from: number, to: number) => {
    const f = filters(true);
    pieces.push({
      sql: `select x.bucket as at, x.repository_id, x.contributor_id, x.commits, x.${added} as lines_added,
                   x.${removed} as lines_removed, x.first_at, x.last_at
              from ${table} x where x.bucket >= ? and x.bucket < ? ${f.sql}`,
      bindings: [iso(from), iso(to), ...f.bindings],
    });
  };
  const workspace = (table: string, from: number, to: number) => {
    const f = filters(false);
    pieces.push({
      sql: `select x.bucket as at, null::bigint as repository_id, null::bigint as contributor_id, x.commits,
                   x.${added} as lines_added, x.${removed} as lines_removed,
                   null::timestamptz as first_at, null::timestamptz as last_at
              from ${table} x where x.bucket >= ? and x.bucket < ? ${f.sql}`,
      bindings: [iso(from), iso(to), ...f.bindings],
    });
  };
  const facts = (from: number, to: number) => {
    if (from >= to) return;
    const f = filters(true);
    pieces.push({
      sql: `select x.authored_at as at, x.repository_id, x.contributor_id, 1 as commits, x.${added} as lines_added,
                   x.${removed} as lines_removed, x.authored_at as first_at, x.authored_at as last_at
              from commit_facts x where x.authored_at >= ? and x.authored_at < ? ${f.sql}`,
      bindings: [iso(from), iso(to), ...f.bindings],
    });
  };

  const filtered = scope.repositoryIds !== null || scope.contributorIds !== null;
  if (resolution === 'totals') {
    const hourStart = ceilHour(start);
    const hourEnd = floorHour(end);
    if (hourStart >= hourEnd) {
      facts(start, end);
    } else {
      facts(start, hourStart);
      for (const piece of tileRange(hourStart, hourEnd)) {
        rollup(CONTRIBUTOR_TABLES[piece.grain as keyof typeof CONTRIBUTOR_TABLES], piece.from, piece.to);
      }
      facts(hourEnd, end);
    }
  } else if (!scope.shape.wholeHours) {
    facts(start, end);
  } else if (filtered) {
    rollup(CONTRIBUTOR_TABLES.hour, start, end);
  } else if (resolution === 'days' && scope.shape.alwaysUtc) {
    workspace(WORKSPACE_TABLES.day, start, end);
  } else {
    workspace(WORKSPACE_TABLES.hour, start, end);
  }
  return {
    sql: pieces.map((p) => p.sql).join('\nunion all\n'),
    bindings: pieces.flatMap((p) => p.bindings),
  };
}
