import type { Trx } from './database';

/**
 * Commits and their per-file line counts. Writes are idempotent: a commit is keyed by (tenant, repository, hash)
 * and written once, and its files are written together with its line counts, so a job that dies half-way and runs
 * again leaves exactly the same rows. A batch is one multi-row INSERT … SELECT from `json_to_recordset` of a single
 * JSON parameter (COPY is refused under row-level security; JSON parses faster than many array parameters).
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

/** Inserts commits not stored yet; returns the hashes that were new. */
export async function insertCommits(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  commits: CommitInput[],
): Promise<string[]> {
  if (commits.length === 0) return [];
  const rows = commits.map((c) => ({
    hash: c.hash,
    author_raw: clean(c.authorRaw),
    author_name: clean(c.authorName),
    author_email: cleanOrNull(c.authorEmail),
    author_account_id: c.authorAccountId,
    author_uuid: c.authorUuid,
    authored_at: c.authoredAt.toISOString(),
    parents: c.parents,
    message: clean(c.message),
  }));
  const { rows: inserted } = await trx.raw<{ rows: { hash: string }[] }>(
    `insert into commits (tenant_id, repository_id, hash, author_raw, author_name, author_email, author_account_id,
                          author_uuid, authored_at, parents, is_merge, message)
     select ?::uuid, ?::bigint, v.hash, v.author_raw, v.author_name, v.author_email, v.author_account_id,
            v.author_uuid, v.authored_at, v.parents, cardinality(v.parents) > 1, v.message
       from json_to_recordset(?::json)
            as v(hash text, author_raw text, author_name text, author_email text, author_account_id text,
                 author_uuid text, authored_at timestamptz, parents text[], message text)
     on conflict (tenant_id, repository_id, hash) do nothing
     returning hash`,
    [tenantId, repositoryId, JSON.stringify(rows)],
  );
  return inserted.map((r) => r.hash);
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
  // No files to replace: files are only ever written here, together with the line counts, so a commit without
  // line counts has none (were one there, the insert would fail on the primary key rather than double count).
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

/** Rows per INSERT: large enough to amortise the round trip, small enough to keep one statement modest. */
const FILE_BATCH = 20_000;

async function insertFiles(trx: Trx, tenantId: string, repositoryId: number, diffstats: CommitDiffstat[]) {
  const rows = diffstats.flatMap((d) =>
    d.files.map((file, ordinal) => ({
      hash: d.hash,
      ordinal,
      path: clean(file.path),
      old_path: cleanOrNull(file.oldPath),
      status: file.status,
      lines_added: file.linesAdded,
      lines_removed: file.linesRemoved,
      is_binary: file.isBinary,
    })),
  );
  for (let start = 0; start < rows.length; start += FILE_BATCH) {
    await trx.raw(
      `insert into commit_files (tenant_id, repository_id, hash, ordinal, path, old_path, status, lines_added,
                                 lines_removed, is_binary)
       select ?::uuid, ?::bigint, v.hash, v.ordinal, v.path, v.old_path, v.status, v.lines_added, v.lines_removed,
              v.is_binary
         from json_to_recordset(?::json)
              as v(hash text, ordinal int, path text, old_path text, status text, lines_added int,
                   lines_removed int, is_binary boolean)`,
      [tenantId, repositoryId, JSON.stringify(rows.slice(start, start + FILE_BATCH))],
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
