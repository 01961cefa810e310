import type { paths } from './schema';

/** How current a stats answer is (docs/analytics.md, "Freshness"): every stats and pull-request answer has it. */
export type FreshnessFields = Pick<
  paths['/stats/activity']['get']['responses'][200]['content']['application/json'],
  | 'complete'
  | 'pending_commits'
  | 'pending_pull_requests'
  | 'commits_without_lines'
  | 'lines_counted_share'
  | 'lines_complete_eta_seconds'
>;

export interface FreshnessSummary {
  complete: boolean;
  pendingCommits: number;
  pendingPullRequests: number;
  commitsWithoutLines: number;
  /** Share of commits with line counts (the least of the answers), 0 to 1. */
  linesCountedShare: number;
  /** Seconds until every line is counted (the longest of the answers), null when none is missing. */
  linesCompleteEtaSeconds: number | null;
}

const COMPLETE: FreshnessSummary = {
  complete: true,
  pendingCommits: 0,
  pendingPullRequests: 0,
  commitsWithoutLines: 0,
  linesCountedShare: 1,
  linesCompleteEtaSeconds: null,
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
      const max = (field: 'pending_commits' | 'pending_pull_requests' | 'commits_without_lines') =>
        Math.max(...answers.map((a) => a[field]));
      const etas = answers.flatMap((a) =>
        a.lines_complete_eta_seconds === null ? [] : [a.lines_complete_eta_seconds],
      );
      const next: FreshnessSummary = {
        complete: answers.every((a) => a.complete),
        pendingCommits: max('pending_commits'),
        pendingPullRequests: max('pending_pull_requests'),
        commitsWithoutLines: max('commits_without_lines'),
        linesCountedShare: Math.min(...answers.map((a) => a.lines_counted_share)),
        linesCompleteEtaSeconds: etas.length > 0 ? Math.max(...etas) : null,
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
