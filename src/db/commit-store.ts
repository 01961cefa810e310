import type { Trx } from './database';

/**
 * Commits and their per-file line counts. Writes are idempotent: a commit is keyed by (tenant, repository, hash)
 * and written once, and its files are written together with its line counts, so a job that dies half-way and runs
 * again leaves exactly the same rows. Batches go through `unnest` of array parameters: one statement per batch
 * with a handful of parameters (COPY is refused under row-level security).
 */

export interface CommitInput {
  hash: string;
  authorRaw: string;
  authorName: string;
  authorEmail: string | null;
  authorAccountId: string | null;
  authorUuid: string | null;
  authoredAt: Date;
  parents: string[];
  message: string;
}

export type FileStatus = 'added' | 'removed' | 'modified' | 'renamed';

export interface FileChange {
  path: string;
  /** Set for renames only. */
  oldPath: string | null;
  status: FileStatus;
  linesAdded: number;
  linesRemoved: number;
  isBinary: boolean;
}

export interface CommitDiffstat {
  hash: string;
  files: FileChange[];
}

/** PostgreSQL text cannot hold NUL; git data occasionally does. */
const clean = (text: string) => (text.includes('\u0000') ? text.replace(/\u0000/g, '') : text);
const cleanOrNull = (text: string | null) => (text === null ? null : clean(text));
/** knex's binding types have no nullable arrays; pg sends null elements as SQL NULL. */
const withNulls = (values: (string | null)[]) => values as string[];

/** Inserts commits not stored yet; returns the hashes that were new. */
export async function insertCommits(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  commits: CommitInput[],
): Promise<string[]> {
  if (commits.length === 0) return [];
  const { rows } = await trx.raw<{ rows: { hash: string }[] }>(
    `insert into commits (tenant_id, repository_id, hash, author_raw, author_name, author_email, author_account_id,
                          author_uuid, authored_at, parents, is_merge, message)
     select ?::uuid, ?::bigint, v.hash, v.author_raw, v.author_name, v.author_email, v.author_account_id,
            v.author_uuid, v.authored_at, string_to_array(v.parents, ' '), v.parent_count > 1, v.message
       from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::text[],
                   ?::int[], ?::text[])
            as v(hash, author_raw, author_name, author_email, author_account_id, author_uuid, authored_at, parents,
                 parent_count, message)
     on conflict (tenant_id, repository_id, hash) do nothing
     returning hash`,
    [
      tenantId,
      repositoryId,
      commits.map((c) => c.hash),
      commits.map((c) => clean(c.authorRaw)),
      commits.map((c) => clean(c.authorName)),
      withNulls(commits.map((c) => cleanOrNull(c.authorEmail))),
      withNulls(commits.map((c) => c.authorAccountId)),
      withNulls(commits.map((c) => c.authorUuid)),
      commits.map((c) => c.authoredAt.toISOString()),
      // Hashes never contain spaces: one string per row keeps the parameter a flat text[].
      commits.map((c) => c.parents.join(' ')),
      commits.map((c) => c.parents.length),
      commits.map((c) => clean(c.message)),
    ],
  );
  return rows.map((r) => r.hash);
}

/** The next commits without line counts, newest first (phase 2 order: recent graphs fill in first). */
export async function commitsWithoutLines(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  limit: number,
): Promise<string[]> {
  const rows = await trx('commits')
    .select('hash')
    .where({ tenant_id: tenantId, repository_id: repositoryId })
    .whereNull('lines_added')
    .orderBy([
      { column: 'authored_at', order: 'desc' },
      { column: 'hash', order: 'desc' },
    ])
    .limit(limit);
  return rows.map((r: { hash: string }) => r.hash);
}

/**
 * Stores the diffstats of commits that have no line counts yet: their files (replacing any) and their totals,
 * in the caller's transaction. Commits already counted are left alone, so running this twice changes nothing.
 * Returns the hashes written.
 */
export async function saveDiffstats(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  diffstats: CommitDiffstat[],
): Promise<string[]> {
  if (diffstats.length === 0) return [];
  // Locks the rows too: a concurrent writer of the same commits waits here, then finds them counted.
  // `= any(array)`: one parameter however many commits (an IN list would bind one parameter per hash).
  const { rows: pending } = await trx.raw<{ rows: { hash: string }[] }>(
    `select hash from commits
      where tenant_id = ? and repository_id = ? and hash = any(?::text[]) and lines_added is null
        for update`,
    [tenantId, repositoryId, diffstats.map((d) => d.hash)],
  );
  const open = new Set(pending.map((r) => r.hash));
  const todo = diffstats.filter((d) => open.has(d.hash));
  if (todo.length === 0) return [];
  const hashes = todo.map((d) => d.hash);
  await trx.raw('delete from commit_files where tenant_id = ? and repository_id = ? and hash = any(?::text[])', [
    tenantId,
    repositoryId,
    hashes,
  ]);
  await insertFiles(trx, tenantId, repositoryId, todo);
  await trx.raw(
    `update commits c
        set lines_added = v.added, lines_removed = v.removed, files_changed = v.files
       from unnest(?::text[], ?::int[], ?::int[], ?::int[]) as v(hash, added, removed, files)
      where c.tenant_id = ? and c.repository_id = ? and c.hash = v.hash`,
    [
      hashes,
      todo.map((d) => d.files.reduce((sum, f) => sum + f.linesAdded, 0)),
      todo.map((d) => d.files.reduce((sum, f) => sum + f.linesRemoved, 0)),
      todo.map((d) => d.files.length),
      tenantId,
      repositoryId,
    ],
  );
  return hashes;
}

/** Rows per INSERT: large enough to amortise the round trip, small enough to keep parameters modest. */
const FILE_BATCH = 5000;

async function insertFiles(trx: Trx, tenantId: string, repositoryId: number, diffstats: CommitDiffstat[]) {
  const rows = diffstats.flatMap((d) => d.files.map((file, ordinal) => ({ hash: d.hash, ordinal, file })));
  for (let start = 0; start < rows.length; start += FILE_BATCH) {
    const batch = rows.slice(start, start + FILE_BATCH);
    await trx.raw(
      `insert into commit_files (tenant_id, repository_id, hash, ordinal, path, old_path, status, lines_added,
                                 lines_removed, is_binary)
       select ?::uuid, ?::bigint, v.*
         from unnest(?::text[], ?::int[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::boolean[])
              as v(hash, ordinal, path, old_path, status, lines_added, lines_removed, is_binary)`,
      [
        tenantId,
        repositoryId,
        batch.map((r) => r.hash),
        batch.map((r) => r.ordinal),
        batch.map((r) => clean(r.file.path)),
        withNulls(batch.map((r) => cleanOrNull(r.file.oldPath))),
        batch.map((r) => r.file.status),
        batch.map((r) => r.file.linesAdded),
        batch.map((r) => r.file.linesRemoved),
        batch.map((r) => r.file.isBinary),
      ],
    );
  }
}

/**
 * Commits Bitbucket no longer knows (their diffstat answers 404: force-pushed away since they were listed):
 * counted as zero lines so the backfill moves on, and marked unreachable.
 */
export async function markCommitsGone(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  hashes: string[],
  now: Date,
): Promise<string[]> {
  if (hashes.length === 0) return [];
  const { rows } = await trx.raw<{ rows: { hash: string }[] }>(
    `update commits set lines_added = 0, lines_removed = 0, files_changed = 0, unreachable_since = ?
      where tenant_id = ? and repository_id = ? and hash = any(?::text[]) and lines_added is null
      returning hash`,
    [now, tenantId, repositoryId, hashes],
  );
  return rows.map((r) => r.hash);
}
