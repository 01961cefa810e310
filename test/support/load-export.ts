import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { recordCommitChanges } from '../../src/analytics/rollups';
import { insertCommits, saveDiffstats, type CommitDiffstat } from '../../src/db/commit-store';
import type { Database } from '../../src/db/database';
import { upsertRepositories, type RepositoryProject } from '../../src/db/repository-store';

/**
 * Loads a history export (data/express.jsonl.gz format) into the real schema for one tenant, the way ingest
 * writes it: commit metadata first (phase 1), then diffstats newest first (phase 2), each batch through the
 * commit store and followed by recordCommitChanges, as ingest does.
 */

export interface ExportFile {
  path: string;
  added: number | null;
  removed: number | null;
  old_path?: string;
  status?: 'added' | 'removed' | 'modified' | 'renamed';
}

export interface ExportCommit {
  hash: string;
  parents: string[];
  author: { name: string; email: string };
  date: string;
  message: string;
  files: ExportFile[];
}

export const EXPRESS_EXPORT = path.resolve(import.meta.dirname, '../../data/express.jsonl.gz');

export function readExport(file = EXPRESS_EXPORT): ExportCommit[] {
  return gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ExportCommit);
}

/**
 * The synthetic Bitbucket account of an author email, or null: bots never have one, about 60% of other emails do
 * (a stable hash decides), as Bitbucket links only verified emails to accounts.
 */
export function syntheticAccount(email: string): string | null {
  const key = email.trim().toLowerCase();
  if (key.includes('[bot]')) return null;
  const h = createHash('sha256').update(key).digest();
  return h[0]! < 154 ? `acct-${h.toString('hex').slice(0, 16)}` : null;
}

export interface LoadOptions {
  db: Database;
  tenantId: string;
  commits: ExportCommit[];
  repository?: { uuid?: string; fullName?: string; project?: RepositoryProject | null };
  accountOf?: (email: string) => string | null;
  batch?: number;
}

export async function loadExport(options: LoadOptions): Promise<{ repositoryId: number; uuid: string }> {
  const { db, tenantId, commits } = options;
  const accountOf = options.accountOf ?? syntheticAccount;
  const batch = options.batch ?? 500;
  const uuid = options.repository?.uuid ?? `{${randomUUID()}}`;
  const fullName = options.repository?.fullName ?? 'acme/express';
  const [repo] = await db.withTenant(tenantId, (trx) =>
    upsertRepositories(
      trx,
      tenantId,
      [
        {
          uuid,
          fullName,
          slug: fullName.split('/')[1]!,
          name: fullName.split('/')[1]!,
          mainbranch: 'master',
          isPrivate: true,
          project: options.repository?.project ?? null,
        },
      ],
      new Date(),
    ),
  );
  const repositoryId = repo!.id;
  for (let i = 0; i < commits.length; i += batch) {
    const slice = commits.slice(i, i + batch);
    await db.withTenant(tenantId, async (trx) => {
      const inserted = await insertCommits(
        trx,
        tenantId,
        repositoryId,
        slice.map((c) => ({
          hash: c.hash,
          authorRaw: `${c.author.name} <${c.author.email}>`,
          authorName: c.author.name,
          authorEmail: c.author.email,
          authorAccountId: accountOf(c.author.email),
          authorUuid: null,
          authoredAt: new Date(c.date),
          parents: c.parents,
          message: c.message,
        })),
      );
      await recordCommitChanges(trx, repositoryId, inserted);
    });
  }
  const newestFirst = [...commits].sort((a, b) => Date.parse(b.date) - Date.parse(a.date));
  for (let i = 0; i < newestFirst.length; i += batch) {
    const slice = newestFirst.slice(i, i + batch);
    await db.withTenant(tenantId, async (trx) => {
      const saved = await saveDiffstats(trx, tenantId, repositoryId, slice.map(diffstatOf));
      await recordCommitChanges(trx, repositoryId, saved);
    });
  }
  return { repositoryId, uuid };
}

function diffstatOf(c: ExportCommit): CommitDiffstat {
  return {
    hash: c.hash,
    files: c.files.map((f) => ({
      path: f.path,
      oldPath: f.old_path ?? null,
      status: f.status ?? 'modified',
      // Binary files have no line counts: stored as 0 with the binary flag.
      linesAdded: f.added ?? 0,
      linesRemoved: f.removed ?? 0,
      isBinary: f.added === null || f.removed === null,
    })),
  };
}
