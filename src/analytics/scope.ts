import type { Knex } from 'knex';
import type { Trx } from '../db/database';
import { badRequest, notFound } from '../platform/errors';
import {
  membersOf,
  pullRequestPeople,
  resolveContributor,
  teamMembersOf,
  type PullRequestPeople,
} from './identities';
import {
  CUBES,
  PROJECT_PUNCH_CARDS,
  PUNCH_CARDS,
  REPOSITORY_PUNCH_CARDS,
  SHIFTED_HOURS,
  type Cube,
} from './rollups';
import { effectiveBotPatterns, loadSettings } from './rules';
import { ceilHour, floorHour, tileRange, type GrainName } from './time-buckets';
import { phaseOf, validZone, zoneShape, type ZoneShape } from './timezones';

export type Merges = 'exclude' | 'include' | 'only';
export type Bots = 'exclude' | 'include';
export type Exclusions = 'apply' | 'ignore';

/** The filters every analytics endpoint takes, already checked for form by the API layer. */
export interface StatsFilters {
  /** Repository uuids, braced and lower-case; empty = the whole workspace. */
  repositories: string[];
  /** Project uuids, braced and lower-case: their repositories (and the ones above, when given, both). */
  projects?: string[];
  /** Local dates (YYYY-MM-DD) in the effective zone; half-open [since, until). */
  since?: string;
  until?: string;
  merges: Merges;
  bots: Bots;
  exclusions: Exclusions;
  tz?: string;
  /** A contributor key (`a:…`, `e:…`) or Bitbucket user uuid. */
  contributor?: string;
  /** A team's id (GET /teams): its members' contributions only (for pull requests: those they authored). */
  team?: number;
  /** Pull requests only: a contributor key or user uuid whose pull requests, or reviews, are wanted. */
  author?: string;
  reviewer?: string;
  /** Public repositories only (a viewer whose private repositories are not known: src/api/viewer-scope.ts). */
  publicOnly?: boolean;
  /** `repositories` is the viewer's whole set, even when empty (then nothing matches). */
  limited?: boolean;
}

export interface Scope {
  repositoryIds: number[] | null;
  /**
   * When the scope is exactly whole projects (project= alone, no viewer narrowing): their ids, whose per-project
   * rollups hold exactly the commits and pull requests of `repositoryIds` (no repository moved in or out with its
   * rebuild pending). Null otherwise: the per-repository rollups answer. Commit statistics (sourceFor) and
   * pull-request statistics (pullRequestRollupsFor) both decide by it.
   */
  projectIds?: number[] | null;
  contributorIds: number[] | null;
  /** Pull requests: each set must have authored it (author=, team=); empty = any author. */
  pullRequestAuthors: PullRequestPeople[];
  /** Pull requests this person reviewed, and only their reviews (reviewer=); null = anyone's. */
  pullRequestReviewer: PullRequestPeople | null;
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
  /** The first and last UTC hour (ms) holding any counted commit of the tenant; null when there is none. */
  extent: { first: number; last: number } | null;
  /** How current the answer is, echoed in every stats answer. */
  freshness: Freshness;
}

/** Plain date arithmetic (no zone involved): '2024-02-28' + 2 → '2024-03-01'. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Fills in a range the request left open, from today's date in the effective zone (e.g. "the last year"). */
export type RangeDefaults = (
  today: string,
  given: { since?: string; until?: string },
) => {
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
  let projectIds: number[] | null = null;
  const projects = filters.projects ?? [];
  if (projects.length > 0 && filters.repositories.length === 0 && !filters.publicOnly && !filters.limited) {
    // Whole projects: their repositories now (the ones whose project_uuid matches, deleted ones too, as below),
    // and whether the project rollups agree with them: a repository moved into or out of them since its facts
    // were counted (its rebuild still queued) sends the answer to the per-repository rollups.
    const { rows } = await trx.raw(
      `with p as (select id from projects where uuid = any(?::text[]))
       select coalesce(array_agg(r.id) filter (where r.project_id in (select id from p)), '{}') as repositories,
              (select coalesce(array_agg(id), '{}') from p) as projects,
              coalesce(bool_and(r.project_id = r.rollups_project_id), true) as settled
         from repositories r
        where r.project_id in (select id from p) or r.rollups_project_id in (select id from p)`,
      [projects],
    );
    const row = rows[0] as { repositories: string[]; projects: string[]; settled: boolean };
    repositoryIds = row.repositories.map(Number);
    if (row.settled) projectIds = row.projects.map(Number);
  } else if (
    filters.repositories.length > 0 ||
    projects.length > 0 ||
    filters.publicOnly ||
    filters.limited
  ) {
    const rows = await trx('repositories')
      .select('id')
      .modify((q) => {
        if (filters.repositories.length > 0 || filters.limited)
          q.whereRaw('lower(uuid) = any(?::text[])', [filters.repositories]);
        if (projects.length > 0) q.whereRaw('lower(project_uuid) = any(?::text[])', [projects]);
        if (filters.publicOnly) q.where('is_private', false);
      });
    repositoryIds = rows.map((r: { id: number }) => r.id);
  }
  let contributorIds: number[] | null = null;
  let teamIds: number[] | null = null;
  if (filters.contributor !== undefined) {
    const root = await resolveContributor(trx, filters.contributor);
    // A person with no commits here (most people who open a profile) is an empty answer, not an error.
    contributorIds = root === null ? [] : await membersOf(trx, root);
  }
  if (filters.team !== undefined) {
    const members = await teamMembersOf(trx, filters.team);
    if (members === null) throw notFound('no such team');
    // With a contributor too: that person, if in the team.
    contributorIds = contributorIds === null ? members : contributorIds.filter((id) => members.includes(id));
    teamIds = members;
  }
  const pullRequestAuthors: PullRequestPeople[] = [];
  if (filters.author !== undefined) pullRequestAuthors.push(await peopleOf(trx, filters.author));
  if (teamIds !== null) pullRequestAuthors.push(await pullRequestPeople(trx, teamIds));
  const pullRequestReviewer = filters.reviewer === undefined ? null : await peopleOf(trx, filters.reviewer);
  // One round trip when the range is given (freshness included); a default range needs today's date first.
  const instants = (since: string | null, until: string | null) =>
    trx.raw(
      `select (?::timestamptz at time zone ?)::date::text as today,
              (extract(epoch from (?::date::timestamp at time zone ?)) * 1000)::float8 as start,
              (extract(epoch from (?::date::timestamp at time zone ?)) * 1000)::float8 as end,
              (extract(epoch from (select min(bucket) from workspace_rollups_hourly)) * 1000)::float8 as first,
              (extract(epoch from (select max(bucket) from workspace_rollups_hourly)) * 1000)::float8 as last,
              ${FRESHNESS_SQL}`,
      [now.toISOString(), timezone, since, timezone, until, timezone, ...freshnessBindings(repositoryIds)],
    );
  let since = filters.since ?? null;
  let until = filters.until ?? null;
  let times = (await instants(since, until)).rows[0] as {
    today: string;
    start: number | null;
    end: number | null;
    first: number | null;
    last: number | null;
  } & FreshnessRow;
  const freshness = freshnessOf(times);
  const today = times.today;
  if (defaults) {
    const range = defaults(today, filters);
    since = range.since ?? null;
    until = range.until ?? null;
    times = (await instants(since, until)).rows[0];
  }
  if (since !== null && until !== null && since >= until) throw badRequest('until: must be after since');
  return {
    repositoryIds,
    projectIds,
    contributorIds,
    pullRequestAuthors,
    pullRequestReviewer,
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
    extent: times.first === null || times.last === null ? null : { first: times.first, last: times.last },
    freshness,
  };
}

/** How pull requests name a person given by key or uuid: the key itself, and every identity merged with it. */
async function peopleOf(trx: Trx, key: string): Promise<PullRequestPeople> {
  const root = await resolveContributor(trx, key);
  return pullRequestPeople(trx, root === null ? [] : await membersOf(trx, root), key);
}

/**
 * How current an answer is (docs/analytics.md, "Freshness"): `complete` when every repository in scope is `ready`
 * (all commits listed and counted, pull requests read) and the analytics have applied every change;
 * `pending_commits` stored commits whose changes the analytics have not applied yet; `commits_without_lines`
 * commits whose line counts Bitbucket has not been asked for yet (the backfill's second phase);
 * `lines_counted_share` the share of listed commits that have them (newest first, so recent graphs are complete
 * first); `lines_complete_eta_seconds` the longest stored ETA of a repository in scope still counting (the backfill
 * keeps it at the request budget in force), null when none is.
 */
export interface Freshness {
  complete: boolean;
  pending_commits: number;
  pending_pull_requests: number;
  commits_without_lines: number;
  lines_counted_share: number;
  lines_complete_eta_seconds: number | null;
}

interface FreshnessRow {
  all_ready: boolean;
  pending_commits: number;
  pending_pull_requests: number;
  commits_without_lines: number;
  lines_counted_share: number;
  lines_complete_eta_seconds: number | null;
}

const IN_SCOPE = `(?::bigint[] is null or x.repository_id = any(?::bigint[]))`;
const FRESHNESS_SQL = `
  (select count(*) from analytics_changes x where x.subject = 'commit' and ${IN_SCOPE})::int as pending_commits,
  (select count(*) from analytics_changes x where x.subject = 'pull_request' and ${IN_SCOPE})::int
    as pending_pull_requests,
  (select coalesce(sum(greatest(x.commits_known - x.commits_with_lines, 0)), 0) from repositories x
    where x.deleted_at is null and ${IN_SCOPE.replaceAll('x.repository_id', 'x.id')})::int as commits_without_lines,
  (select coalesce(bool_and(x.sync_state = 'ready'), true) from repositories x
    where x.deleted_at is null and ${IN_SCOPE.replaceAll('x.repository_id', 'x.id')}) as all_ready,
  (select case when coalesce(sum(x.commits_known), 0) = 0 then 1
               else round(sum(least(x.commits_with_lines, x.commits_known))::numeric / sum(x.commits_known), 3)
          end::float8 from repositories x
    where x.deleted_at is null and ${IN_SCOPE.replaceAll('x.repository_id', 'x.id')}) as lines_counted_share,
  (select max(x.eta_seconds) from repositories x
    where x.deleted_at is null and x.commits_known > x.commits_with_lines
      and ${IN_SCOPE.replaceAll('x.repository_id', 'x.id')}) as lines_complete_eta_seconds`;
const freshnessBindings = (ids: number[] | null) => Array(6).fill([ids, ids]).flat() as Knex.Value[];

const freshnessOf = (row: FreshnessRow): Freshness => ({
  complete: row.all_ready && row.pending_commits === 0 && row.pending_pull_requests === 0,
  pending_commits: row.pending_commits,
  pending_pull_requests: row.pending_pull_requests,
  commits_without_lines: row.commits_without_lines,
  lines_counted_share: row.lines_counted_share,
  lines_complete_eta_seconds: row.lines_complete_eta_seconds,
});

/** True when a filter matches nothing (an unknown or foreign repository): answer empty without querying. */
export const matchesNothing = (scope: Scope) =>
  (scope.repositoryIds !== null && scope.repositoryIds.length === 0) ||
  (scope.contributorIds !== null && scope.contributorIds.length === 0);

/**
 * What a query needs from its rows: `totals` (no time grouping), `days` (local day, week or month buckets),
 * `hours` (local hour of day: the punch card).
 */
export type Resolution = 'totals' | 'days' | 'hours';

/** The dimension a query groups by, besides time. */
export type GroupBy = 'contributor' | 'repository' | null;

export interface Source {
  /** A subquery with columns at, repository_id, contributor_id, commits, lines_added, lines_removed, first_at, last_at. */
  sql: string;
  bindings: Knex.Value[];
}

/**
 * `and …` conditions of the scope's merge, bot, repository and contributor filters on alias (a facts or rollup
 * row); a dimension the rows do not have is never filtered (sourceFor picks rows that have what is filtered).
 */
export function scopeFilters(
  scope: Scope,
  alias: string,
  dims: { repository: boolean; contributor: boolean; project?: boolean } = {
    repository: true,
    contributor: true,
  },
): { sql: string; bindings: Knex.Value[] } {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  if (scope.merges === 'exclude') parts.push(`and not ${alias}.is_merge`);
  if (scope.merges === 'only') parts.push(`and ${alias}.is_merge`);
  if (scope.bots === 'exclude') parts.push(`and not ${alias}.is_bot`);
  if (dims.repository && scope.repositoryIds !== null) {
    parts.push(`and ${alias}.repository_id = any(?::bigint[])`);
    bindings.push(scope.repositoryIds);
  }
  if (dims.project && scope.projectIds) {
    parts.push(`and ${alias}.project_id = any(?::bigint[])`);
    bindings.push(scope.projectIds);
  }
  if (dims.contributor && scope.contributorIds !== null) {
    parts.push(`and ${alias}.contributor_id = any(?::bigint[])`);
    bindings.push(scope.contributorIds);
  }
  return { sql: parts.join(' '), bindings };
}

/** The line columns of facts and rollups the scope reads: with exclusions applied, or every line. */
export const lineColumns = (scope: Scope) =>
  scope.exclusions === 'apply'
    ? { added: 'lines_added', removed: 'lines_removed' }
    : { added: 'lines_added_all', removed: 'lines_removed_all' };

const HOUR = 3_600_000;
const EARLIEST = Date.UTC(1000, 0, 1);
const LATEST = Date.UTC(9000, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

type Family =
  'repositoryContributor' | 'contributor' | 'repository' | 'workspace' | 'project' | 'projectContributor';

const FAMILIES: Record<Family, Partial<Record<GrainName, Cube>>> = {
  repositoryContributor: {
    hour: CUBES.hourly,
    day: CUBES.repositoryContributorDaily,
    month: CUBES.repositoryContributorMonthly,
    year: CUBES.repositoryContributorYearly,
  },
  contributor: {
    day: CUBES.contributorDaily,
    month: CUBES.contributorMonthly,
    year: CUBES.contributorYearly,
  },
  repository: { day: CUBES.repositoryDaily, month: CUBES.repositoryMonthly, year: CUBES.repositoryYearly },
  workspace: { hour: CUBES.workspaceHourly, day: CUBES.workspaceDaily },
  // Hours (ragged range ends, whole-hour zones) are the (repository × contributor) ones of the project's repositories.
  project: { day: CUBES.projectDaily, month: CUBES.projectMonthly, year: CUBES.projectYearly },
  projectContributor: {
    day: CUBES.projectContributorDaily,
    month: CUBES.projectContributorMonthly,
    year: CUBES.projectContributorYearly,
  },
};

/** The smallest rollups that have every dimension the query filters or groups by. */
function familyFor(scope: Scope, groupBy: GroupBy): Family {
  const byRepository = scope.repositoryIds !== null || groupBy === 'repository';
  const byContributor = scope.contributorIds !== null || groupBy === 'contributor';
  // Whole projects, not grouped by repository: the project rollups (the scope's repositories are theirs exactly).
  if (scope.projectIds && groupBy !== 'repository') return byContributor ? 'projectContributor' : 'project';
  if (byRepository && byContributor) return 'repositoryContributor';
  if (byRepository) return 'repository';
  if (byContributor) return 'contributor';
  return 'workspace';
}

/** The all-time rollups of the families that have one. */
const TOTALS: Partial<Record<Family, Cube>> = {
  contributor: CUBES.contributorTotal,
  repositoryContributor: CUBES.repositoryContributorTotal,
  projectContributor: CUBES.projectContributorTotal,
};

/**
 * The cheapest exact rows for a scope (docs/analytics.md): the rollups with the dimensions the query needs, in the
 * coarsest UTC buckets that tile the range and fit inside the local buckets asked for; per-(repository,
 * contributor) hours at ragged range ends; commit facts where no bucket fits (sub-hour range ends, filtered series
 * in zones whose offset is not a whole number of hours, and offsets that are not a whole number of minutes).
 */
export function sourceFor(scope: Scope, resolution: Resolution, groupBy: GroupBy = null): Source {
  const { added, removed } = lineColumns(scope);
  const start = scope.start ?? EARLIEST;
  const end = scope.end ?? LATEST;
  const pieces: Source[] = [];

  const rollup = (c: Cube, from: number, to: number) => {
    if (from >= to) return;
    const f = scopeFilters(scope, 'x', c);
    // Hour-of-week rows stand for the time in their bucket's first week with the same UTC weekday and hour: inside
    // the bucket, so at the offset the zone has all through it (sourceFor reads such buckets only).
    const at = c.weekHour
      ? `x.bucket + ((x.hour_of_week - extract(dow from (x.bucket - interval '${c.phase} minutes') at time zone 'UTC')::int * 24 + 168) % 168) * interval '1 hour'`
      : 'x.bucket';
    pieces.push({
      sql: `select ${at} as at, ${c.repository ? 'x.repository_id' : 'null::bigint'} as repository_id,
                   ${c.contributor ? 'x.contributor_id' : 'null::bigint'} as contributor_id, x.commits,
                   x.${added} as lines_added, x.${removed} as lines_removed,
                   ${c.contributor ? 'x.first_at, x.last_at' : 'null::timestamptz as first_at, null::timestamptz as last_at'}
              from ${c.table} x where ${c.grain === null ? 'true' : 'x.bucket >= ? and x.bucket < ?'} ${f.sql}`,
      bindings: [...(c.grain === null ? [] : [iso(from), iso(to)]), ...f.bindings],
    });
  };
  const facts = (from: number, to: number) => {
    if (from >= to) return;
    const f = scopeFilters(scope, 'x');
    pieces.push({
      sql: `select x.authored_at as at, x.repository_id, x.contributor_id, 1 as commits, x.${added} as lines_added,
                   x.${removed} as lines_removed, x.authored_at as first_at, x.authored_at as last_at
              from commit_facts x where x.authored_at >= ? and x.authored_at < ? ${f.sql}`,
      bindings: [iso(from), iso(to), ...f.bindings],
    });
  };

  const family = familyFor(scope, groupBy);
  const cubes = FAMILIES[family];
  /**
   * [from, to) of one phase of the zone (local hours start `minute` past the UTC hour): hours starting at that minute,
   * facts for the minutes at the ends and where no hourly rollup of the family has that phase.
   */
  const phased = (from: number, to: number, minute: number | null) => {
    const cube =
      minute === null
        ? undefined
        : minute === 0
          ? (cubes.hour ?? CUBES.hourly)
          : family === 'workspace'
            ? SHIFTED_HOURS[minute]
            : undefined;
    const shift = (minute ?? 0) * 60_000;
    const inner = { from: ceilHour(from - shift) + shift, to: floorHour(to - shift) + shift };
    if (cube === undefined || inner.from >= inner.to) {
      facts(from, to);
      return;
    }
    facts(from, inner.from);
    rollup(cube, inner.from, inner.to);
    facts(inner.to, to);
  };
  const allTime = scope.extent === null || (start <= scope.extent.first && end >= scope.extent.last + HOUR);
  if (resolution === 'totals' && family === 'contributor' && !allTime && mostlyInside(scope, start, end))
    return allTimeMinusOutside(scope, start, end);
  // Punch cards (hours of the week) of the whole workspace or of repositories; filtered by contributor, hours.
  const punchCards =
    family === 'workspace'
      ? PUNCH_CARDS
      : family === 'repository'
        ? REPOSITORY_PUNCH_CARDS
        : family === 'project'
          ? PROJECT_PUNCH_CARDS
          : undefined;
  if (resolution === 'hours' && punchCards && scope.shape.alwaysUtc) {
    // A UTC punch card: hours of the week per year and month inside the range, hours at its ends.
    const utc = punchCards[0]!;
    for (const piece of tileRange(ceilHour(start), floorHour(end), ['hour', 'month', 'year']))
      rollup(utc[piece.grain as 'hour' | 'month' | 'year'], piece.from, piece.to);
  } else if (resolution === 'hours' && punchCards) {
    // Any other zone: while its offset holds, an hour of the week (shifted by the zone's phase in :30/:45 zones) is one
    // local hour of the week, so the punch-card rollups of that phase answer the months and years inside each stretch
    // of one offset, hours the rest (facts where no rollup has the phase). Only the
    // tenant's extent is split by offset (outside it there are no rows to read; a commit landing meanwhile is still
    // counted, from hourly rollups in whole-hour zones, else from facts).
    const inner = scope.extent
      ? { from: Math.max(start, scope.extent.first), to: Math.min(end, scope.extent.last + HOUR) }
      : { from: start, to: start };
    const outside = (from: number, to: number) => {
      if (from >= to) return;
      if (scope.shape.wholeHours) rollup(punchCards[0]!.hour, from, to);
      else facts(from, to);
    };
    outside(start, Math.min(inner.from, end));
    for (const span of scope.shape.spans) {
      const from = Math.max(inner.from, span.from);
      const to = Math.min(inner.to, span.to);
      if (from >= to) continue;
      const minute = phaseOf(span.offset);
      const cubes = minute === null ? undefined : punchCards[minute];
      const shift = (minute ?? 0) * 60_000;
      const hours = { from: ceilHour(from - shift), to: floorHour(to - shift) };
      if (!cubes || hours.from >= hours.to) {
        facts(from, to);
        continue;
      }
      facts(from, hours.from + shift);
      // Tiled in UTC, then moved by the phase: months and years of shifted hours start `minute` past midnight UTC.
      for (const piece of tileRange(hours.from, hours.to, ['hour', 'month', 'year']))
        rollup(cubes[piece.grain as 'hour' | 'month' | 'year'], piece.from + shift, piece.to + shift);
      facts(hours.to + shift, to);
    }
    outside(Math.max(inner.to, inner.from, start), end);
  } else if (resolution === 'totals' || (resolution === 'days' && scope.shape.alwaysUtc && cubes.day)) {
    // Every local bucket (or the whole range) is a union of UTC days, or of UTC hours at ragged ends.
    const hourStart = ceilHour(start);
    const hourEnd = floorHour(end);
    // A series needs buckets inside its local days; a total takes any bucket inside the range.
    const coarser = resolution === 'totals' ? (['day', 'month', 'year'] as const) : (['day'] as const);
    const grains = coarser.filter((g) => cubes[g]);
    facts(start, Math.min(hourStart, end));
    for (const piece of tileRange(hourStart, hourEnd, ['hour', ...grains]))
      rollup(
        piece.grain === 'hour' ? (cubes.hour ?? CUBES.hourly) : cubes[piece.grain]!,
        piece.from,
        piece.to,
      );
    facts(Math.max(hourEnd, hourStart), end);
  } else if (!scope.shape.wholeHours) {
    // Local hours start at :30 or :15 UTC (or move between phases, like Nepal's in 1986): hours starting at that
    // minute tile local hours and days. Only the workspace has shifted hours; filtered series read facts.
    for (const phase of scope.shape.phases) {
      const from = Math.max(start, phase.from);
      const to = Math.min(end, phase.to);
      if (from < to) phased(from, to, phase.minute);
    }
  } else {
    // Local hours and days are unions of UTC hours.
    rollup(cubes.hour ?? CUBES.hourly, start, end);
  }
  // A range wholly outside the years rollups cover (since 9500, until 1000) tiles into nothing: an empty source.
  if (pieces.length === 0) facts(start, start + 1);
  const tiled = {
    sql: pieces.map((p) => p.sql).join('\nunion all\n'),
    bindings: pieces.flatMap((p) => p.bindings),
  };
  const totalCube = TOTALS[family];
  if (!(resolution === 'totals' && totalCube && allTime)) return tiled;
  // The range held every commit when the scope was resolved: one row per contributor (and repository) and flags.
  // Checked again in the statement itself (its own snapshot), so a commit landing meanwhile outside the range
  // never counts: then the tiles answer.
  const covered = {
    sql: `coalesce((select min(w.bucket) >= ?::timestamptz and max(w.bucket) < ?::timestamptz
                      from workspace_rollups_hourly w), true)`,
    bindings: [iso(start), iso(end - HOUR + 1)],
  };
  pieces.length = 0;
  rollup(totalCube, EARLIEST, LATEST);
  const total = pieces[0]!;
  return {
    sql: `select * from (${total.sql}) t where ${covered.sql}
          union all
          select * from (${tiled.sql}) t where not ${covered.sql}`,
    bindings: [...total.bindings, ...covered.bindings, ...tiled.bindings, ...covered.bindings],
  };
}

/**
 * True when the range holds most of the tenant's time (a ragged "5 years" in a :30 zone, "since 2019"): its
 * contributor totals are cheaper as all-time rows minus the little outside the range than as the range's tiles
 * (42,000 monthly and daily rows for 5 years of 2,000 people; 4,000 all-time rows).
 */
function mostlyInside(scope: Scope, start: number, end: number): boolean {
  if (scope.extent === null) return false;
  const first = scope.extent.first;
  const last = scope.extent.last + HOUR;
  const inside = Math.min(end, last) - Math.max(start, first);
  const outside = Math.max(0, Math.min(start, last) - first) + Math.max(0, last - Math.max(end, first));
  return inside > 0 && outside * 4 <= inside;
}

/**
 * Contributor totals over [start, end) as each contributor's all-time row minus their tiles before start and from
 * end on (open-ended, so a commit landing since the scope was resolved is subtracted too; all read in one
 * statement, one snapshot). Sums subtract exactly; first and last commit times do not, so a row whose first (last)
 * commit lies outside the range looks its first (last) one inside up in the facts (index by contributor and time).
 */
function allTimeMinusOutside(scope: Scope, start: number, end: number): Source {
  const outside = [
    sourceFor({ ...scope, start: null, end: start, since: null }, 'totals', 'contributor'),
    sourceFor({ ...scope, start: end, end: null, until: null }, 'totals', 'contributor'),
  ];
  const { added, removed } = lineColumns(scope);
  const f = scopeFilters(scope, 'x', CUBES.contributorTotal);
  const inRange = `cf.contributor_id = x.contributor_id and cf.is_merge = x.is_merge and cf.is_bot = x.is_bot
                   and cf.authored_at >= ?::timestamptz and cf.authored_at < ?::timestamptz`;
  const range = [iso(start), iso(end)];
  return {
    sql: `select x.bucket as at, null::bigint as repository_id, x.contributor_id, x.commits,
                 x.${added} as lines_added, x.${removed} as lines_removed,
                 case when x.first_at >= ?::timestamptz then x.first_at
                      else (select min(cf.authored_at) from commit_facts cf where ${inRange}) end as first_at,
                 case when x.last_at < ?::timestamptz then x.last_at
                      else (select max(cf.authored_at) from commit_facts cf where ${inRange}) end as last_at
            from ${CUBES.contributorTotal.table} x where true ${f.sql}
          ${outside
            .map(
              (o) => `union all
          select o.at, o.repository_id, o.contributor_id, -o.commits, -o.lines_added, -o.lines_removed,
                 null::timestamptz, null::timestamptz
            from (${o.sql}) o`,
            )
            .join('\n')}`,
    bindings: [
      iso(start),
      ...range,
      iso(end),
      ...range,
      ...f.bindings,
      ...outside.flatMap((o) => o.bindings),
    ],
  };
}
