import type { Knex } from 'knex';
import type { Trx } from '../db/database';
import { effectiveBotPatterns, loadSettings } from './rules';
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
 * Pull-request facts and rollups (docs/analytics.md), the pull-request counterpart of facts.ts and rollups.ts:
 * - pull_request_facts: per pull request, when it was created, merged, declined, first reviewed; open or not; the
 *   author a bot or not (bot patterns of the settings, matched on the author's name);
 * - pull_request_review_facts: per review (a participant other than the author who is a reviewer, approved or
 *   requested changes), when (participation time, else the pull request's creation);
 * both with the pull request's author (account id, uuid), so that statistics of a person or team read their facts by
 * index (author=, team=);
 * - pull_request_rollups_daily: created / merged / declined per UTC day and bot flag, workspace-wide;
 * - pull_request_duration_rollups_daily/_monthly/_yearly: merged pull requests by duration bin and merge bucket;
 * - pull_request_reviewer_rollups_daily/_monthly/_yearly: reviews, approvals, changes requested per reviewer;
 * - repository_pull_request_rollups_daily, repository_pull_request_duration_rollups_*, repository_pull_request_reviewer_
 *   rollups_*: the same per repository (statistics filtered by repository);
 * - project_pull_request_rollups_daily, project_pull_request_duration_rollups_*, project_pull_request_reviewer_rollups_*:
 *   the same per Bitbucket project (statistics filtered by whole projects), keyed by the facts' project_id (the project
 *   their repository had when they were written: a move rebuilds the repository's facts, commits and pull requests
 *   alike, in one transaction); pull requests of repositories without a project (project 0) are left out of them.
 * Reviewer names live in pull_request_reviewers, kept by a trigger on participants (see the migration).
 * Pull requests of deleted repositories do not count (like their commits).
 */

const PR_FACTS: FactTable = {
  table: 'pull_request_facts',
  columns: {
    repository_id: 'bigint',
    pull_request_id: 'integer',
    project_id: 'bigint',
    created_on: 'timestamptz',
    merged_on: 'timestamptz',
    declined_on: 'timestamptz',
    first_review_on: 'timestamptz',
    is_open: 'boolean',
    is_bot: 'boolean',
    author_account_id: 'text',
    author_uuid: 'text',
  },
  key: ['repository_id', 'pull_request_id'],
};

const REVIEW_FACTS: FactTable = {
  table: 'pull_request_review_facts',
  columns: {
    repository_id: 'bigint',
    pull_request_id: 'integer',
    user_uuid: 'text',
    project_id: 'bigint',
    reviewed_at: 'timestamptz',
    approved: 'boolean',
    changes_requested: 'boolean',
    author_account_id: 'text',
    author_uuid: 'text',
  },
  key: ['repository_id', 'pull_request_id', 'user_uuid'],
};

/** A review: someone other than the author, as reviewer or having approved or requested changes. */
const IS_REVIEW = `(pp.role = 'REVIEWER' or pp.approved or pp.state is not null) and pp.user_uuid is distinct from p.author_uuid`;

/** Rollups by UTC day, month and year: tiled like the commit rollups (time-buckets.ts). */
export type RollupGrain = 'day' | 'month' | 'year';
const tables = (prefix: string): Record<RollupGrain, string> => ({
  day: `${prefix}_daily`,
  month: `${prefix}_monthly`,
  year: `${prefix}_yearly`,
});
export const REVIEWER_ROLLUPS = tables('pull_request_reviewer_rollups');
export const DURATION_ROLLUPS = tables('pull_request_duration_rollups');

/** A family of pull-request rollups: workspace-wide, or keyed by repository or by project too. */
export interface PullRequestRollups {
  /** The key column after the tenant (a fact column too); null: workspace-wide. */
  key: 'repository_id' | 'project_id' | null;
  /** Created / merged / declined per UTC day. */
  daily: string;
  durations: Record<RollupGrain, string>;
  reviewers: Record<RollupGrain, string>;
}
export const WORKSPACE_PR_ROLLUPS: PullRequestRollups = {
  key: null,
  daily: 'pull_request_rollups_daily',
  durations: DURATION_ROLLUPS,
  reviewers: REVIEWER_ROLLUPS,
};
export const REPOSITORY_PR_ROLLUPS: PullRequestRollups = {
  key: 'repository_id',
  daily: 'repository_pull_request_rollups_daily',
  durations: tables('repository_pull_request_duration_rollups'),
  reviewers: tables('repository_pull_request_reviewer_rollups'),
};
/** Per project (no rows for project 0: repositories without a project). */
export const PROJECT_PR_ROLLUPS: PullRequestRollups = {
  key: 'project_id',
  daily: 'project_pull_request_rollups_daily',
  durations: tables('project_pull_request_duration_rollups'),
  reviewers: tables('project_pull_request_reviewer_rollups'),
};
const PR_ROLLUPS = [WORKSPACE_PR_ROLLUPS, REPOSITORY_PR_ROLLUPS, PROJECT_PR_ROLLUPS];
/** Every table of the families, workspace first. */
export const PR_ROLLUP_TABLES = PR_ROLLUPS.flatMap((f) => [
  f.daily,
  ...Object.values(f.durations),
  ...Object.values(f.reviewers),
]);

/**
 * Durations of merged pull requests, in hours, for alias f (facts): to merge, to the first review, from the first
 * review to the merge. Numeric, as the exact percentiles read them.
 */
export const durationSql = (f: string) => ({
  toMerge: `extract(epoch from ${f}.merged_on - ${f}.created_on) / 3600`,
  toReview: `extract(epoch from ${f}.first_review_on - ${f}.created_on) / 3600`,
  reviewToMerge: `extract(epoch from ${f}.merged_on - ${f}.first_review_on) / 3600`,
});

/**
 * Log-spaced duration bins: bin k holds [2^(k/32), 2^((k+1)/32)) minutes (each about 2.2% wide); bin -1 anything
 * under a minute (negative durations included: a first review after the merge).
 */
export const BINS_PER_OCTAVE = 32;
const logBin = (hours: string) =>
  `case when (${hours}) * 60 < 1 then -1 else floor(ln(((${hours}) * 60)::float8) / ln(2) * ${BINS_PER_OCTAVE})::int end`;

/** The API's time-to-merge histogram: upper bounds in hours of bins 0–5; bin 6 is everything longer. */
export const HISTOGRAM_HOURS = [1, 4, 24, 72, 168, 672];
const histogramBin = (hours: string) =>
  `case ${HISTOGRAM_HOURS.map((h, i) => `when ${hours} < ${h} then ${i}`).join(' ')} else ${HISTOGRAM_HOURS.length} end`;

/** Duration metrics of the duration rollups. */
export const METRICS = { toMerge: 0, toReview: 1, reviewToMerge: 2, histogram: 3 } as const;

/** `(metric, bin)` rows of a merged pull request (alias f), for `cross join lateral (values …)`. */
export function durationBinsSql(f: string): string {
  const d = durationSql(f);
  return `(values (${METRICS.toMerge}, ${logBin(d.toMerge)}), (${METRICS.toReview}, ${logBin(d.toReview)}),
                  (${METRICS.reviewToMerge}, ${logBin(d.reviewToMerge)}), (${METRICS.histogram}, ${histogramBin(d.toMerge)}))`;
}

interface PullRequestScope {
  repositoryId?: number;
  ids?: number[];
}

/** `and …` restricting alias p (pull_requests) to the scope. */
function scopeSql(scope: PullRequestScope, alias = 'p'): Fragment {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  if (scope.repositoryId !== undefined) {
    parts.push(`and ${alias}.repository_id = ?`);
    bindings.push(scope.repositoryId);
  }
  if (scope.ids !== undefined) {
    parts.push(`and ${alias}.${alias === 'p' ? 'id' : 'pull_request_id'} = any(?::int[])`);
    bindings.push(scope.ids);
  }
  return { sql: parts.join(' '), bindings };
}

/** The pull-request facts the scope should have now. */
async function freshFacts(trx: Trx, scope: PullRequestScope): Promise<Fragment> {
  const bots = effectiveBotPatterns(await loadSettings(trx));
  const where = scopeSql(scope);
  return {
    sql: `select p.repository_id, p.id as pull_request_id, r.project_id, p.created_on,
                 case when p.state = 'MERGED' then p.merged_on end as merged_on,
                 case when p.state = 'DECLINED' then coalesce(p.closed_on, p.updated_on) end as declined_on,
                 (select min(pp.participated_on) from pull_request_participants pp
                   where pp.tenant_id = p.tenant_id and pp.repository_id = p.repository_id and pp.pull_request_id = p.id
                     and pp.participated_on is not null and ${IS_REVIEW}) as first_review_on,
                 p.state = 'OPEN' as is_open,
                 exists (select 1 from unnest(?::text[]) b where strpos(lower(coalesce(p.author_name, '')), b) > 0) as is_bot,
                 p.author_account_id, p.author_uuid
            from pull_requests p
            join repositories r on r.tenant_id = p.tenant_id and r.id = p.repository_id and r.deleted_at is null
           where true ${where.sql}`,
    bindings: [bots, ...where.bindings],
  };
}

/** The review facts the scope should have now. */
function freshReviews(scope: PullRequestScope): Fragment {
  const where = scopeSql(scope);
  return {
    sql: `select pp.repository_id, pp.pull_request_id, pp.user_uuid, r.project_id,
                 coalesce(pp.participated_on, p.created_on) as reviewed_at, pp.approved,
                 coalesce(pp.state = 'changes_requested', false) as changes_requested,
                 p.author_account_id, p.author_uuid
            from pull_request_participants pp
            join pull_requests p on p.tenant_id = pp.tenant_id and p.repository_id = pp.repository_id and p.id = pp.pull_request_id
            join repositories r on r.tenant_id = p.tenant_id and r.id = p.repository_id and r.deleted_at is null
           where ${IS_REVIEW} ${where.sql}`,
    bindings: where.bindings,
  };
}

/**
 * A family's key columns after the tenant (the repository or project first where it has one): as read from the
 * changes (c), as named in its tables, the positions to group by of the select list `tenant, [key,] count more`, and
 * the `and …` leaving out changes the family does not count (project 0: no project).
 */
function keysOf(family: PullRequestRollups) {
  const n = family.key === null ? 0 : 1;
  return {
    keyValue: family.key === null ? '' : `c.${family.key}, `,
    keyColumn: family.key === null ? '' : `${family.key}, `,
    groups: (count: number) => Array.from({ length: count + n }, (_v, i) => i + 2).join(', '),
    counted: family.key === 'project_id' ? 'and c.project_id <> 0' : '',
  };
}

/** Adds signed pull-request facts to the rollups; rows left at zero are removed. */
async function applyPullRequestChanges(
  trx: Trx | Knex,
  changes: Changes,
  families: PullRequestRollups[] = PR_ROLLUPS,
): Promise<void> {
  for (const family of families) {
    const { keyValue, keyColumn, groups, counted } = keysOf(family);
    for (const [grain, table] of Object.entries(family.durations)) {
      const bucket = `date_trunc('${grain}', c.merged_on, 'UTC')`;
      await trx.raw(
        `insert into ${table} as x (tenant_id, ${keyColumn}bucket, is_bot, metric, bin, merged)
         select ${TENANT}, ${keyValue}${bucket}, c.is_bot, m.metric, m.bin, sum(c.sign)
           from (${changes.sql}) c cross join lateral ${durationBinsSql('c')} as m(metric, bin)
          where c.merged_on is not null and m.bin is not null ${counted}
          group by ${groups(4)}
          order by ${groups(4)}
         on conflict (tenant_id, ${keyColumn}bucket, is_bot, metric, bin) do update set merged = x.merged + excluded.merged`,
        changes.bindings,
      );
      await trx.raw(
        `delete from ${table}
          where merged = 0 and (${keyColumn}bucket) in (
            select ${keyValue}${bucket} from (${changes.sql}) c where c.merged_on is not null ${counted})`,
        changes.bindings,
      );
    }
    await trx.raw(
      `insert into ${family.daily} as x (tenant_id, ${keyColumn}bucket, is_bot, created, merged, declined)
       select ${TENANT}, ${keyValue}date_trunc('day', e.at, 'UTC'), c.is_bot,
              sum(c.sign * e.created), sum(c.sign * e.merged), sum(c.sign * e.declined)
         from (${changes.sql}) c
         cross join lateral (values (c.created_on, 1, 0, 0), (c.merged_on, 0, 1, 0), (c.declined_on, 0, 0, 1))
              as e(at, created, merged, declined)
        where e.at is not null ${counted}
        group by ${groups(2)}
        -- Ordered by key so that concurrent writers of the same buckets lock rows in the same order.
        order by ${groups(2)}
       on conflict (tenant_id, ${keyColumn}bucket, is_bot) do update set
          created = x.created + excluded.created, merged = x.merged + excluded.merged,
          declined = x.declined + excluded.declined`,
      changes.bindings,
    );
    await trx.raw(
      `delete from ${family.daily}
        where created = 0 and merged = 0 and declined = 0
          and (${keyColumn}bucket) in (select ${keyValue}date_trunc('day', e.at, 'UTC')
                           from (${changes.sql}) c
                           cross join lateral (values (c.created_on), (c.merged_on), (c.declined_on)) e(at)
                          where true ${counted})`,
      changes.bindings,
    );
  }
}

/** Adds signed review facts to the reviewer rollups; rows left at zero are removed. */
async function applyReviewChanges(
  trx: Trx | Knex,
  changes: Changes,
  families: PullRequestRollups[] = PR_ROLLUPS,
): Promise<void> {
  for (const family of families) {
    const { keyValue, keyColumn, groups, counted } = keysOf(family);
    for (const [grain, table] of Object.entries(family.reviewers)) {
      await trx.raw(
        `insert into ${table} as x (tenant_id, ${keyColumn}bucket, user_uuid, reviews, approvals, changes_requested)
         select ${TENANT}, ${keyValue}date_trunc('${grain}', c.reviewed_at, 'UTC'), c.user_uuid, sum(c.sign),
                coalesce(sum(c.sign) filter (where c.approved), 0),
                coalesce(sum(c.sign) filter (where c.changes_requested), 0)
           from (${changes.sql}) c
          where true ${counted}
          group by ${groups(2)}
          order by ${groups(2)}
         on conflict (tenant_id, ${keyColumn}bucket, user_uuid) do update set
            reviews = x.reviews + excluded.reviews, approvals = x.approvals + excluded.approvals,
            changes_requested = x.changes_requested + excluded.changes_requested`,
        changes.bindings,
      );
      await trx.raw(
        `delete from ${table}
          where reviews = 0 and (${keyColumn}bucket, user_uuid) in (
            select ${keyValue}date_trunc('${grain}', c.reviewed_at, 'UTC'), c.user_uuid from (${changes.sql}) c
             where true ${counted})`,
        changes.bindings,
      );
    }
  }
}

/**
 * Fills one family of pull-request rollups of the current tenant from its stored facts (migrations 202612088001 and
 * 202612089400, for tenants whose facts predate those rollups). The caller holds the tenant's exclusive upkeep lock.
 */
async function fillPullRequestRollups(trx: Trx | Knex, family: PullRequestRollups): Promise<void> {
  const stored = (table: string): Changes => ({
    sql: `select f.*, 1 as sign from ${table} f where f.tenant_id = ${TENANT}`,
    bindings: [],
  });
  await applyPullRequestChanges(trx, stored('pull_request_facts'), [family]);
  await applyReviewChanges(trx, stored('pull_request_review_facts'), [family]);
}

/** The per-repository pull-request rollups (migration 202612088001). */
export const fillRepositoryPullRequestRollups = (trx: Trx | Knex) =>
  fillPullRequestRollups(trx, REPOSITORY_PR_ROLLUPS);

/** The per-project pull-request rollups, from facts that carry their project (migration 202612089400). */
export const fillProjectPullRequestRollups = (trx: Trx | Knex) =>
  fillPullRequestRollups(trx, PROJECT_PR_ROLLUPS);

/**
 * Brings the facts and rollups of these pull requests (written or deleted) up to date, for the changes the
 * pull-request sync queued (change-queue.ts). Idempotent: a pull request whose facts are unchanged changes nothing.
 */
export async function recordPullRequestChanges(
  trx: Trx,
  repositoryId: number,
  prIds: number[],
): Promise<void> {
  const ids = [...new Set(prIds)];
  if (ids.length === 0) return;
  await lockUpkeep(trx, repositoryId);
  const scope = { repositoryId, ids };
  const stored = scopeSql(scope, 's');
  await withHashJoins(trx, async () => {
    const facts = await batchDifference(trx, PR_FACTS, await freshFacts(trx, scope), stored);
    if (facts) {
      await replaceFacts(trx, PR_FACTS, facts);
      await applyPullRequestChanges(trx, facts);
    }
    const reviews = await batchDifference(trx, REVIEW_FACTS, freshReviews(scope), stored);
    if (reviews) {
      await replaceFacts(trx, REVIEW_FACTS, reviews);
      await applyReviewChanges(trx, reviews);
    }
  });
}

/**
 * Recomputes pull-request facts and rollups from the stored pull requests, for one repository or the tenant (after
 * a bot-pattern change, a repository's deletion or restore). Set-based: only facts that differ are replaced and
 * their difference applied, in a few statements whatever the number of pull requests. The caller holds the upkeep
 * lock (rebuildRollups).
 */
export async function rebuildPullRequestFacts(trx: Trx, repositoryId?: number): Promise<void> {
  const scope = repositoryId === undefined ? {} : { repositoryId };
  const stored = scopeSql(scope, 's');
  const facts = await stagedDifference(trx, PR_FACTS, await freshFacts(trx, scope), stored);
  await replaceFacts(trx, PR_FACTS, facts);
  await applyPullRequestChanges(trx, facts);
  const reviews = await stagedDifference(trx, REVIEW_FACTS, freshReviews(scope), stored);
  await replaceFacts(trx, REVIEW_FACTS, reviews);
  await applyReviewChanges(trx, reviews);
}
