import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { RECENT_FIRST_MS } from '../../src/ingest/backfill-jobs';
import { EXPRESS_EXPORT, startBackfill, startIngestWorker, waitFor } from './backfill-harness';

/** The hashes of the express export authored since `since`. */
function hashesSince(since: Date): Set<string> {
  const recent = new Set<string>();
  for (const line of gunzipSync(readFileSync(EXPRESS_EXPORT)).toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const commit = JSON.parse(line) as { hash: string; date: string };
    if (Date.parse(commit.date) >= since.getTime()) recent.add(commit.hash);
  }
  return recent;
}

describe('usefulness first: line counts of the newest 90 days of every repository before older history', () => {
  it('counts both repositories’ newest 90 days before the older history of either', async () => {
    const b = await startBackfill({ repositories: ['express', 'mirror'] });
    try {
      // As if now were the day after express's newest commit: its last 90 days hold a few dozen commits.
      const since = new Date(Date.parse('2026-08-02T00:00:00Z') - RECENT_FIRST_MS);
      const recent = hashesSince(since);
      assert.ok(recent.size > 10 && recent.size < 100, `${recent.size} recent commits`);
      // Short steps and small rounds: without the ordering, the first repository's step would go on into its
      // older history before the second repository's turn.
      const worker = await startIngestWorker(b.app, {
        backfill: { stepMs: 500, diffstatRound: 20, recentFirstMs: Date.now() - since.getTime() },
      });
      const diffstats = () =>
        b.sim.requestLog.filter((r) => r.path.includes('/diffstat/')).map((r) => r.path);
      try {
        await waitFor(async () => diffstats().length >= 2 * recent.size + 200, 'older history to be counted');
      } finally {
        await worker.stop();
      }
      const requested = diffstats();
      const isRecent = (path: string) => recent.has(path.slice(path.lastIndexOf('/') + 1));
      const lastRecent = requested.findLastIndex(isRecent);
      const firstOlder = requested.findIndex((path) => !isRecent(path));
      assert.equal(
        new Set(requested.filter(isRecent)).size,
        2 * recent.size,
        'every recent commit of both repositories counted',
      );
      assert.ok(
        lastRecent < firstOlder,
        `the last recent diffstat (#${lastRecent}) comes before the first older one (#${firstOlder})`,
      );
    } finally {
      await b.close();
    }
  });
});
