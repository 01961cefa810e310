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

const ORDER: Record<RankBy, string> = {
  commits: 'commits desc, lines_added + lines_removed desc',
  lines: 'lines_added + lines_removed desc, commits desc',
};

/** Milliseconds (float, as PostgreSQL gives them) to ISO 8601 in UTC, whole milliseconds. */
const iso = (ms: number) => new Date(Math.floor(ms)).toISOString();

/**
 * Every contributor with commits in scope, identities resolved to their merge root at read time (so merges
 * re-credit at once), ranked by commits (ties: lines, then key). No cap unless a limit is given. Rows come back
 * plain (times as epoch milliseconds, emails as JSON text) and are shaped here: cheaper than having PostgreSQL
 * format timestamps and build JSON for thousands of contributors.
 */
export async function contributorTotals(
  trx: Trx,
  scope: Scope,
  options: { by?: RankBy; limit?: number } = {},
): Promise<ContributorTotals[]> {
  if (matchesNothing(scope)) return [];
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
       select coalesce(m.merged_into, m.id) as root, array_to_json(array_agg(e.email order by e.email))::text as emails
         from contributor_emails e join contributors m on m.tenant_id = e.tenant_id and m.id = e.contributor_id
        where e.email not like 'name:%'
        group by 1
     )
     select ${keySql('r')} as key, r.account_id, r.display_name, coalesce(emails.emails, '[]') as emails,
            t.commits, t.lines_added, t.lines_removed,
            date_part('epoch', t.first_commit) * 1000 as first_ms, date_part('epoch', t.last_commit) * 1000 as last_ms
       from t
       join contributors r on r.id = t.root
       left join emails on emails.root = t.root
      where t.commits > 0
      order by ${ORDER[options.by ?? 'commits']}, key
      ${options.limit === undefined ? '' : 'limit ?'}`,
    options.limit === undefined ? source.bindings : [...source.bindings, options.limit],
  );
  return (
    rows as (Omit<ContributorTotals, 'emails' | 'first_commit' | 'last_commit'> & {
      emails: string;
      first_ms: number;
      last_ms: number;
    })[]
  ).map(({ emails, first_ms, last_ms, ...r }) => ({
    key: r.key,
    account_id: r.account_id,
    display_name: r.display_name,
    emails: JSON.parse(emails) as string[],
    commits: r.commits,
    lines_added: r.lines_added,
    lines_removed: r.lines_removed,
    first_commit: iso(first_ms),
    last_commit: iso(last_ms),
  }));
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
