import type { Trx } from '../db/database';
import { keySql } from './identities';
import { commitFactsPage } from './export';
import { lineColumns, type Scope } from './scope';

/**
 * The commits behind a number (GET /api/v1/commits): counted commits in scope, newest first, one keyset page at a
 * time, so a click on a bar, a calendar day or a person lists exactly what that figure sums.
 */

/** How much of a message's first line an answer carries. */
export const SUMMARY_CHARS = 200;

/** Where a page ended: the last commit's time (UTC, microseconds), repository id and hash. */
export interface CommitCursor {
  at: string;
  repositoryId: number;
  hash: string;
}

export interface CommitListItem {
  hash: string;
  date: string;
  author_key: string;
  author_name: string;
  repository: { uuid: string; full_name: string };
  summary: string;
  merge: boolean;
  lines_added: number;
  lines_removed: number;
}

export interface CommitList {
  commits: CommitListItem[];
  next: CommitCursor | null;
}

export async function commitList(
  trx: Trx,
  scope: Scope,
  after: CommitCursor | null,
  limit: number,
): Promise<CommitList> {
  const { added, removed } = lineColumns(scope);
  const branchOn = await sparserList(trx, scope);
  // One row more than asked says whether there is a next page.
  const page = commitFactsPage(
    scope,
    after,
    limit + 1,
    'desc',
    `f.hash, to_char(f.authored_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at,
     ${keySql('root')} as author_key, root.display_name as author_name,
     r.uuid as repository_uuid, r.full_name as repository, f.repository_id,
     left(split_part(c.message, E'\\n', 1), ${SUMMARY_CHARS}) as summary,
     f.is_merge as merge, f.${added} as lines_added, f.${removed} as lines_removed`,
    { branchOn },
  );
  const { rows } = await trx.raw(page.sql, page.bindings);
  const shown = (rows as CommitRow[]).slice(0, limit);
  const last = shown.at(-1);
  return {
    commits: shown.map((r) => ({
      hash: r.hash,
      date: r.at,
      author_key: r.author_key,
      author_name: r.author_name,
      repository: { uuid: r.repository_uuid, full_name: r.repository },
      summary: r.summary,
      merge: r.merge,
      lines_added: r.lines_added,
      lines_removed: r.lines_removed,
    })),
    next:
      rows.length > limit && last
        ? { at: last.at, repositoryId: Number(last.repository_id), hash: last.hash }
        : null,
  };
}

/**
 * Filtered by repositories and people both (a person on a repository's page), which list the page should scan, the
 * other one filtering: the one with fewer commits (from the all-time rollups: a few rows per id), since the rows it
 * reads beyond the page are its commits outside the other list. A person's commits in a busy repository are best
 * found among the person's; a busy person's in a small repository among the repository's.
 */
async function sparserList(trx: Trx, scope: Scope): Promise<'repository' | 'contributor' | undefined> {
  const repositories = scope.repositoryIds;
  const people = scope.contributorIds;
  if (repositories === null || people === null || repositories.length === 0 || people.length === 0)
    return undefined;
  const { rows } = await trx.raw(
    `select (select coalesce(sum(commits), 0) from contributor_rollups_total
              where contributor_id = any(?::bigint[]))::float8 as people,
            (select coalesce(sum(commits), 0) from repository_rollups_yearly
              where repository_id = any(?::bigint[]))::float8 as repositories`,
    [people, repositories],
  );
  const counts = rows[0] as { people: number; repositories: number };
  return counts.people <= counts.repositories ? 'contributor' : 'repository';
}

interface CommitRow {
  hash: string;
  at: string;
  author_key: string;
  author_name: string;
  repository_uuid: string;
  repository: string;
  repository_id: string | number;
  summary: string;
  merge: boolean;
  lines_added: number;
  lines_removed: number;
}
