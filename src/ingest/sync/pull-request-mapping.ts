import type { BitbucketActivity, BitbucketPullRequest, BitbucketUser } from '../../bitbucket/schemas';
import type { ParticipantRecord, PullRequestRecord } from '../../db/pull-request-store';

/** The newest activity date matching `pick` (activity lists are newest first, but no order is relied on). */
function newest(activity: BitbucketActivity[], pick: (entry: BitbucketActivity) => string | undefined) {
  let best: string | null = null;
  for (const entry of activity) {
    const date = pick(entry);
    if (date !== undefined && (best === null || Date.parse(date) > Date.parse(best))) best = date;
  }
  return best;
}

function participantsOf(pr: BitbucketPullRequest, activity: BitbucketActivity[]): ParticipantRecord[] {
  const reviewerUuids = new Set((pr.reviewers ?? []).map((r) => r.uuid));
  const byUuid = new Map<string, ParticipantRecord>();
  const base = (user: BitbucketUser) => ({
    userUuid: user.uuid,
    accountId: user.account_id ?? null,
    displayName: user.display_name,
  });
  for (const p of pr.participants ?? []) {
    const approvedOn = p.approved
      ? (newest(activity, (e) => (e.approval?.user.uuid === p.user.uuid ? e.approval.date : undefined)) ??
        p.participated_on ??
        null)
      : null;
    byUuid.set(p.user.uuid, {
      ...base(p.user),
      role: p.role,
      isReviewer: reviewerUuids.has(p.user.uuid) || p.role === 'REVIEWER',
      approved: p.approved,
      state: p.state ?? null,
      participatedOn: p.participated_on ?? null,
      approvedOn,
    });
  }
  // A requested reviewer who has not taken part yet is listed in `reviewers` only.
  for (const r of pr.reviewers ?? []) {
    if (byUuid.has(r.uuid)) continue;
    byUuid.set(r.uuid, {
      ...base(r),
      role: 'REVIEWER',
      isReviewer: true,
      approved: false,
      state: null,
      participatedOn: null,
      approvedOn: null,
    });
  }
  return [...byUuid.values()].sort((a, b) =>
    a.userUuid < b.userUuid ? -1 : a.userUuid > b.userUuid ? 1 : 0,
  );
}

/**
 * A pull request as stored, from `GET …/pullrequests/{id}` (reviewers, participants) and its activity. Pull
 * requests have no merged_on: the merge (and a decline) is the newest activity update to that state, else
 * `updated_on` (reference §4).
 */
export function toPullRequestRecord(
  pr: BitbucketPullRequest,
  activity: BitbucketActivity[],
): PullRequestRecord {
  const closedOn =
    pr.state === 'OPEN'
      ? null
      : (newest(activity, (e) => (e.update?.state === pr.state ? e.update.date : undefined)) ??
        pr.updated_on);
  return {
    id: pr.id,
    title: pr.title,
    state: pr.state,
    authorAccountId: pr.author?.account_id ?? null,
    authorUuid: pr.author?.uuid ?? null,
    authorName: pr.author?.display_name ?? null,
    sourceBranch: pr.source.branch?.name ?? null,
    destinationBranch: pr.destination.branch?.name ?? null,
    createdOn: pr.created_on,
    updatedOn: pr.updated_on,
    mergedOn: pr.state === 'MERGED' ? closedOn : null,
    closedOn,
    mergeCommit: pr.merge_commit?.hash ?? null,
    closedByAccountId: pr.closed_by?.account_id ?? null,
    commentCount: pr.comment_count ?? 0,
    taskCount: pr.task_count ?? 0,
    participants: participantsOf(pr, activity),
  };
}
