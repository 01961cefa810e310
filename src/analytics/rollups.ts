import type { Trx } from '../db/database';
import { factsQuery } from './facts';
import { commitScopeSql, ensureIdentities, type CommitScope } from './identities';
import { rebuildPullRequestFacts } from './pull-request-facts';
import { GRAINS, type Grain } from './time-buckets';
import {
  batchDifference,
  lockUpkeep,
  replaceFacts,
  stagedDifference,
  TENANT,
  withHashJoins,
  type Changes,
  type FactTable,
  type Fragment,
} from './upkeep';

/**
 * Rollups: sums of commit facts (facts.ts) per UTC bucket, kept current by ingest through recordCommitChanges and
 * rebuilt from stored data by rebuildRollups. Design and reasons: docs/analytics.md.
 *
 * - rollups_hourly: per (repository, contributor), the finest rollup, for any filter;
 * - contributor_rollups_daily/_monthly/_yearly: per contributor (contributor totals, calendars);
 * - repository_rollups_daily/_monthly/_yearly: per repository (repository totals and series);
 * - workspace_rollups_hourly/_daily: the whole workspace (series, punch cards);
 * - contributor_rollups_total: per contributor over all time (contributor totals whose range holds every commit);
 * - workspace_punchcard_rollups_monthly/_yearly: the whole workspace per UTC hour of the week (UTC punch cards);
 * - repository_contributor_rollups_daily/_monthly/_yearly/_total: per (repository, contributor), for anything filtered
 *   or grouped by both over more than a few days (one repository's contributors, all time);
 * - workspace_rollups_hourly_15/_30: the whole workspace per hour starting at :15 / :30 UTC, which are local hours in
 *   zones whose offset is a whole number of hours plus 45 / 30 minutes (Nepal; India, Newfoundland, South Australia);
 * - workspace_punchcard_rollups_monthly_15/_30, _yearly_15/_30: the same shifted hours per hour of the week, per
 *   month and year shifted alike (punch cards in those zones);
 * - repository_punchcard_rollups_monthly/_yearly: per repository, UTC month and year, per UTC hour of the week (punch
 *   cards filtered by repository);
 * - project_rollups_*, project_contributor_rollups_*, project_punchcard_rollups_*: the repository ones keyed by the
 *   repository's Bitbucket project instead (statistics filtered by whole projects). Keyed by the fact's project_id
 *   (the project its repository had when the fact was written; a move rebuilds the repository's facts); commits of
 *   repositories without a project (project 0) are left out of them.
 * Every row also has the merge and bot flags, and line sums with (lines_*) and without (lines_*_all) exclusions.
 */

export interface Cube {
  table: string;
  /** The UTC buckets; null: one bucket for all time (`-infinity`). */
  grain: Grain | null;
  repository: boolean;
  contributor: boolean;
  /** Rows are also keyed by UTC hour of the week (`hour_of_week`, 0 = Sunday 00:00–01:00). */
  weekHour: boolean;
  /** Hourly buckets start this many minutes past the UTC hour (0 for every cube but the shifted workspace ones). */
  phase: number;
  /** Rows are keyed by project (`project_id`); facts of project 0 (no project) have no rows. */
  project: boolean;
}

const cube = (
  table: string,
  grain: keyof typeof GRAINS | null,
  repository: boolean,
  contributor: boolean,
  weekHour = false,
  phase = 0,
  project = false,
): Cube => ({
  table,
  grain: grain === null ? null : GRAINS[grain],
  repository,
  contributor,
  weekHour,
  phase,
  project,
});

/** A cube keyed by project (and contributor, or hour of the week). */
const projectCube = (
  table: string,
  grain: keyof typeof GRAINS | null,
  contributor: boolean,
  weekHour = false,
): Cube => cube(table, grain, false, contributor, weekHour, 0, true);

export const CUBES = {
  hourly: cube('rollups_hourly', 'hour', true, true),
  contributorDaily: cube('contributor_rollups_daily', 'day', false, true),
  contributorMonthly: cube('contributor_rollups_monthly', 'month', false, true),
  contributorYearly: cube('contributor_rollups_yearly', 'year', false, true),
  repositoryDaily: cube('repository_rollups_daily', 'day', true, false),
  repositoryMonthly: cube('repository_rollups_monthly', 'month', true, false),
  repositoryYearly: cube('repository_rollups_yearly', 'year', true, false),
  workspaceHourly: cube('workspace_rollups_hourly', 'hour', false, false),
  workspaceDaily: cube('workspace_rollups_daily', 'day', false, false),
  contributorTotal: cube('contributor_rollups_total', null, false, true),
  workspacePunchCardMonthly: cube('workspace_punchcard_rollups_monthly', 'month', false, false, true),
  workspacePunchCardYearly: cube('workspace_punchcard_rollups_yearly', 'year', false, false, true),
  repositoryContributorDaily: cube('repository_contributor_rollups_daily', 'day', true, true),
  repositoryContributorMonthly: cube('repository_contributor_rollups_monthly', 'month', true, true),
  repositoryContributorYearly: cube('repository_contributor_rollups_yearly', 'year', true, true),
  repositoryContributorTotal: cube('repository_contributor_rollups_total', null, true, true),
  workspaceHourly15: cube('workspace_rollups_hourly_15', 'hour', false, false, false, 15),
  workspaceHourly30: cube('workspace_rollups_hourly_30', 'hour', false, false, false, 30),
  workspacePunchCardMonthly15: cube(
    'workspace_punchcard_rollups_monthly_15',
    'month',
    false,
    false,
    true,
    15,
  ),
  workspacePunchCardYearly15: cube('workspace_punchcard_rollups_yearly_15', 'year', false, false, true, 15),
  workspacePunchCardMonthly30: cube(
    'workspace_punchcard_rollups_monthly_30',
    'month',
    false,
    false,
    true,
    30,
  ),
  workspacePunchCardYearly30: cube('workspace_punchcard_rollups_yearly_30', 'year', false, false, true, 30),
  repositoryPunchCardMonthly: cube('repository_punchcard_rollups_monthly', 'month', true, false, true),
  repositoryPunchCardYearly: cube('repository_punchcard_rollups_yearly', 'year', true, false, true),
  projectDaily: projectCube('project_rollups_daily', 'day', false),
  projectMonthly: projectCube('project_rollups_monthly', 'month', false),
  projectYearly: projectCube('project_rollups_yearly', 'year', false),
  projectContributorDaily: projectCube('project_contributor_rollups_daily', 'day', true),
  projectContributorMonthly: projectCube('project_contributor_rollups_monthly', 'month', true),
  projectContributorYearly: projectCube('project_contributor_rollups_yearly', 'year', true),
  projectContributorTotal: projectCube('project_contributor_rollups_total', null, true),
  projectPunchCardMonthly: projectCube('project_punchcard_rollups_monthly', 'month', false, true),
  projectPunchCardYearly: projectCube('project_punchcard_rollups_yearly', 'year', false, true),
};

/** Punch-card cubes by the UTC minute their hours start at: hours, and hours of the week per month and year. */
export const PUNCH_CARDS: Record<number, { hour: Cube; month: Cube; year: Cube }> = {
  0: {
    hour: CUBES.workspaceHourly,
    month: CUBES.workspacePunchCardMonthly,
    year: CUBES.workspacePunchCardYearly,
  },
  15: {
    hour: CUBES.workspaceHourly15,
    month: CUBES.workspacePunchCardMonthly15,
    year: CUBES.workspacePunchCardYearly15,
  },
  30: {
    hour: CUBES.workspaceHourly30,
    month: CUBES.workspacePunchCardMonthly30,
    year: CUBES.workspacePunchCardYearly30,
  },
};

/**
 * Punch-card cubes of repositories (hours starting on the hour only: in :30/:45 zones a repository's punch card reads
 * facts). Hours are the (repository × contributor) ones, read at ragged range ends only.
 */
export const REPOSITORY_PUNCH_CARDS: Record<number, { hour: Cube; month: Cube; year: Cube }> = {
  0: { hour: CUBES.hourly, month: CUBES.repositoryPunchCardMonthly, year: CUBES.repositoryPunchCardYearly },
};

/**
 * Punch-card cubes of projects, like the repositories' (hours are the (repository × contributor) ones of the project's
 * repositories, at ragged range ends only).
 */
export const PROJECT_PUNCH_CARDS: Record<number, { hour: Cube; month: Cube; year: Cube }> = {
  0: { hour: CUBES.hourly, month: CUBES.projectPunchCardMonthly, year: CUBES.projectPunchCardYearly },
};

/** The workspace hourly cubes by the UTC minute their hours start at. */
export const SHIFTED_HOURS: Record<number, Cube> = {
  0: CUBES.workspaceHourly,
  15: CUBES.workspaceHourly15,
  30: CUBES.workspaceHourly30,
};

/** The UTC hour of the week of a timestamptz expression, 0 = Sunday 00:00 (punch-card cubes). */
export const weekHourSql = (at: string) =>
  `(extract(dow from ${at} at time zone 'UTC') * 24 + extract(hour from ${at} at time zone 'UTC'))::smallint`;

/** A cube's bucket of a timestamptz expression. */
const bucketSql = (c: Cube, at: string) =>
  c.grain === null
    ? `'-infinity'::timestamptz`
    : c.phase === 0
      ? `date_trunc('${c.grain.name}', ${at}, 'UTC')`
      : `(date_trunc('${c.grain.name}', ${at} - interval '${c.phase} minutes', 'UTC') + interval '${c.phase} minutes')`;

const ALL_CUBES = Object.values(CUBES);

/** The columns that identify a row of a cube. */
const keyColumns = (c: Cube) => [
  'bucket',
  ...(c.project ? ['project_id'] : []),
  ...(c.repository ? ['repository_id'] : []),
  ...(c.contributor ? ['contributor_id'] : []),
  ...(c.weekHour ? ['hour_of_week'] : []),
  'is_merge',
  'is_bot',
];

/** A key column's value for a signed fact (alias c). */
const keyValueSql = (c: Cube, key: string) =>
  key === 'bucket'
    ? bucketSql(c, 'c.authored_at')
    : key === 'hour_of_week'
      ? weekHourSql(c.phase === 0 ? 'c.authored_at' : `(c.authored_at - interval '${c.phase} minutes')`)
      : `c.${key}`;

const SUMS = ['commits', 'lines_added', 'lines_removed', 'lines_added_all', 'lines_removed_all'] as const;

/** Commit facts (facts.ts) as upkeep compares and replaces them. */
const COMMIT_FACTS: FactTable = {
  table: 'commit_facts',
  columns: {
    repository_id: 'bigint',
    hash: 'text',
    project_id: 'bigint',
    contributor_id: 'bigint',
    authored_at: 'timestamptz',
    is_merge: 'boolean',
    is_bot: 'boolean',
    lines_added: 'integer',
    lines_removed: 'integer',
    lines_added_all: 'integer',
    lines_removed_all: 'integer',
  },
  key: ['repository_id', 'hash'],
};

/** The facts the scope's commits should have now (commits without an identity yet cannot count). */
async function countedFacts(trx: Trx, scope: CommitScope): Promise<Fragment> {
  const query = await factsQuery(trx, scope);
  return {
    sql: `select * from (${query.sql}) f where f.contributor_id is not null`,
    bindings: query.bindings,
  };
}

/**
 * Brings the identities, facts and rollups of these commits up to date with the commits table (run for the changes
 * ingest queued, change-queue.ts). Idempotent: a commit whose fact is unchanged changes nothing.
 */
export async function recordCommitChanges(trx: Trx, repositoryId: number, hashes: string[]): Promise<void> {
  const unique = [...new Set(hashes)];
  if (unique.length === 0) return;
  await lockUpkeep(trx, repositoryId);
  await withHashJoins(trx, async () => {
    const scope: CommitScope = { repositoryId, hashes: unique };
    await ensureIdentities(trx, scope);
    const fresh = await countedFacts(trx, scope);
    const stored = commitScopeSql(scope, 's');
    // A large batch keeps its difference in a temporary table (analyzed, read by a dozen statements); a small one
    // passes it as one JSON parameter and skips the table's set-up.
    const changes =
      unique.length > STAGE_ABOVE
        ? await stagedDifference(trx, COMMIT_FACTS, fresh, stored)
        : await batchDifference(trx, COMMIT_FACTS, fresh, stored);
    if (!changes) return;
    await replaceFacts(trx, COMMIT_FACTS, changes);
    await applyFactChanges(trx, changes);
  });
}

/** Batches of more commits than this stage their difference in a temporary table. */
const STAGE_ABOVE = 500;

/**
 * Recomputes facts and rollups from the stored commits, files and pull requests, for one repository or the whole
 * tenant: after a settings change (exclusions, bots; run by the rebuild_rollups job), a repository's deletion or
 * restore, or to repair. No Bitbucket call. Set-based and incremental at once: the facts the scope should have are
 * computed in one statement and compared with the stored ones, and only the difference is written and applied to
 * the rollups (a settings change touches the commits it affects, not all of them).
 */
export async function rebuildRollups(trx: Trx, repositoryId?: number): Promise<void> {
  await lockUpkeep(trx, repositoryId);
  const scope: CommitScope = repositoryId === undefined ? {} : { repositoryId };
  // The projects the facts are about to be counted under, read before they are: a move committed meanwhile leaves
  // rollups_project_id behind project_id (project filters stay on the per-repository rollups) until its own rebuild.
  const projects = (
    await trx.raw(
      `select array_agg(id) as ids, array_agg(project_id) as projects from repositories
        where ${repositoryId === undefined ? 'true' : 'id = ?'} and rollups_project_id <> project_id`,
      repositoryId === undefined ? [] : [repositoryId],
    )
  ).rows[0] as { ids: number[] | null; projects: number[] | null };
  await withHashJoins(trx, async () => {
    await ensureIdentities(trx, scope);
    const changes = await stagedDifference(
      trx,
      COMMIT_FACTS,
      await countedFacts(trx, scope),
      commitScopeSql(scope, 's'),
    );
    await replaceFacts(trx, COMMIT_FACTS, changes);
    // Under the tenant's exclusive lock nobody else writes rollups: empty ones can be filled without upserts.
    await applyFactChanges(trx, changes, { exclusive: repositoryId === undefined });
  });
  // Only moved repositories' rows are written (and locked to the end of the rebuild's transaction).
  if (projects.ids !== null)
    await trx.raw(
      `update repositories r set rollups_project_id = m.project_id
         from unnest(?::bigint[], ?::bigint[]) as m(id, project_id) where r.id = m.id`,
      [projects.ids, projects.projects],
    );
  // Pull-request facts carry the project too: rebuilt in this transaction, they are counted under the same
  // rollups_project_id as the commits (a move committed meanwhile leaves it behind project_id, as above).
  await rebuildPullRequestFacts(trx, repositoryId);
}

/**
 * Applies signed commit facts to every cube: sums added (rows created as needed), rows left without commits
 * deleted, and first/last commit times recomputed where a commit that left a bucket was its first or last.
 * `exclusive`: the caller holds the tenant's exclusive upkeep lock, so a cube found empty is filled with plain
 * inserts (a rebuild from scratch writes a million rows; upserts cost more than inserts).
 */
async function applyFactChanges(
  trx: Trx,
  changes: Changes,
  options: { exclusive?: boolean } = {},
): Promise<void> {
  // A commit leaves a rollup row only when one of the row's keys changed (or the commit stopped counting); when only
  // line counts changed (a diffstat arrived, exclusions changed) every row keeps its commits, first and last times.
  const placement = 'repository_id, hash, project_id, contributor_id, authored_at, is_merge, is_bot';
  const { rows } = await trx.raw(
    `select exists (
       select ${placement} from (${changes.sql}) c where c.sign < 0
       except all
       select ${placement} from (${changes.sql}) c where c.sign > 0) as removals`,
    [...changes.bindings, ...changes.bindings],
  );
  const removals = rows[0].removals as boolean;
  for (const c of ALL_CUBES) {
    const keys = keyColumns(c);
    const t = c.table;
    const values = keys.map((k) => keyValueSql(c, k));
    const counted = c.project ? 'and c.project_id <> 0' : '';
    const groups = keys.map((_k, i) => i + 2).join(', ');
    const times = c.contributor
      ? [
          `coalesce(min(c.authored_at) filter (where c.sign > 0), 'infinity')`,
          `coalesce(max(c.authored_at) filter (where c.sign > 0), '-infinity')`,
        ]
      : [];
    const empty =
      options.exclusive === true &&
      (await trx.raw(`select not exists (select 1 from ${t}) as empty`)).rows[0].empty === true;
    const upsert = `on conflict (tenant_id, ${keys.join(', ')}) do update set
          ${[
            ...SUMS.map((s) => `${s} = x.${s} + excluded.${s}`),
            ...(c.contributor
              ? [
                  'first_at = least(x.first_at, excluded.first_at)',
                  'last_at = greatest(x.last_at, excluded.last_at)',
                ]
              : []),
          ].join(', ')}`;
    const finer = empty ? finerSource(c) : undefined;
    if (finer) {
      // Empty under the exclusive lock (a build from scratch): the sums of a finer cube with the same keys, already
      // current (written earlier in this pass), instead of grouping every changed fact again.
      const bucket =
        c.grain === null ? `'-infinity'::timestamptz` : `date_trunc('${c.grain.name}', f.bucket, 'UTC')`;
      const derived = keys.map((k) => (k === 'bucket' ? bucket : `f.${k}`));
      const order = keys.map((_k, i) => i + 2).join(', ');
      await trx.raw(
        `insert into ${t} (tenant_id, ${keys.join(', ')}, ${SUMS.join(', ')}${c.contributor ? ', first_at, last_at' : ''})
         select ${TENANT}, ${derived.join(', ')}, ${SUMS.map((s) => `sum(f.${s})`).join(', ')}${
           c.contributor ? ', min(f.first_at), max(f.last_at)' : ''
         }
           from ${finer.table} f
          group by ${order}
          order by ${order}`,
      );
    } else
      await trx.raw(
        `insert into ${t} as x (tenant_id, ${keys.join(', ')}, ${SUMS.join(', ')}${c.contributor ? ', first_at, last_at' : ''})
       select ${TENANT}, ${values.join(', ')}, sum(c.sign), ${SUMS.slice(1)
         .map((s) => `sum(c.sign * c.${s})`)
         .join(', ')}${times.map((x) => `, ${x}`).join('')}
         from (${changes.sql}) c
        where true ${counted}
        group by ${groups}
        -- Ordered by key so that concurrent writers of the same buckets lock rows in the same order.
        order by ${groups}
       ${empty ? '' : upsert}`,
        changes.bindings,
      );
    if (!removals) continue;
    const match = (a: string, b: string) => keys.map((k) => `${a}.${k} = ${b}.${k}`).join(' and ');
    const shrunk = `select distinct ${values.map((v, i) => `${v} as ${keys[i]}`).join(', ')}
                      from (${changes.sql}) c where c.sign < 0 ${counted}`;
    await trx.raw(
      `delete from ${t} x using (${shrunk}) k where ${match('x', 'k')} and x.commits <= 0`,
      changes.bindings,
    );
    if (c.contributor) await refreshFirstAndLast(trx, c, changes);
  }
}

const GRAIN_RANK = (c: Cube) =>
  c.grain === null ? 4 : ['hour', 'day', 'month', 'year'].indexOf(c.grain.name);

/**
 * The coarsest cube before c in ALL_CUBES (so already brought up to date in a pass) with exactly c's keys and finer
 * buckets that c's buckets are unions of (hours starting on the hour only): c's rows are its rows summed.
 */
function finerSource(c: Cube): Cube | undefined {
  if (c.phase !== 0) return undefined;
  const same = (o: Cube) =>
    o.repository === c.repository &&
    o.contributor === c.contributor &&
    o.project === c.project &&
    o.weekHour === c.weekHour &&
    o.phase === 0;
  return ALL_CUBES.slice(0, ALL_CUBES.indexOf(c))
    .filter((o) => same(o) && GRAIN_RANK(o) < GRAIN_RANK(c))
    .sort((a, b) => GRAIN_RANK(b) - GRAIN_RANK(a))[0];
}

/**
 * First and last commit times of the rows a commit left (and no commit at the same time came back to) where that
 * commit was the first or the last: recomputed from the facts, one index range per row.
 */
async function refreshFirstAndLast(trx: Trx, c: Cube, changes: Changes): Promise<void> {
  const keys = keyColumns(c);
  const side = (sign: string) =>
    `select ${keys.map((k) => `${keyValueSql(c, k)} as ${k}`).join(', ')}, c.authored_at
       from (${changes.sql}) c where c.sign ${sign} 0 ${c.project ? 'and c.project_id <> 0' : ''}`;
  const match = (a: string, b: string) => keys.map((k) => `${a}.${k} = ${b}.${k}`).join(' and ');
  const bucketEnd =
    c.grain === null
      ? `'infinity'::timestamptz`
      : `(s.bucket at time zone 'UTC' + interval '1 ${c.grain.name}') at time zone 'UTC'`;
  await trx.raw(
    `with departed as (${side('<')} except all ${side('>')}),
     stale as (
       select distinct ${keys.map((k) => `x.${k}`).join(', ')}
         from departed d join ${c.table} x on ${match('x', 'd')}
        where d.authored_at <= x.first_at or d.authored_at >= x.last_at
     )
     update ${c.table} x set first_at = f.first_at, last_at = f.last_at
       from (select s.*, t.first_at, t.last_at
               from stale s
               cross join lateral (
                 select min(cf.authored_at) as first_at, max(cf.authored_at) as last_at from commit_facts cf
                  where cf.contributor_id = s.contributor_id and cf.is_merge = s.is_merge and cf.is_bot = s.is_bot
                    ${c.repository ? 'and cf.repository_id = s.repository_id' : ''}
                    ${c.project ? 'and cf.project_id = s.project_id' : ''}
                    and cf.authored_at >= s.bucket and cf.authored_at < ${bucketEnd}
               ) t) f
      where ${match('x', 'f')}`,
    [...changes.bindings, ...changes.bindings],
  );
}
