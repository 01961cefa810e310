/**
 * Counts lines per file in a patch series (`GET …/patch/{newer}..{older}`, `git format-patch` text) as it streams
 * in, keeping no diff text: a line is looked at, counted and dropped, and at most `maxLineBytes` of one line are
 * ever held. Counting follows the hunk headers (`@@ -a,b +c,d @@`): exactly b old and d new lines belong to a hunk,
 * so file contents can never pass for patch structure. Anything outside the grammar below fails the whole series
 * (the caller then falls back to diffstats); a patch whose files cannot be counted exactly (binary files, copies,
 * paths that do not decode cleanly) is reported with `files: null`, for the caller to fetch its diffstat.
 *
 * A commit message could imitate patch structure (a `From <hash>` line, a `---` line, a diff); the caller leaves
 * commits whose message has such lines out of the ranges it asks for (`messageLooksLikePatch`), so within a
 * series the first `---` line after a patch's mail headers is always the real end of its message.
 */

export type PatchFileStatus = 'added' | 'removed' | 'modified' | 'renamed';

export interface PatchFileCount {
  path: string;
  oldPath: string | null;
  status: PatchFileStatus;
  linesAdded: number;
  linesRemoved: number;
}

export interface PatchCount {
  hash: string;
  /** null: the patch has something only a diffstat counts exactly (a binary file, a copy, an odd path). */
  files: PatchFileCount[] | null;
}

/** A line of a commit message that could be taken for patch structure. */
export function messageLooksLikePatch(message: string): boolean {
  return /(^|\n)(From |diff |---|-- |@@|\+\+\+)/.test(message);
}

const HEADER = /^From ([0-9a-f]{40}) Mon Sep 17 00:00:00 2001$/;
const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const DEFAULT_MAX_LINE = 64 * 1024;
const NEWLINE = 0x0a;

type State = 'start' | 'mail' | 'message' | 'summary' | 'diff' | 'hunk' | 'binary' | 'trailer' | 'failed';

interface OpenFile {
  gitLine: string;
  from?: string | null;
  to?: string | null;
  renameFrom?: string;
  renameTo?: string;
  copyTo?: string;
  status: PatchFileStatus;
  added: number;
  removed: number;
}

/** Unquotes a path as git quotes it (C escapes, octal bytes); null when it is not a well-formed quoted string. */
export function unquoteGitPath(text: string): string | null {
  if (!text.startsWith('"')) return text;
  if (text.length < 2 || !text.endsWith('"')) return null;
  const bytes: number[] = [];
  const simple: Record<string, number> = { n: 10, t: 9, '"': 34, '\\': 92, a: 7, b: 8, f: 12, r: 13, v: 11 };
  for (let i = 1; i < text.length - 1; i++) {
    const ch = text[i]!;
    if (ch === '"') return null;
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const next = text[++i];
    if (next === undefined || i >= text.length - 1) return null;
    if (next in simple) bytes.push(simple[next]!);
    else if (/[0-3]/.test(next) && /^[0-7]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i, i + 3), 8));
      i += 2;
    } else return null;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A path Tally may store as the diffstat would give it: decodes cleanly, no control characters. */
const cleanPath = (path: string) => path.length > 0 && !/[\u0000-\u001f\u007f\ufffd]/.test(path);

/** `a/x` → `x` for a side of `---`/`+++` (null for /dev/null); undefined when malformed. */
function sidePath(text: string, prefix: 'a/' | 'b/'): string | null | undefined {
  const value = text.replace(/\t$/, '');
  if (value === '/dev/null') return null;
  const path = unquoteGitPath(value);
  if (path === null || !path.startsWith(prefix)) return undefined;
  return path.slice(prefix.length);
}

/** The one path of `diff --git a/P b/P` (both sides equal: no rename), or undefined. */
function samePathOf(gitLine: string): string | undefined {
  const rest = gitLine.slice('diff --git '.length);
  if (rest.startsWith('"')) {
    const m = /^("(?:[^"\\]|\\.)*") ("(?:[^"\\]|\\.)*")$/.exec(rest);
    if (!m) return undefined;
    const a = unquoteGitPath(m[1]!);
    const b = unquoteGitPath(m[2]!);
    if (!a?.startsWith('a/') || !b?.startsWith('b/') || a.slice(2) !== b.slice(2)) return undefined;
    return a.slice(2);
  }
  if ((rest.length - 1) % 2 !== 0) return undefined;
  const half = (rest.length - 1) / 2;
  const a = rest.slice(0, half);
  const b = rest.slice(half + 1);
  if (rest[half] !== ' ' || !a.startsWith('a/') || !b.startsWith('b/') || a.slice(2) !== b.slice(2))
    return undefined;
  return a.slice(2);
}

export class PatchSeriesCounter {
  /** Patches read to their end, in series order. */
  readonly patches: PatchCount[] = [];
  /** Why the series was refused; once set, nothing more is counted and `patches` must not be used. */
  failure: string | null = null;
  private state: State = 'start';
  private readonly seen = new Set<string>();
  private current: { hash: string; files: PatchFileCount[]; exact: boolean } | null = null;
  private file: OpenFile | null = null;
  /** In the trailer: past the `-- ` signature line (git's version follows). */
  private signed = false;
  private oldLeft = 0;
  private newLeft = 0;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private overlong = false;
  private readonly maxLineBytes: number;

  /** `expected`: the commits the caller asked for; a patch of any other commit fails the series. */
  constructor(
    private readonly expected: ReadonlySet<string>,
    options: { maxLineBytes?: number } = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE;
  }

  /** Feeds the next bytes of the body. */
  write(chunk: Buffer): void {
    let start = 0;
    while (this.state !== 'failed') {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.keep(chunk.subarray(start));
        return;
      }
      this.keep(chunk.subarray(start, nl));
      this.flushLine();
      start = nl + 1;
    }
  }

  /** The body ended normally: the last patch is complete if it ended where a patch may end. */
  end(): void {
    if (this.state === 'failed') return;
    if (this.partialBytes > 0 || this.overlong) this.flushLine();
    const state = this.state as State;
    if (state === 'failed' || state === 'start') return;
    if (state === 'hunk' && (this.oldLeft > 0 || this.newLeft > 0))
      return this.fail('the series ends inside a hunk');
    if (!['diff', 'hunk', 'binary', 'trailer'].includes(state))
      return this.fail('the series ends before its last diff');
    this.finishPatch();
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const room = this.maxLineBytes - this.partialBytes;
    if (room <= 0) {
      this.overlong = true;
      return;
    }
    const taken = bytes.length > room ? bytes.subarray(0, room) : bytes;
    if (bytes.length > room) this.overlong = true;
    // Copied: the caller's chunk may be reused once write returns.
    this.partial.push(Buffer.from(taken));
    this.partialBytes += taken.length;
  }

  private flushLine(): void {
    const bytes =
      this.partial.length === 1 ? this.partial[0]! : Buffer.concat(this.partial, this.partialBytes);
    const overlong = this.overlong;
    this.partial = [];
    this.partialBytes = 0;
    this.overlong = false;
    // Hunk lines count by their first byte alone: their length and contents never matter.
    if (this.state === 'hunk' && (this.oldLeft > 0 || this.newLeft > 0)) return this.hunkLine(bytes[0]);
    if (overlong) return this.fail('a line outside the hunks is too long');
    this.line(bytes.toString('utf8'));
  }

  private fail(reason: string): void {
    this.state = 'failed';
    this.failure = reason;
    this.current = null;
  }

  private hunkLine(first: number | undefined): void {
    // ' ' context, '-' old, '+' new, '\' "No newline at end of file" (no line), '' an empty context line.
    if (first === 0x5c) return;
    if (first === undefined || first === 0x20) {
      this.oldLeft--;
      this.newLeft--;
    } else if (first === 0x2d) {
      this.oldLeft--;
      this.file!.removed++;
    } else if (first === 0x2b) {
      this.newLeft--;
      this.file!.added++;
    } else return this.fail('a hunk line starts with an unexpected character');
    if (this.oldLeft < 0 || this.newLeft < 0) this.fail('a hunk holds more lines than its header says');
  }

  private line(text: string): void {
    const header = HEADER.exec(text);
    if (header) return this.startPatch(header[1]!);
    switch (this.state) {
      case 'start':
        return this.fail('the series does not start with a patch header');
      case 'mail':
        // Mail headers (and their folded continuations) up to the blank line before the message.
        if (text === '') this.state = 'message';
        else if (!/^([A-Za-z-]+: |[ \t])/.test(text)) this.fail('malformed mail header');
        return;
      case 'message':
        if (text === '---') this.state = 'summary';
        return;
      case 'summary':
        if (text.startsWith('diff --git ')) return this.openFile(text);
        return;
      case 'binary':
        // A `GIT binary patch` body: `literal`/`delta` lines, base85 lines, blank lines.
        if (text.startsWith('diff --git ')) return this.openFile(text);
        if (text === '-- ') {
          this.signed = true;
          return this.closeFile('trailer');
        }
        if (
          text === '' ||
          /^(literal|delta) \d+$/.test(text) ||
          /^[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]*$/.test(text)
        )
          return;
        return this.fail('malformed binary patch');
      case 'trailer':
        // Blank lines, then perhaps the signature (`-- `, git's version), until the next patch.
        if (text === '-- ') this.signed = true;
        else if (text.startsWith('diff --git ') || (!this.signed && text !== ''))
          this.fail('text after the end of a patch');
        return;
      case 'hunk':
      case 'diff':
        return this.diffLine(text);
      case 'failed':
        return;
    }
  }

  private startPatch(hash: string): void {
    if (this.state !== 'start') {
      if (this.state === 'mail' || this.state === 'message' || this.state === 'summary')
        return this.fail('a patch without a diff');
      if (this.state === 'hunk' && (this.oldLeft > 0 || this.newLeft > 0))
        return this.fail('a patch ends inside a hunk');
      this.finishPatch();
    }
    if (!this.expected.has(hash)) return this.fail(`a patch of a commit not asked for: ${hash}`);
    if (this.seen.has(hash)) return this.fail(`two patches of ${hash}`);
    this.seen.add(hash);
    this.current = { hash, files: [], exact: true };
    this.state = 'mail';
  }

  private finishPatch(): void {
    this.closeFile('diff');
    const current = this.current;
    if (!current) return;
    const paths = new Set(current.files.map((f) => f.path));
    const exact = current.exact && paths.size === current.files.length;
    this.patches.push({ hash: current.hash, files: exact ? current.files : null });
    this.current = null;
  }

  private openFile(gitLine: string): void {
    this.closeFile('diff');
    if (this.state === 'failed') return;
    this.file = { gitLine, status: 'modified', added: 0, removed: 0 };
    this.state = 'diff';
  }

  /** Ends the open file (if any) and records its counts; `next` is the state after it. */
  private closeFile(next: State): void {
    const file = this.file;
    this.state = next;
    if (!file || !this.current) return;
    this.file = null;
    const renamed = file.renameFrom !== undefined || file.renameTo !== undefined;
    let path: string | undefined;
    let oldPath: string | null = null;
    if (renamed) {
      const from = unquoteGitPath(file.renameFrom ?? '');
      const to = unquoteGitPath(file.renameTo ?? '');
      if (from === null || to === null || file.renameFrom === undefined || file.renameTo === undefined)
        return this.fail('a rename without both of its paths');
      path = to;
      oldPath = from;
    } else if (file.copyTo !== undefined) {
      path = unquoteGitPath(file.copyTo) ?? undefined;
    } else if (file.to !== undefined || file.from !== undefined) {
      path = file.to ?? file.from ?? undefined;
    } else {
      path = samePathOf(file.gitLine);
    }
    if (path === undefined) return this.fail('a diff whose path cannot be read');
    if (!cleanPath(path) || (oldPath !== null && !cleanPath(oldPath))) this.current.exact = false;
    this.current.files.push({
      path,
      oldPath,
      status: renamed ? 'renamed' : file.status,
      linesAdded: file.added,
      linesRemoved: file.removed,
    });
  }

  private diffLine(text: string): void {
    if (this.state === 'hunk') {
      // The hunk is complete (its counts are spent): another hunk, the next file, or the end of the patch.
      if (text.startsWith('\\')) return;
      this.state = 'diff';
    }
    const file = this.file;
    if (text.startsWith('diff --git ')) return this.openFile(text);
    if (text === '-- ' || text === '') {
      this.signed = text === '-- ';
      return this.closeFile('trailer');
    }
    if (!file) return this.fail('a diff line outside any file');
    const hunk = HUNK.exec(text);
    if (hunk) {
      if (file.to === undefined) return this.fail('a hunk before the file names');
      this.oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      this.newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
      this.state = 'hunk';
      return;
    }
    if (text.startsWith('--- ')) {
      const from = sidePath(text.slice(4), 'a/');
      if (from === undefined || file.from !== undefined) return this.fail('malformed --- line');
      file.from = from;
      return;
    }
    if (text.startsWith('+++ ')) {
      const to = sidePath(text.slice(4), 'b/');
      if (to === undefined || file.from === undefined || file.to !== undefined)
        return this.fail('malformed +++ line');
      file.to = to;
      return;
    }
    if (text.startsWith('new file mode ')) file.status = 'added';
    else if (text.startsWith('deleted file mode ')) file.status = 'removed';
    else if (text.startsWith('rename from ')) file.renameFrom = text.slice('rename from '.length);
    else if (text.startsWith('rename to ')) file.renameTo = text.slice('rename to '.length);
    else if (text.startsWith('copy from ') || text.startsWith('copy to ')) {
      // A copy's status differs between git's tools: the diffstat decides.
      this.current!.exact = false;
      if (text.startsWith('copy to ')) file.copyTo = text.slice('copy to '.length);
    } else if (text.startsWith('Binary files ') && text.endsWith(' differ')) this.current!.exact = false;
    else if (text === 'GIT binary patch') {
      this.current!.exact = false;
      this.state = 'binary';
    } else if (!/^(index |old mode |new mode |similarity index |dissimilarity index )/.test(text))
      this.fail('an unexpected line in a diff');
  }
}
