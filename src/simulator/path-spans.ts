import type { ExportFile, FileStatus } from './types.js';

/** First and last commit (by commit time) that touched a path, across the whole history. */
export interface PathSpan {
  first: number;
  firstTime: number;
  last: number;
  lastTime: number;
}

/**
 * The express export names renames but not additions or deletions. A path's status is
 * inferred from its span: the first commit touching it added it, and a last touch that only
 * removes lines deleted it. Explicit statuses (git-loaded histories, pushes) always win.
 */
export function trackSpans(
  spans: Map<string, PathSpan>,
  id: number,
  timeMs: number,
  files: ExportFile[],
): void {
  for (const f of files) {
    touch(spans, f.path, id, timeMs);
    if (f.old_path !== undefined) touch(spans, f.old_path, id, timeMs);
  }
}

function touch(spans: Map<string, PathSpan>, path: string, id: number, t: number): void {
  const s = spans.get(path);
  if (!s) {
    spans.set(path, { first: id, firstTime: t, last: id, lastTime: t });
    return;
  }
  if (t < s.firstTime) {
    s.first = id;
    s.firstTime = t;
  }
  if (t >= s.lastTime) {
    s.last = id;
    s.lastTime = t;
  }
}

export function inferStatus(
  file: ExportFile,
  id: number,
  isRoot: boolean,
  spans: Map<string, PathSpan>,
): FileStatus {
  if (file.status) return file.status;
  if (file.old_path !== undefined) return 'renamed';
  if (isRoot) return 'added';
  const span = spans.get(file.path);
  const removedOnly = file.added === 0 && (file.removed ?? 0) > 0;
  if (span?.first === id && !removedOnly && (file.removed ?? 0) === 0) return 'added';
  if (span?.last === id && span.first !== id && removedOnly) return 'removed';
  return 'modified';
}
