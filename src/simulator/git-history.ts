import { execFileSync } from 'node:child_process';
import type { ExportCommit, ExportFile, ExportRefs, FileStatus } from './types.js';

const RS = '\x1e';
const US = '\x1f';
// Record: RS hash US parents US author name/email/date US committer name/email/date US body US, then
// the -z raw + numstat diff of the commit against its FIRST parent (merges included).
const FORMAT = `${RS}%H${US}%P${US}%an${US}%ae${US}%aI${US}%cn${US}%ce${US}%cI${US}%B${US}`;

function git(dir: string, args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'core.quotepath=off', ...args], {
    encoding: 'utf8',
    maxBuffer: 4 * 1024 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Reads every commit on every branch and tag of a local git repository into the export format.
 * `--diff-merges=first-parent` diffs merges against their first parent while still walking all
 * parents (`-m --first-parent` would instead skip every commit off the first-parent chains).
 */
export function loadGitHistory(dir: string): { commits: ExportCommit[]; refs: ExportRefs } {
  const out = git(dir, [
    'log',
    '--all',
    `--format=${FORMAT}`,
    '--raw',
    '--numstat',
    '--find-renames',
    '--diff-merges=first-parent',
    '--no-abbrev',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '-z',
  ]);
  const commits: ExportCommit[] = [];
  for (const record of out.split(RS)) {
    if (record.trim() === '') continue;
    const fields = record.split(US);
    if (fields.length < 10) throw new Error(`Unexpected git log record: ${record.slice(0, 120)}`);
    const [hash, parents, an, ae, aI, cn, ce, cI, body] = fields as [string, ...string[]];
    const diff = fields.slice(9).join(US);
    commits.push({
      hash: hash!,
      parents: parents ? parents.split(' ').filter(Boolean) : [],
      author: { name: an!, email: ae! },
      date: aI!,
      committer: { name: cn!, email: ce! },
      committed: cI!,
      message: body!,
      files: parseDiff(diff),
    });
  }
  return { commits, refs: readRefs(dir, new Set(commits.map((c) => c.hash))) };
}

const RAW_STATUS: Record<string, FileStatus> = {
  A: 'added',
  C: 'added',
  D: 'removed',
  M: 'modified',
  T: 'modified',
  R: 'renamed',
};

/** Joins `--raw` (status, old path) and `--numstat` (line counts; `-` = binary) entries. */
function parseDiff(diff: string): ExportFile[] {
  const tokens = diff.split('\0').map((t) => t.replace(/^\n+/, ''));
  const statuses = new Map<string, { status: FileStatus; oldPath?: string }>();
  const files: ExportFile[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '') continue;
    if (token.startsWith(':')) {
      const letter = token.split(' ').pop()!.charAt(0);
      const status = RAW_STATUS[letter] ?? 'modified';
      if (letter === 'R' || letter === 'C') {
        const oldPath = tokens[++i]!;
        const newPath = tokens[++i]!;
        statuses.set(newPath, letter === 'R' ? { status, oldPath } : { status });
      } else {
        statuses.set(tokens[++i]!, { status });
      }
      continue;
    }
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(token);
    if (!m) continue;
    const added = m[1] === '-' ? null : Number(m[1]);
    const removed = m[2] === '-' ? null : Number(m[2]);
    let path = m[3]!;
    if (path === '') {
      // Rename in -z numstat: empty path, then old and new paths as separate tokens.
      i += 2;
      path = tokens[i]!;
    }
    const st = statuses.get(path);
    const file: ExportFile = { path, added, removed, status: st?.status ?? 'modified' };
    if (st?.oldPath !== undefined) file.old_path = st.oldPath;
    files.push(file);
  }
  return files;
}

function readRefs(dir: string, known: Set<string>): ExportRefs {
  const out = git(dir, [
    'for-each-ref',
    '--format=%(refname)%00%(objectname)%00%(*objectname)',
    'refs/heads',
    'refs/tags',
  ]);
  const branches: Record<string, string> = {};
  const tags: Record<string, string> = {};
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [ref, object, peeled] = line.split('\0') as [string, string, string | undefined];
    const target = peeled || object; // annotated tags point at a tag object; use the commit
    if (!known.has(target)) continue;
    if (ref.startsWith('refs/heads/')) branches[ref.slice('refs/heads/'.length)] = target;
    else if (ref.startsWith('refs/tags/')) tags[ref.slice('refs/tags/'.length)] = target;
  }
  let mainbranch: string | undefined;
  try {
    mainbranch = git(dir, ['symbolic-ref', '--short', 'HEAD']).trim();
  } catch {
    mainbranch = undefined; // detached HEAD
  }
  if (!mainbranch || !(mainbranch in branches)) {
    mainbranch = ['main', 'master'].find((b) => b in branches) ?? Object.keys(branches)[0];
  }
  return mainbranch ? { branches, tags, mainbranch } : { branches, tags };
}
