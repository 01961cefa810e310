import { BitbucketApiError, type BitbucketClient } from '../bitbucket/client';
import { endpoints } from '../bitbucket/endpoints';
import { messageLooksLikePatch, PatchSeriesCounter } from '../bitbucket/patch-series';
import type { CommitDiffstat, PendingCommit } from '../db/commit-store';
import type { Logger } from '../platform/logger';

/**
 * The experimental fast path of phase 2 (workspace setting `line_counts_from_patches`, off by default): one
 * `GET …/patch/{newest}..{stop}` carries the line counts of a whole chain of commits, where a diffstat carries
 * one. Diff text is counted in a stream (src/bitbucket/patch-series.ts) and never stored, logged or reported.
 *
 * A chain is a run of commits without line counts, each the only parent of the one before, so `newest..stop`
 * (stop: the last one's parent) names exactly the chain: nothing reachable from `stop` is in the series, and
 * everything else reachable from `newest` is the chain itself. Merges (a series has no patches for them), roots
 * (no `stop`), commits whose message could pass for patch structure, and commits a series leaves out, cuts off
 * or cannot count exactly go to their diffstat, so every count is the one the diffstat path stores.
 */

export type LineTask = { kind: 'diffstat'; hash: string } | { kind: 'patch'; chain: string[]; stop: string };

/** Tasks for one round of pending commits (newest first), in that order: chains of up to `maxChain` commits. */
export function planLineTasks(pending: PendingCommit[], maxChain: number): LineTask[] {
  const index = new Map(pending.map((c, i) => [c.hash, i]));
  const chainable = (c: PendingCommit) => c.parents.length === 1 && !messageLooksLikePatch(c.message);
  const taken = new Set<string>();
  const tasks: LineTask[] = [];
  for (const commit of pending) {
    if (taken.has(commit.hash)) continue;
    taken.add(commit.hash);
    if (!chainable(commit)) {
      tasks.push({ kind: 'diffstat', hash: commit.hash });
      continue;
    }
    const chain = [commit.hash];
    let last = commit;
    while (chain.length < maxChain) {
      const at = index.get(last.parents[0]!);
      const parent = at === undefined ? undefined : pending[at]!;
      if (!parent || taken.has(parent.hash) || !chainable(parent)) break;
      taken.add(parent.hash);
      chain.push(parent.hash);
      last = parent;
    }
    // A chain of one costs one request either way; the diffstat is the plain path.
    tasks.push(
      chain.length === 1
        ? { kind: 'diffstat', hash: commit.hash }
        : { kind: 'patch', chain, stop: last.parents[0]! },
    );
  }
  return tasks;
}

export interface SeriesOutcome {
  /** Commits counted from the series, their files as a diffstat gives them. */
  counted: CommitDiffstat[];
  /** Commits for their diffstat: left out, not countable exactly, or the whole chain when the series failed. */
  fallback: string[];
}

export interface SeriesTarget {
  baseApiUrl: string;
  workspace: string;
  repository: string;
}

/**
 * One chain's series. Past `maxBytes` the body is abandoned: the patches that ended before it count, the rest of
 * the chain stays without line counts for the next round (a shorter chain, since a series runs oldest first); a
 * series that yields nothing at all sends the chain to diffstats. Budget and other request errors go to the caller.
 */
export async function countChain(
  client: BitbucketClient,
  target: SeriesTarget,
  task: Extract<LineTask, { kind: 'patch' }>,
  maxBytes: number,
  logger: Logger,
): Promise<SeriesOutcome> {
  const url = endpoints.patchSeries(
    target.baseApiUrl,
    target.workspace,
    target.repository,
    task.chain[0]!,
    task.stop,
  );
  const counter = new PatchSeriesCounter(new Set(task.chain));
  let complete: boolean;
  try {
    ({ complete } = await client.streamText(url, (chunk) => counter.write(chunk), maxBytes));
  } catch (error) {
    // 555: too large for Bitbucket; 404: a commit of the chain is gone (its diffstat says which).
    if (error instanceof BitbucketApiError && (error.status === 555 || error.status === 404)) {
      logger.info(
        { commits: task.chain.length, status: error.status },
        'patch series refused: diffstats instead',
      );
      return { counted: [], fallback: task.chain };
    }
    throw error;
  }
  if (complete) counter.end();
  if (counter.failure !== null) {
    logger.warn({ commits: task.chain.length, reason: counter.failure }, 'patch series not countable');
    return { counted: [], fallback: task.chain };
  }
  const counted: CommitDiffstat[] = [];
  const fallback: string[] = [];
  const covered = new Set<string>();
  for (const patch of counter.patches) {
    covered.add(patch.hash);
    if (patch.files === null) fallback.push(patch.hash);
    else counted.push({ hash: patch.hash, files: patch.files.map((f) => ({ ...f, isBinary: false })) });
  }
  if (!complete && covered.size === 0) return { counted: [], fallback: task.chain };
  // A complete series that leaves a commit out (git leaves out commits without changes): its diffstat decides.
  if (complete) for (const hash of task.chain) if (!covered.has(hash)) fallback.push(hash);
  return { counted, fallback };
}
