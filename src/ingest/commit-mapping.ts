import type { BitbucketCommit, BitbucketDiffstat } from '../bitbucket/schemas';
import type { CommitInput, FileChange } from '../db/commit-store';

/** `Name <email>` as git writes it; the email is the last `<…>` of the string. */
export function parseAuthorRaw(raw: string): { name: string; email: string | null } {
  const match = /^(.*?)\s*<([^<>]*)>\s*$/.exec(raw);
  if (!match) return { name: raw.trim(), email: null };
  const email = match[2]!.trim().toLowerCase();
  return { name: match[1]!.trim() || email, email: email || null };
}

/**
 * A listed commit as stored. Identity: the Bitbucket account when `author.user` is present (its email is never
 * given), else the email from `author.raw`; both are kept so identities can be merged later.
 */
export function toCommitInput(commit: BitbucketCommit): CommitInput {
  const { name, email } = parseAuthorRaw(commit.author.raw);
  const user = commit.author.user;
  return {
    hash: commit.hash,
    authorRaw: commit.author.raw,
    authorName: name,
    authorEmail: email,
    authorAccountId: user?.account_id ?? null,
    authorUuid: user?.uuid ?? null,
    authoredAt: new Date(commit.date),
    parents: commit.parents.map((p) => p.hash),
    message: commit.message,
  };
}

/** A commit's diffstat (against its first parent) as per-file rows; binary files count 0 lines. */
export function toFileChanges(entries: BitbucketDiffstat[]): FileChange[] {
  return entries.map((entry) => {
    const isBinary = entry.new?.attributes === 'binary' || entry.old?.attributes === 'binary';
    const path = (entry.status === 'removed' ? (entry.old ?? entry.new) : (entry.new ?? entry.old))!.path;
    return {
      path,
      oldPath: entry.status === 'renamed' ? (entry.old?.path ?? null) : null,
      status: entry.status,
      linesAdded: isBinary ? 0 : entry.lines_added,
      linesRemoved: isBinary ? 0 : entry.lines_removed,
      isBinary,
    };
  });
}
