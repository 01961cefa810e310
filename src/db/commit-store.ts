import type { Trx } from './database';
import { stageRows, type StagingTable } from './staging';
import { pgText, pgTextOrNull } from './text';

/**
 * Commits and their per-file line counts. Writes are idempotent: a commit is keyed by (tenant, repository, hash)
 * and written once, and its files are written together with its line counts, so a job that dies half-way and runs
 * again leaves exactly the same rows. A batch is copied into a staging table and moved by one INSERT … SELECT
 * (staging.ts: COPY itself is refused under row-level security).
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

const COMMIT_ROWS: StagingTable = {
  name: 'commit_rows',
  columns: [
    ['hash', 'text'],
    ['author_raw', 'text'],
    ['author_name', 'text'],
    ['author_email', 'text'],
    ['author_account_id', 'text'],
    ['author_uuid', 'text'],
    ['authored_at', 'timestamptz'],
    ['parents', 'text[]'],
    ['message', 'text'],
  ],
};

/** Inserts commits not stored yet; returns the hashes that were new. */
export async function insertCommits(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  commits: CommitInput[],
): Promise<string[]> {
  if (commits.length === 0) return [];
  const staged = await stageRows(
    trx,
    COMMIT_ROWS,
    commits.map((c) => [
      c.hash,
      pgText(c.authorRaw),
      pgText(c.authorName),
      pgTextOrNull(c.authorEmail),
      c.authorAccountId,
      c.authorUuid,
      c.authoredAt.toISOString(),
      c.parents,
      pgText(c.message),
    ]),
  );
  const { rows: inserted } = await trx.raw<{ rows: { hash: string }[] }>(
    `with v as (delete from ${staged} returning *)
     insert into commits (tenant_id, repository_id, hash, author_raw, author_name, author_email, author_account_id,
                          author_uuid, authored_at, parents, is_merge, message)
     select ?::uuid, ?::bigint, v.hash, v.author_raw, v.author_name, v.author_email, v.author_account_id,
            v.author_uuid, v.authored_at, v.parents, cardinality(v.parents) > 1, v.message
       from v
     on conflict (tenant_id, repository_id, hash) do nothing
     returning hash`,
    [tenantId, repositoryId],
  );
  return inserted.map((r) => r.hash);
}

/**
 * Commits without line counts, newest first (phase 2 order: recent graphs fill in first); with `since`, only those
 * authored since then.
 */
const withoutLines = (trx: Trx, tenantId: string, repositoryId: number, limit: number, since?: Date) =>
  trx('commits')
    .where({ tenant_id: tenantId, repository_id: repositoryId })
    .whereNull('lines_added')
    .modify((q) => {
      if (since) q.where('authored_at', '>=', since);
    })
    .orderBy([
      { column: 'authored_at', order: 'desc' },
      { column: 'hash', order: 'desc' },
    ])
    .limit(limit);

/** The next commits without line counts, newest first (phase 2 order: recent graphs fill in first). */
export async function commitsWithoutLines(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  limit: number,
  since?: Date,
): Promise<string[]> {
  const rows = await withoutLines(trx, tenantId, repositoryId, limit, since).select('hash');
  return rows.map((r: { hash: string }) => r.hash);
}

/** Whether a repository has any commit left without line counts. */
export async function hasCommitsWithoutLines(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
): Promise<boolean> {
  return (await withoutLines(trx, tenantId, repositoryId, 1).select('hash')).length > 0;
}

/**
 * Whether another live repository of the tenant still has commits authored since `since` without line counts.
 * One index probe per repository (commits_pending_diffstat), however much older history waits.
 */
export async function recentLinesPendingElsewhere(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  since: Date,
): Promise<boolean> {
  const { rows } = await trx.raw<{ rows: { pending: boolean }[] }>(
    `select exists (
       select 1 from repositories r
        where r.tenant_id = ? and r.id <> ? and r.deleted_at is null
          and exists (select 1 from commits c
                       where c.tenant_id = r.tenant_id and c.repository_id = r.id
                         and c.lines_added is null and c.authored_at >= ?)
     ) as pending`,
    [tenantId, repositoryId, since],
  );
  return rows[0]!.pending;
}

export interface PendingCommit {
  hash: string;
  parents: string[];
  message: string;
}

/**
 * The same commits as commitsWithoutLines, in the same order, with what the patch-series fast path plans chains
 * from (src/ingest/patch-lines.ts): parents, and the message (a message that could pass for patch structure keeps
 * its commit out of a series).
 */
export async function pendingCommitsWithParents(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  limit: number,
  since?: Date,
): Promise<PendingCommit[]> {
  return withoutLines(trx, tenantId, repositoryId, limit, since).select('hash', 'parents', 'message');
}

const FILE_ROWS: StagingTable = {
  name: 'commit_file_rows',
  columns: [
    ['hash', 'text'],
    ['ordinal', 'integer'],
    ['path', 'text'],
    ['old_path', 'text'],
    ['status', 'text'],
    ['lines_added', 'integer'],
    ['lines_removed', 'integer'],
    ['is_binary', 'boolean'],
  ],
};

/**
 * Stores the diffstats of commits that have no line counts yet: their line counts and their files, in the caller's
 * transaction. Commits already counted are left alone, so running this twice changes nothing. Returns the hashes
 * written.
 */
export async function saveDiffstats(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  diffstats: CommitDiffstat[],
): Promise<string[]> {
  if (diffstats.length === 0) return [];
  const staged = await stageRows(
    trx,
    FILE_ROWS,
    diffstats.flatMap((d) =>
      d.files.map((file, ordinal) => [
        d.hash,
        ordinal,
        pgText(file.path),
        pgTextOrNull(file.oldPath),
        file.status,
        file.linesAdded,
        file.linesRemoved,
        file.isBinary,
      ]),
    ),
  );
  // Only commits still without line counts are counted, and the update locks them: a concurrent writer of the same
  // commits waits here, then finds them counted. `= any(array)` lets the planner look the commits up by primary key
  // once the table's statistics are current; before autovacuum has analyzed a freshly listed repository it may scan
  // the repository's pending commits instead (docs/benchmarks.md, "Backfill").
  const { rows: counted } = await trx.raw<{ rows: { hash: string }[] }>(
    `update commits c
        set lines_added = v.added, lines_removed = v.removed, files_changed = v.files
       from unnest(?::text[], ?::int[], ?::int[], ?::int[]) as v(hash, added, removed, files)
      where c.tenant_id = ? and c.repository_id = ? and c.hash = any(?::text[]) and c.hash = v.hash
        and c.lines_added is null
      returning c.hash`,
    [
      diffstats.map((d) => d.hash),
      diffstats.map((d) => d.files.reduce((sum, f) => sum + f.linesAdded, 0)),
      diffstats.map((d) => d.files.reduce((sum, f) => sum + f.linesRemoved, 0)),
      diffstats.map((d) => d.files.length),
      tenantId,
      repositoryId,
      diffstats.map((d) => d.hash),
    ],
  );
  const hashes = counted.map((r) => r.hash);
  // Files are only ever written here, together with the line counts, so a commit without line counts has none
  // (were one there, the insert would fail on the primary key rather than double count).
  await trx.raw(
    `with v as (delete from ${staged} returning *)
     insert into commit_files (tenant_id, repository_id, hash, ordinal, path, old_path, status, lines_added,
                               lines_removed, is_binary)
     select ?::uuid, ?::bigint, v.hash, v.ordinal, v.path, v.old_path, v.status, v.lines_added, v.lines_removed,
            v.is_binary
       from v where v.hash = any(?::text[])`,
    [tenantId, repositoryId, hashes],
  );
  return hashes;
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
