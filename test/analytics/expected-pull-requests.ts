import { localParts, mondayOf } from './expected';

/**
 * Pull-request statistics computed straight from pull requests and participants, in plain TypeScript, with no
 * SQL and no code of src/analytics: what GET /pull-requests/stats must answer.
 */

export interface TestPullRequest {
  repository: string;
  id: number;
  state: 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED';
  authorUuid: string;
  authorName: string;
  created: number;
  updated: number;
  merged: number | null;
  closed: number | null;
}

export interface TestParticipant {
  repository: string;
  pullRequest: number;
  userUuid: string;
  accountId: string;
  displayName: string;
  role: 'REVIEWER' | 'PARTICIPANT';
  approved: boolean;
  state: 'approved' | 'changes_requested' | null;
  participatedOn: number | null;
}

export interface PullRequestScope {
  /** Repositories counted (full names); all when absent. */
  repositories?: Set<string>;
  bots: 'exclude' | 'include';
  botPatterns: string[];
  zone: string;
  /** Half-open instant range. */
  from?: number;
  to?: number;
}

export interface ExpectedPercentiles {
  count: number;
  p50: number | null;
  p75: number | null;
  p90: number | null;
  p95: number | null;
}

export interface ExpectedStats {
  weeks: Map<string, { created: number; merged: number; declined: number }>;
  totals: { created: number; merged: number; declined: number; open: number };
  toMerge: ExpectedPercentiles;
  toReview: ExpectedPercentiles;
  reviewToMerge: ExpectedPercentiles;
  histogram: number[];
  reviewers: {
    account_id: string;
    display_name: string;
    reviews: number;
    approvals: number;
    changes_requested: number;
  }[];
}

const HOUR = 3_600_000;
const HISTOGRAM_HOURS = [1, 4, 24, 72, 168, 672];

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
export function percentileCont(values: number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = fraction * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo);
}

function percentiles(values: number[]): ExpectedPercentiles {
  const [p50, p75, p90, p95] = [0.5, 0.75, 0.9, 0.95].map((f) => percentileCont(values, f));
  return { count: values.length, p50: p50!, p75: p75!, p90: p90!, p95: p95! };
}

export function expectedPullRequestStats(
  pullRequests: TestPullRequest[],
  participants: TestParticipant[],
  scope: PullRequestScope,
): ExpectedStats {
  const isBot = (name: string) => scope.botPatterns.some((p) => name.toLowerCase().includes(p));
  const inRange = (t: number) => t >= (scope.from ?? -Infinity) && t < (scope.to ?? Infinity);
  const inRepositories = (repository: string) => !scope.repositories || scope.repositories.has(repository);
  const counted = pullRequests.filter(
    (p) => inRepositories(p.repository) && !(scope.bots === 'exclude' && isBot(p.authorName)),
  );
  const weeks = new Map<string, { created: number; merged: number; declined: number }>();
  const totals = { created: 0, merged: 0, declined: 0, open: 0 };
  const count = (at: number, kind: 'created' | 'merged' | 'declined') => {
    if (!inRange(at)) return;
    const week = mondayOf(localParts(at, scope.zone).date);
    const w = weeks.get(week) ?? { created: 0, merged: 0, declined: 0 };
    w[kind] += 1;
    weeks.set(week, w);
    totals[kind] += 1;
  };
  const byPullRequest = new Map<string, TestParticipant[]>();
  for (const pp of participants) {
    const key = `${pp.repository}#${pp.pullRequest}`;
    byPullRequest.set(key, [...(byPullRequest.get(key) ?? []), pp]);
  }
  const isReview = (pp: TestParticipant, pr: TestPullRequest) =>
    (pp.role === 'REVIEWER' || pp.approved || pp.state !== null) && pp.userUuid !== pr.authorUuid;
  const toMerge: number[] = [];
  const toReview: number[] = [];
  const reviewToMerge: number[] = [];
  const histogram = Array<number>(HISTOGRAM_HOURS.length + 1).fill(0);
  for (const pr of counted) {
    count(pr.created, 'created');
    if (pr.state === 'MERGED' && pr.merged !== null) count(pr.merged, 'merged');
    if (pr.state === 'DECLINED') count(pr.closed ?? pr.updated, 'declined');
    if (pr.state === 'OPEN' && pr.created < (scope.to ?? Infinity)) totals.open += 1;
    if (pr.state !== 'MERGED' || pr.merged === null || !inRange(pr.merged)) continue;
    const hours = (pr.merged - pr.created) / HOUR;
    toMerge.push(hours);
    const bin = HISTOGRAM_HOURS.findIndex((h) => hours < h);
    histogram[bin === -1 ? HISTOGRAM_HOURS.length : bin]! += 1;
    const reviews = (byPullRequest.get(`${pr.repository}#${pr.id}`) ?? []).filter(
      (pp) => pp.participatedOn !== null && isReview(pp, pr),
    );
    if (reviews.length === 0) continue;
    const first = Math.min(...reviews.map((pp) => pp.participatedOn!));
    toReview.push((first - pr.created) / HOUR);
    reviewToMerge.push((pr.merged - first) / HOUR);
  }
  const pullRequestOf = new Map(pullRequests.map((p) => [`${p.repository}#${p.id}`, p]));
  const reviewers = new Map<string, ExpectedStats['reviewers'][number]>();
  for (const pp of participants) {
    const pr = pullRequestOf.get(`${pp.repository}#${pp.pullRequest}`)!;
    if (!inRepositories(pr.repository) || !isReview(pp, pr)) continue;
    if (!inRange(pp.participatedOn ?? pr.created)) continue;
    const r = reviewers.get(pp.userUuid) ?? {
      account_id: pp.accountId,
      display_name: pp.displayName,
      reviews: 0,
      approvals: 0,
      changes_requested: 0,
    };
    r.reviews += 1;
    if (pp.approved) r.approvals += 1;
    if (pp.state === 'changes_requested') r.changes_requested += 1;
    reviewers.set(pp.userUuid, r);
  }
  return {
    weeks,
    totals,
    toMerge: percentiles(toMerge),
    toReview: percentiles(toReview),
    reviewToMerge: percentiles(reviewToMerge),
    histogram,
    reviewers: [...reviewers.values()]
      .filter((r) => !(scope.bots === 'exclude' && isBot(r.display_name)))
      .sort(
        (a, b) =>
          b.reviews - a.reviews ||
          b.approvals - a.approvals ||
          (a.display_name < b.display_name ? -1 : a.display_name > b.display_name ? 1 : 0),
      ),
  };
}
