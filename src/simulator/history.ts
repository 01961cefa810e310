import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { loadGitHistory } from './git-history.js';
import { trackSpans, type PathSpan } from './path-spans.js';
import type { ExportCommit, ExportRefs, HistorySource } from './types.js';

const hash = z.string().regex(/^[0-9a-f]{40}$/, 'expected a 40-character lowercase hex hash');
const person = z.object({ name: z.string(), email: z.string() });
const isoDate = z.iso.datetime({ offset: true });

export const exportFileSchema = z.object({
  path: z.string().min(1),
  added: z.number().int().nonnegative().nullable(),
  removed: z.number().int().nonnegative().nullable(),
  old_path: z.string().min(1).optional(),
  status: z.enum(['added', 'removed', 'modified', 'renamed']).optional(),
});

/** One line of the history export. Unknown keys are dropped, missing files mean none. */
export const exportCommitSchema = z.object({
  hash,
  parents: z.array(hash),
  author: person,
  date: isoDate,
  committer: person.optional(),
  committed: isoDate.optional(),
  message: z.string(),
  files: z.array(exportFileSchema).default([]),
});

export const exportRefsSchema = z.object({
  branches: z.record(z.string(), hash),
  tags: z.record(z.string(), hash).optional(),
  mainbranch: z.string().optional(),
});

/**
 * A loaded history. Export lines are kept as their raw JSON text (validated once here) and
 * parsed again on demand: far less memory than objects for a million commits.
 */
export interface LoadedHistory {
  records: (string | ExportCommit)[];
  /** Per record: hash, parents, author and dates, extracted at load for indexing. */
  meta: CommitMeta[];
  refs: ExportRefs;
  /** Per path: first and last commit touching it (drives added/removed inference). */
  spans: Map<string, PathSpan>;
}

export interface CommitMeta {
  hash: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  /** Committer time (falls back to author time), epoch ms: drives newest-first ordering. */
  timeMs: number;
}

export function loadHistory(source: HistorySource): LoadedHistory {
  if ('exportFile' in source) return loadExportFile(source.exportFile, source.refsFile);
  if ('gitDir' in source) return fromCommits(loadGitHistory(source.gitDir));
  return fromCommits({ commits: source.commits, refs: source.refs });
}

export function metaOf(commit: ExportCommit): CommitMeta {
  return {
    hash: commit.hash,
    parents: commit.parents,
    authorName: commit.author.name,
    authorEmail: commit.author.email,
    timeMs: Date.parse(commit.committed ?? commit.date),
  };
}

function fromCommits(input: { commits: ExportCommit[]; refs: ExportRefs }): LoadedHistory {
  const records: ExportCommit[] = [];
  const meta: CommitMeta[] = [];
  const spans = new Map<string, PathSpan>();
  input.commits.forEach((commit, i) => {
    const parsed = exportCommitSchema.safeParse(commit);
    if (!parsed.success) throw new Error(`Invalid commit #${i}: ${z.prettifyError(parsed.error)}`);
    const c = parsed.data as ExportCommit;
    const m = metaOf(c);
    trackSpans(spans, records.length, m.timeMs, c.files);
    records.push(c);
    meta.push(m);
  });
  return { records, meta, refs: parseRefs(input.refs, 'refs'), spans };
}

function loadExportFile(file: string, refsFile?: string): LoadedHistory {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const records: string[] = [];
  const meta: CommitMeta[] = [];
  const spans = new Map<string, PathSpan>();
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new Error(`${file}:${lineNo}: not JSON (${(err as Error).message})`, { cause: err });
    }
    const parsed = exportCommitSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${file}:${lineNo}: ${z.prettifyError(parsed.error)}`);
    const c = parsed.data as ExportCommit;
    const m = metaOf(c);
    trackSpans(spans, records.length, m.timeMs, c.files);
    records.push(line);
    meta.push(m);
  }
  const refsPath = refsFile ?? siblingRefsFile(file);
  const refs = refsPath ? parseRefs(JSON.parse(readFileSync(refsPath, 'utf8')), refsPath) : deriveRefs(meta);
  return { records, meta, refs, spans };
}

/** `express.jsonl.gz` → `express.refs.json`, when it exists. */
function siblingRefsFile(file: string): string | undefined {
  const candidate = file.replace(/\.jsonl(\.gz)?$/, '.refs.json');
  return candidate !== file && existsSync(candidate) ? candidate : undefined;
}

function parseRefs(json: unknown, where: string): ExportRefs {
  const parsed = exportRefsSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${where}: ${z.prettifyError(parsed.error)}`);
  return parsed.data as ExportRefs;
}

/** Without a refs file, every commit nobody descends from becomes a branch head. */
function deriveRefs(meta: CommitMeta[]): ExportRefs {
  const hasChild = new Set<string>();
  for (const m of meta) for (const p of m.parents) hasChild.add(p);
  const heads = meta.filter((m) => !hasChild.has(m.hash)).sort((a, b) => b.timeMs - a.timeMs);
  const branches: Record<string, string> = {};
  heads.forEach((m, i) => {
    branches[i === 0 ? 'main' : `branch-${i}`] = m.hash;
  });
  return { branches, tags: {}, mainbranch: 'main' };
}

/** Parses a stored record back into a commit (records were validated at load). */
export function recordToCommit(record: string | ExportCommit): ExportCommit {
  if (typeof record !== 'string') return record;
  const c = JSON.parse(record) as ExportCommit;
  if (!c.files) c.files = [];
  return c;
}
