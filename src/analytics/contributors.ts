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
  /** ISO 8601, UTC. */
  first_commit: string;
  last_commit: string;
}

export type RankBy = 'commits' | 'lines';

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

const ORDER: Record<RankBy, string> = {
  commits: 'commits desc, lines_added + lines_removed desc',
  lines: 'lines_added + lines_removed desc, commits desc',
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
  return JSON.parse(await contributorTotalsJson(trx, scope, options)) as ContributorTotals[];
}

/** contributorTotals as the JSON array text PostgreSQL builds, for answers that pass it on unparsed. */
export async function contributorTotalsJson(
  trx: Trx,
  scope: Scope,
  options: { by?: RankBy; limit?: number } = {},
): Promise<string> {
  if (matchesNothing(scope)) return '[]';
  const source = sourceFor(scope, 'totals', 'contributor');
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
     ),
     ranked as (
       select ${keySql('r')} as key, r.account_id, r.display_name, coalesce(emails.emails, '{}') as emails,
              t.commits, t.lines_added, t.lines_removed,
              to_char(t.first_commit at time zone 'UTC', ${ISO}) as first_commit,
              to_char(t.last_commit at time zone 'UTC', ${ISO}) as last_commit
         from t
         join contributors r on r.id = t.root
         left join emails on emails.root = t.root
        where t.commits > 0
        order by ${ORDER[options.by ?? 'commits']}, key
        ${options.limit === undefined ? '' : 'limit ?'}
     )
     -- One JSON document: far cheaper to hand over than thousands of rows of arrays and timestamps.
     select coalesce(json_agg(row_to_json(ranked) order by ${ORDER[options.by ?? 'commits']}, key), '[]')::text as rows
       from ranked`,
    options.limit === undefined ? source.bindings : [...source.bindings, options.limit],
  );
  return rows[0].rows as string;
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
  const source = sourceFor(scope, 'totals', 'repository');
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
