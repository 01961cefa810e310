import type { Knex } from 'knex';
import type { Trx } from '../db/database';
import { commitScopeSql, IDENTITY_EMAIL_SQL, type CommitScope } from './identities';
import {
  type AnalyticsSettings,
  effectiveBotPatterns,
  effectivePathExclusions,
  loadRepositoryExclusions,
  loadSettings,
  pathMatcher,
} from './rules';

/**
 * A commit fact: what one counted commit contributes to the graphs. A commit counts when it is reachable
 * (`unreachable_since` is null) in a repository that is not deleted. Lines come from its files (binary files 0);
 * `lines_*` leave out files matched by the path exclusions, `lines_*_all` do not. Without files yet (diffstat not
 * fetched), the commit row's own counts stand, and no exclusion can apply.
 */
export interface Fact {
  repository_id: number;
  hash: string;
  /** The repository's project (repositories.project_id; 0 for none). */
  project_id: number;
  contributor_id: number;
  authored_at: Date;
  is_merge: boolean;
  is_bot: boolean;
  lines_added: number;
  lines_removed: number;
  lines_added_all: number;
  lines_removed_all: number;
}

export const FACT_COLUMNS = [
  'repository_id',
  'hash',
  'project_id',
  'contributor_id',
  'authored_at',
  'is_merge',
  'is_bot',
  'lines_added',
  'lines_removed',
  'lines_added_all',
  'lines_removed_all',
] as const;

/** The exclusion rules evaluated over the scope's distinct paths: the (repository, path) pairs excluded. */
async function excludedPaths(
  trx: Trx,
  settings: AnalyticsSettings,
  scope: CommitScope,
): Promise<{ repositoryIds: number[]; paths: string[] }> {
  const perRepository = await loadRepositoryExclusions(trx, scope.repositoryId);
  const where = commitScopeSql(scope, 'f');
  const { rows } = await trx.raw(
    `select distinct f.repository_id, f.path from commit_files f where not f.is_binary ${where.sql}`,
    where.bindings,
  );
  const matchers = new Map<number, ReturnType<typeof pathMatcher>>();
  const out = { repositoryIds: [] as number[], paths: [] as string[] };
  for (const row of rows as { repository_id: number; path: string }[]) {
    if (!matchers.has(row.repository_id)) {
      const patterns = effectivePathExclusions(settings, perRepository.get(row.repository_id));
      matchers.set(row.repository_id, pathMatcher(patterns));
    }
    const matches = matchers.get(row.repository_id);
    if (matches?.(row.path)) {
      out.repositoryIds.push(row.repository_id);
      out.paths.push(row.path);
    }
  }
  return out;
}

/**
 * The SELECT of the facts the scope's commits should have now, with its bindings. Identities must exist
 * (ensureIdentities) before it runs.
 */
export async function factsQuery(
  trx: Trx,
  scope: CommitScope,
): Promise<{ sql: string; bindings: Knex.Value[] }> {
  const settings = await loadSettings(trx);
  const bots = effectiveBotPatterns(settings);
  const excluded = await excludedPaths(trx, settings, scope);
  const files = commitScopeSql(scope, 'f');
  const commits = commitScopeSql(scope, 'c');
  const sql = `
    with excluded (repository_id, path) as (select * from unnest(?::bigint[], ?::text[])),
    file_sums as (
      select f.repository_id, f.hash,
             sum(f.lines_added) filter (where not f.is_binary) as added_all,
             sum(f.lines_removed) filter (where not f.is_binary) as removed_all,
             sum(f.lines_added) filter (where not f.is_binary and x.path is null) as added,
             sum(f.lines_removed) filter (where not f.is_binary and x.path is null) as removed
        from commit_files f
        left join excluded x on x.repository_id = f.repository_id and x.path = f.path
       where true ${files.sql}
       group by f.repository_id, f.hash
    )
    select c.repository_id, c.hash, r.project_id,
           coalesce(a.id, e.contributor_id) as contributor_id,
           c.authored_at, c.is_merge,
           exists (select 1 from unnest(?::text[]) p
                    where strpos(lower(coalesce(c.author_email, '')), p) > 0 or strpos(lower(c.author_name), p) > 0) as is_bot,
           case when s.hash is null then coalesce(c.lines_added, 0) else coalesce(s.added, 0) end::int as lines_added,
           case when s.hash is null then coalesce(c.lines_removed, 0) else coalesce(s.removed, 0) end::int as lines_removed,
           case when s.hash is null then coalesce(c.lines_added, 0) else coalesce(s.added_all, 0) end::int as lines_added_all,
           case when s.hash is null then coalesce(c.lines_removed, 0) else coalesce(s.removed_all, 0) end::int as lines_removed_all
      from commits c
      join repositories r on r.tenant_id = c.tenant_id and r.id = c.repository_id and r.deleted_at is null
      left join file_sums s on s.repository_id = c.repository_id and s.hash = c.hash
      left join contributors a on a.tenant_id = c.tenant_id and a.account_id = c.author_account_id
      left join contributor_emails e on e.tenant_id = c.tenant_id and e.email = ${IDENTITY_EMAIL_SQL}
     where c.unreachable_since is null ${commits.sql}`;
  return {
    sql,
    bindings: [excluded.repositoryIds, excluded.paths, ...files.bindings, bots, ...commits.bindings],
  };
}
