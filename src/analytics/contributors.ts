import type { Trx } from '../db/database';
import { keySql } from './identities';
import { matchesNothing, sourceFor, type Scope } from './scope';

export interface ContributorTotals {
  key: string;
  account_id: string | null;
  display_name: string;
  emails: string[];
  commits: number;
  lines_added: number;
  lines_removed: number;
  first_commit: Date;
  last_commit: Date;
}

export type RankBy = 'commits' | 'lines';

const ORDER: Record<RankBy, string> = {
  commits: 't.commits desc, t.lines_added + t.lines_removed desc',
  lines: 't.lines_added + t.lines_removed desc, t.commits desc',
};

/**
 * Every contributor with commits in scope, identities resolved to their merge root at read time (so merges
 * re-credit at once), ranked by commits (ties: lines, then key). No cap unless a limit is given.
 */
export async function contributorTotals(
  trx: Trx,
  scope: Scope,
  options: { by?: RankBy; limit?: number } = {},
): Promise<ContributorTotals[]> {
  if (matchesNothing(scope)) return [];
  const source = sourceFor(scope, 'totals');
  const { rows } = await trx.raw(
    `with src as (${source.sql}),
     t as (
       select coalesce(c.merged_into, c.id) as root, sum(src.commits)::bigint as commits,
              sum(src.lines_added)::bigint as lines_added, sum(src.lines_removed)::bigint as lines_removed,
              min(src.first_at) as first_commit, max(src.last_at) as last_commit
         from src join contributors c on c.id = src.contributor_id
        group by 1
     ),
     emails as (
       select coalesce(m.merged_into, m.id) as root, array_agg(e.email order by e.email) as emails
         from contributor_emails e join contributors m on m.tenant_id = e.tenant_id and m.id = e.contributor_id
        where e.email not like 'name:%'
        group by 1
     )
     select ${keySql('r')} as key, r.account_id, r.display_name, coalesce(emails.emails, '{}') as emails,
            t.commits, t.lines_added, t.lines_removed, t.first_commit, t.last_commit
       from t
       join contributors r on r.id = t.root
       left join emails on emails.root = t.root
      where t.commits > 0
      order by ${ORDER[options.by ?? 'commits']}, 1
      ${options.limit === undefined ? '' : 'limit ?'}`,
    options.limit === undefined ? source.bindings : [...source.bindings, options.limit],
  );
  return rows as ContributorTotals[];
}

export interface RepositoryTotals {
  uuid: string;
  full_name: string;
  commits: number;
  lines_added: number;
  lines_removed: number;
}

/** Repositories with commits in scope, ranked like contributors. */
export async function repositoryTotals(
  trx: Trx,
  scope: Scope,
  options: { by?: RankBy; limit?: number } = {},
): Promise<RepositoryTotals[]> {
  if (matchesNothing(scope)) return [];
  const source = sourceFor(scope, 'totals');
  const { rows } = await trx.raw(
    `with t as (
       select src.repository_id, sum(src.commits)::bigint as commits,
              sum(src.lines_added)::bigint as lines_added, sum(src.lines_removed)::bigint as lines_removed
         from (${source.sql}) src group by 1
     )
     select r.uuid, r.full_name, t.commits, t.lines_added, t.lines_removed
       from t join repositories r on r.id = t.repository_id
      where t.commits > 0
      order by ${ORDER[options.by ?? 'commits']}, r.full_name
      ${options.limit === undefined ? '' : 'limit ?'}`,
    options.limit === undefined ? source.bindings : [...source.bindings, options.limit],
  );
  return rows as RepositoryTotals[];
}
