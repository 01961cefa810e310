import type { Knex } from 'knex';
import type { Trx } from '../db/database';
import { keySql } from './identities';
import { pullRequestFilters } from './pull-requests';
import { lineColumns, scopeFilters, type Scope } from './scope';

/**
 * Row exports, one page at a time in a stable order (keyset paging), so that a caller can stream any number of
 * rows in short transactions without holding a cursor open.
 */

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface CommitRow {
  date: Date;
  repository: string;
  repository_uuid: string;
  hash: string;
  author: string;
  author_key: string;
  author_email: string | null;
  merge: boolean;
  lines_added: number;
  lines_removed: number;
}

/** Where the previous page ended. */
export interface Cursor {
  at: string;
  repositoryId: number;
  id: string;
}

export interface Page<T> {
  rows: T[];
  next: Cursor | null;
}

/** The line columns of facts under the scope's exclusions setting. */
/**
 * Past this many repositories (or people) a page reads the date index once, filtered by the list, instead of one
 * ordered scan per value: planning one branch per value costs more than the filter saves (see commitFactsPage).
 */
export const MAX_PAGE_BRANCHES = 64;

/**
 * One keyset page of counted commits in scope (the rows the graphs sum), oldest or newest first: the page of facts
 * first, then only its rows joined to the commit, its repository and its (root) contributor, so the plan cannot
 * wander into joining whole tables, statistics or not. `columns` is the outer select list over `f` (facts), `c`
 * (commits), `r` (repositories) and `root` (contributors).
 *
 * The page reads what it returns, whatever the range holds (docs/analytics.md, "The drill-down"): filtered by
 * repositories or people, it is one branch per repository (or per person: `branchOn`, else the shorter list) with
 * an equality on that id, so each branch scans its own (id, authored_at) index in order from the cursor, and a merge
 * of the branches stops after `limit` rows. A list (`= any(…)`) on the index's second column makes PostgreSQL treat
 * the index as unordered: it then sorted every row of the range (a week of a repository, a month of a person) or
 * walked the date index past every other repository's rows (all of them, for a repository with a few commits).
 * Without a list, or past `maxBranches` ids: the date index, backwards from the cursor, filtered.
 */
export function commitFactsPage(
  scope: Scope,
  after: { at: string; repositoryId: number; hash: string } | null,
  limit: number,
  order: 'asc' | 'desc',
  columns: string,
  options: {
    /** With both a repository and a person list: branch on this one (the one with fewer commits reads less). */
    branchOn?: 'repository' | 'contributor';
    maxBranches?: number;
  } = {},
): { sql: string; bindings: Knex.Value[] } {
  const maxBranches = options.maxBranches ?? MAX_PAGE_BRANCHES;
  const keys =
    order === 'asc'
      ? 'f.authored_at, f.repository_id, f.hash'
      : 'f.authored_at desc, f.repository_id desc, f.hash desc';
  const repositories = scope.repositoryIds;
  const people = scope.contributorIds;
  let by: 'repository_id' | 'contributor_id' | null =
    people !== null &&
    (repositories === null ||
      (options.branchOn ?? (people.length <= repositories.length ? 'contributor' : 'repository')) ===
        'contributor')
      ? 'contributor_id'
      : repositories !== null
        ? 'repository_id'
        : null;
  const values = by === 'contributor_id' ? people! : by === 'repository_id' ? repositories! : [];
  if (values.length > maxBranches) by = null;
  // The flags, and the list not branched on.
  const rest = scopeFilters(scope, 'f', {
    repository: by !== 'repository_id',
    contributor: by !== 'contributor_id',
  });
  const branch = (value: number | null): { sql: string; bindings: Knex.Value[] } => ({
    sql: `select f.* from commit_facts f
           where f.authored_at >= coalesce(?::timestamptz, '-infinity') and f.authored_at < coalesce(?::timestamptz, 'infinity')
             ${value === null ? '' : `and f.${by} = ?::bigint`}
             ${rest.sql}
             ${after ? `and (f.authored_at, f.repository_id, f.hash) ${order === 'asc' ? '>' : '<'} (?::timestamptz, ?::bigint, ?::text)` : ''}
           order by f.authored_at ${order}
           fetch first ? rows with ties`,
    bindings: [
      iso(scope.start),
      iso(scope.end),
      ...(value === null ? [] : [value]),
      ...rest.bindings,
      ...(after ? [after.at, after.repositoryId, after.hash] : []),
      limit,
    ],
  });
  // Each branch is ordered by time alone, its limit keeping every row tied with its last (so no row of the page is
  // cut among equal times): an index scan with nothing to sort, which the merge of the branches reads lazily, a row
  // or so per branch beyond the page. Sorting each branch by hash too would read 32 rows of each first (an
  // incremental sort's smallest batch); the page's own tie-break (repository, hash) is sorted once, after the merge.
  const branches = by === null ? [branch(null)] : values.map(branch);
  const page =
    branches.length === 0
      ? { sql: 'select f.* from commit_facts f where false', bindings: [] }
      : {
          sql: `select * from (${branches.map((b) => `(${b.sql})`).join(' union all ')}) f order by ${keys} limit ?`,
          bindings: [...branches.flatMap((b) => b.bindings), limit],
        };
  return {
    sql: `with page as materialized (${page.sql})
     select ${columns}
       from page f
       join commits c on c.tenant_id = f.tenant_id and c.repository_id = f.repository_id and c.hash = f.hash
       join repositories r on r.tenant_id = f.tenant_id and r.id = f.repository_id
       join contributors m on m.tenant_id = f.tenant_id and m.id = f.contributor_id
       join contributors root on root.tenant_id = f.tenant_id and root.id = coalesce(m.merged_into, m.id)
      order by ${keys}`,
    bindings: page.bindings,
  };
}

/** Counted commits in scope (the rows the graphs sum), oldest first. */
export async function commitPage(
  trx: Trx,
  scope: Scope,
  after: Cursor | null,
  limit: number,
): Promise<Page<CommitRow>> {
  const { added, removed } = lineColumns(scope);
  const page = commitFactsPage(
    scope,
    after && { at: after.at, repositoryId: after.repositoryId, hash: after.id },
    limit,
    'asc',
    `f.authored_at as date, r.full_name as repository, r.uuid as repository_uuid, f.hash,
     root.display_name as author, ${keySql('root')} as author_key, c.author_email,
     f.is_merge as merge, f.${added} as lines_added, f.${removed} as lines_removed,
     f.repository_id as cursor_repository, f.authored_at::text as cursor_at`,
  );
  const { rows } = await trx.raw(page.sql, page.bindings);
  return pageOf(rows, limit, (r) => ({ at: r.cursor_at, repositoryId: r.cursor_repository, id: r.hash }));
}

export interface PullRequestRow {
  created_on: Date;
  repository: string;
  repository_uuid: string;
  id: number;
  title: string;
  author: string | null;
  state: string;
  source_branch: string | null;
  destination_branch: string | null;
  merged_on: Date | null;
  closed_on: Date | null;
  comment_count: number;
  task_count: number;
  hours_to_merge: number | null;
}

/** Pull requests created in scope, oldest first (bots dropped unless included). */
export async function pullRequestPage(
  trx: Trx,
  scope: Scope,
  after: Cursor | null,
  limit: number,
): Promise<Page<PullRequestRow>> {
  const bindings: Knex.Value[] = [iso(scope.start), iso(scope.end)];
  let filters = '';
  const people = pullRequestFilters(scope, 'p');
  filters += ` ${people.sql}`;
  bindings.push(...people.bindings);
  if (scope.bots === 'exclude') {
    filters += ` and not exists (select 1 from unnest(?::text[]) b where strpos(lower(coalesce(p.author_name, '')), b) > 0)`;
    bindings.push(scope.botPatterns);
  }
  if (after) {
    filters += ' and (p.created_on, p.repository_id, p.id) > (?::timestamptz, ?::bigint, ?::int)';
    bindings.push(after.at, after.repositoryId, Number(after.id));
  }
  const { rows } = await trx.raw(
    `select p.created_on, r.full_name as repository, r.uuid as repository_uuid, p.id, p.title, p.author_name as author,
            p.state, p.source_branch, p.destination_branch, p.merged_on, p.closed_on, p.comment_count, p.task_count,
            case when p.merged_on is null then null
                 else round((extract(epoch from p.merged_on - p.created_on) / 3600)::numeric, 2)::float8 end as hours_to_merge,
            p.repository_id as cursor_repository, p.created_on::text as cursor_at
       from pull_requests p
       join repositories r on r.tenant_id = p.tenant_id and r.id = p.repository_id
      where p.created_on >= coalesce(?::timestamptz, '-infinity') and p.created_on < coalesce(?::timestamptz, 'infinity')
        ${filters}
      order by p.created_on, p.repository_id, p.id
      limit ?`,
    [...bindings, limit],
  );
  return pageOf(rows, limit, (r) => ({
    at: r.cursor_at,
    repositoryId: r.cursor_repository,
    id: String(r.id),
  }));
}

type WithCursor = { cursor_repository: number; cursor_at: string };

function pageOf<T>(
  rows: (T & WithCursor)[],
  limit: number,
  cursorOf: (row: T & WithCursor) => Cursor,
): Page<T> {
  const last = rows.at(-1);
  const next = rows.length === limit && last ? cursorOf(last) : null;
  return {
    rows: rows.map(({ cursor_repository: _r, cursor_at: _a, ...row }) => row as T),
    next,
  };
}
