import { inferStatus } from './path-spans.js';
import type { Repository } from './store.js';
import type { ExportFile, FileStatus } from './types.js';

/**
 * Net file changes of a set of commits (newest first, as queries return them). The simulator
 * keeps per-commit counts, not trees, so a multi-commit diff is approximated by folding the
 * first-parent diffs of the non-merge commits, oldest first. Used for `A..B` diffstats and
 * for the merge commits the simulator creates.
 */
export function foldCommitFiles(
  repo: Repository,
  idsNewestFirst: Int32Array,
): { file: ExportFile; status: FileStatus }[] {
  const acc = new Map<string, { file: ExportFile; status: FileStatus }>();
  const sum = (a: number | null, b: number | null): number | null =>
    a === null || b === null ? null : a + b;
  for (let k = idsNewestFirst.length - 1; k >= 0; k--) {
    const id = idsNewestFirst[k]!;
    const c = repo.commit(id);
    if (c.parents.length > 1) continue;
    for (const f of c.files) {
      const status = inferStatus(f, id, c.parents.length === 0, repo.spans);
      const prev = acc.get(f.old_path ?? f.path);
      if (f.old_path !== undefined) acc.delete(f.old_path);
      if (!prev) {
        acc.set(f.path, { file: { ...f, status }, status });
        continue;
      }
      if (prev.status === 'added' && status === 'removed') {
        acc.delete(f.path);
        continue;
      }
      const file: ExportFile = {
        path: f.path,
        added: sum(prev.file.added, f.added),
        removed: sum(prev.file.removed, f.removed),
      };
      const oldPath = prev.file.old_path ?? f.old_path;
      if (oldPath !== undefined && oldPath !== f.path) file.old_path = oldPath;
      const merged: FileStatus =
        status === 'removed'
          ? 'removed'
          : prev.status === 'added'
            ? 'added'
            : file.old_path !== undefined
              ? 'renamed'
              : 'modified';
      file.status = merged;
      acc.set(f.path, { file, status: merged });
    }
  }
  return [...acc.values()].sort((a, b) =>
    a.file.path < b.file.path ? -1 : a.file.path > b.file.path ? 1 : 0,
  );
}
