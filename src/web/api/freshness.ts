import type { paths } from './schema';

/** How current a stats answer is (docs/analytics.md, "Freshness"): every stats and pull-request answer has it. */
export type FreshnessFields = Pick<
  paths['/stats/activity']['get']['responses'][200]['content']['application/json'],
  'complete' | 'pending_commits' | 'pending_pull_requests' | 'commits_without_lines'
>;

export interface FreshnessSummary {
  complete: boolean;
  pendingCommits: number;
  pendingPullRequests: number;
  commitsWithoutLines: number;
}

const COMPLETE: FreshnessSummary = {
  complete: true,
  pendingCommits: 0,
  pendingPullRequests: 0,
  commitsWithoutLines: 0,
};

/**
 * The page's one record of how current its numbers are: endpoints.ts reports every stats answer, the header's
 * status reads the summary (useSyncExternalStore). The latest answer of each endpoint counts, so a filter change
 * replaces what the previous filters said; a page is complete when every latest answer is.
 */
export interface Freshness {
  report(endpoint: string, answer: FreshnessFields): void;
  summary(): FreshnessSummary;
  subscribe(listener: () => void): () => void;
}

export function createFreshness(): Freshness {
  const latest = new Map<string, FreshnessFields>();
  const listeners = new Set<() => void>();
  let summary = COMPLETE;
  return {
    report(endpoint, answer) {
      latest.set(endpoint, answer);
      const answers = [...latest.values()];
      const max = (field: keyof Omit<FreshnessFields, 'complete'>) =>
        Math.max(...answers.map((a) => a[field]));
      const next: FreshnessSummary = {
        complete: answers.every((a) => a.complete),
        pendingCommits: max('pending_commits'),
        pendingPullRequests: max('pending_pull_requests'),
        commitsWithoutLines: max('commits_without_lines'),
      };
      // A new object only when something changed: useSyncExternalStore re-renders on identity.
      if (JSON.stringify(next) === JSON.stringify(summary)) return;
      summary = next;
      for (const listener of listeners) listener();
    },
    summary: () => summary,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
