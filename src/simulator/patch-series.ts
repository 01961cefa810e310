import { inferStatus } from './path-spans.js';
import { escapedPath } from './payloads.js';
import type { Repository } from './store.js';
import type { ExportFile, FileStatus } from './types.js';
import { sha256Hex } from './util.js';

/**
 * `GET …/patch/{spec}` bodies, shaped like `git format-patch --stdout`: Bitbucket's OpenAPI description says a
 * range `A..B` gives "a patch-series … for the commits on the source branch (A and its ancestors)", one patch per
 * commit, and a single commit its patch against the first parent. As format-patch does, a series leaves out merges
 * and commits without changes, oldest first. The simulator keeps per-file line counts, not file contents, so each
 * file's hunks are generated: their `-` and `+` lines equal the history's numstat exactly, binary files show git's
 * "Binary files … differ", renames their `rename from`/`rename to` lines, paths are quoted as git quotes them.
 */

/** The commits of `source ^destination` a series carries, oldest first (format-patch's order). */
export function seriesCommits(repo: Repository, source: number, destination: number): number[] {
  const newestFirst = repo.graph.query([source], [destination]);
  const out: number[] = [];
  for (let k = newestFirst.length - 1; k >= 0; k--) {
    const id = newestFirst[k]!;
    const commit = repo.commit(id);
    if (commit.parents.length < 2 && commit.files.length > 0) out.push(id);
  }
  return out;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 2822 in the date's own offset, as git writes `Date:`. */
function mailDate(iso: string): string {
  const offset = /([+-])(\d{2}):?(\d{2})$/.exec(iso);
  const minutes = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : 0;
  const local = new Date(Date.parse(iso) + minutes * 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const zone = `${minutes < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(minutes) / 60))}${pad(Math.abs(minutes) % 60)}`;
  return (
    `${WEEKDAYS[local.getUTCDay()]}, ${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()} ` +
    `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ${zone}`
  );
}

/** `a/` or `b/` before a path, inside git's quotes when the path needs them. */
function prefixed(prefix: 'a/' | 'b/', path: string): string {
  const quoted = escapedPath(path);
  return quoted.startsWith('"') ? `"${prefix}${quoted.slice(1)}` : `${prefix}${path}`;
}

const blob = (seed: string) => sha256Hex(seed).slice(0, 7);

/** Changed lines per hunk at most: long changes span several hunks, as real diffs of scattered edits do. */
const HUNK_LINES = 60;

/** Hunks with exactly `removed` `-` lines and `added` `+` lines (plus context where the file exists on both sides). */
function hunks(path: string, added: number, removed: number, status: FileStatus): string {
  const context = status === 'modified' || status === 'renamed';
  let out = '';
  let oldLine = 1;
  let newLine = 1;
  let a = added;
  let r = removed;
  let n = 0;
  while (a > 0 || r > 0) {
    const takeR = Math.min(r, HUNK_LINES);
    const takeA = Math.min(a, HUNK_LINES);
    const ctx = context ? 1 : 0;
    const oldCount = takeR + ctx;
    const newCount = takeA + ctx;
    const oldStart = oldCount === 0 ? oldLine - 1 : oldLine;
    const newStart = newCount === 0 ? newLine - 1 : newLine;
    out += `@@ -${oldStart},${oldCount} +${newStart},${newCount} @@\n`;
    if (ctx) out += ` context ${n} of ${path}\n`;
    for (let k = 0; k < takeR; k++) out += `-old line ${n}.${k}\n`;
    for (let k = 0; k < takeA; k++) out += `+new line ${n}.${k}\n`;
    a -= takeA;
    r -= takeR;
    // Gaps between hunks, as unchanged stretches of the file.
    oldLine += oldCount + 10;
    newLine += newCount + 10;
    n++;
  }
  // Some files end without a newline; git marks it after the last line, and the marker counts as no line.
  if (out !== '' && (added + removed) % 7 === 3) out += '\\ No newline at end of file\n';
  return out;
}

function fileDiff(file: ExportFile, status: FileStatus, seed: string): string {
  const oldPath = status === 'renamed' && file.old_path !== undefined ? file.old_path : file.path;
  let out = `diff --git ${prefixed('a/', oldPath)} ${prefixed('b/', file.path)}\n`;
  if (status === 'added') out += 'new file mode 100644\n';
  if (status === 'removed') out += 'deleted file mode 100644\n';
  if (status === 'renamed') {
    out += `similarity index ${90 - ((file.added ?? 0) % 40)}%\n`;
    out += `rename from ${escapedPath(oldPath)}\nrename to ${escapedPath(file.path)}\n`;
  }
  const before = status === 'added' ? '0000000' : blob(`${seed}:old:${oldPath}`);
  const after = status === 'removed' ? '0000000' : blob(`${seed}:new:${file.path}`);
  const mode = status === 'added' || status === 'removed' ? '' : ' 100644';
  const binary = file.added === null || file.removed === null;
  const added = file.added ?? 0;
  const removed = file.removed ?? 0;
  if (status === 'renamed' && !binary && added === 0 && removed === 0) return out; // a pure rename
  if (status === 'modified' && !binary && added === 0 && removed === 0)
    return `${out}old mode 100644\nnew mode 100755\n`; // only the mode changed
  out += `index ${before}..${after}${mode}\n`;
  const from = status === 'added' ? '/dev/null' : prefixed('a/', oldPath);
  const to = status === 'removed' ? '/dev/null' : prefixed('b/', file.path);
  if (binary) return `${out}Binary files ${from} and ${to} differ\n`;
  if (added === 0 && removed === 0) return out; // an empty file added or removed: no hunk
  return `${out}--- ${from}\n+++ ${to}\n${hunks(file.path, added, removed, status)}`;
}

/** One commit's patch; `number` is its place in the series (`[PATCH n/m]`), absent for a single commit. */
export function renderPatch(repo: Repository, id: number, number?: { n: number; of: number }): string {
  const commit = repo.commit(id);
  const hash = repo.graph.hashOf(id);
  const isRoot = commit.parents.length === 0;
  const [subject = '', ...body] = commit.message.replace(/\n+$/, '').split('\n');
  const tag = number && number.of > 1 ? `[PATCH ${number.n}/${number.of}]` : '[PATCH]';
  let out =
    `From ${hash} Mon Sep 17 00:00:00 2001\n` +
    `From: ${commit.author.name} <${commit.author.email}>\n` +
    `Date: ${mailDate(commit.date)}\n` +
    `Subject: ${tag} ${subject}\n\n`;
  const rest = body.join('\n').replace(/^\n+/, '');
  if (rest !== '') out += `${rest}\n`;
  out += '---\n';
  let insertions = 0;
  let deletions = 0;
  for (const f of commit.files) {
    insertions += f.added ?? 0;
    deletions += f.removed ?? 0;
  }
  const n = commit.files.length;
  out += ` ${n} file${n === 1 ? '' : 's'} changed, ${insertions} insertions(+), ${deletions} deletions(-)\n\n`;
  for (const f of commit.files) out += fileDiff(f, inferStatus(f, id, isRoot, repo.spans), hash);
  return `${out}-- \n2.43.0\n\n`;
}
