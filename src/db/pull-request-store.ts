import type { Trx } from './database';
import { pgJson } from './text';

/**
 * Pull requests and their participants. A pull request is written whole (row and participants together) and only
 * when it is at least as new as the stored one (`updated_on`), so a slow fetch that finishes after a newer one, a
 * duplicate webhook, or a re-run after a crash never moves a pull request backwards. Times are kept as the API's
 * ISO strings, which carry microseconds (a JS Date would drop them and make every version look changed).
 */

export type PullRequestState = 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED';

export interface ParticipantRecord {
  userUuid: string;
  accountId: string | null;
  displayName: string | null;
  role: 'PARTICIPANT' | 'REVIEWER';
  isReviewer: boolean;
  approved: boolean;
  state: string | null;
  participatedOn: string | null;
  approvedOn: string | null;
}

export interface PullRequestRecord {
  id: number;
  title: string;
  state: PullRequestState;
  authorAccountId: string | null;
  authorUuid: string | null;
  authorName: string | null;
  sourceBranch: string | null;
  destinationBranch: string | null;
  createdOn: string;
  updatedOn: string;
  mergedOn: string | null;
  /** When it was merged, declined or superseded. */
  closedOn: string | null;
  mergeCommit: string | null;
  closedByAccountId: string | null;
  commentCount: number;
  taskCount: number;
  participants: ParticipantRecord[];
}

/** The ids among `versions` whose stored `updated_on` is the same: nothing to fetch for them. */
export async function upToDatePullRequests(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  versions: { id: number; updatedOn: string }[],
): Promise<Set<number>> {
  if (versions.length === 0) return new Set();
  const { rows } = await trx.raw<{ rows: { id: number }[] }>(
    `select p.id from unnest(?::int[], ?::timestamptz[]) as v(id, updated_on)
       join pull_requests p on p.tenant_id = ? and p.repository_id = ? and p.id = v.id and p.updated_on >= v.updated_on`,
    [versions.map((v) => v.id), versions.map((v) => v.updatedOn), tenantId, repositoryId],
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Upserts pull requests not older than the stored ones, replacing their participants; returns the ids written.
 * Three statements for the whole batch (rows, old participants, new participants), each pull request once: the
 * newest version when the batch holds several.
 */
export async function savePullRequests(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  records: PullRequestRecord[],
): Promise<number[]> {
  const newest = new Map<number, PullRequestRecord>();
  for (const pr of records) {
    const seen = newest.get(pr.id);
    if (!seen || Date.parse(seen.updatedOn) <= Date.parse(pr.updatedOn)) newest.set(pr.id, pr);
  }
  if (newest.size === 0) return [];
  const rows = [...newest.values()].map((pr) => ({
    id: pr.id,
    title: pr.title,
    state: pr.state,
    author_account_id: pr.authorAccountId,
    author_uuid: pr.authorUuid,
    author_name: pr.authorName,
    source_branch: pr.sourceBranch,
    destination_branch: pr.destinationBranch,
    created_on: pr.createdOn,
    updated_on: pr.updatedOn,
    merged_on: pr.mergedOn,
    closed_on: pr.closedOn,
    merge_commit: pr.mergeCommit,
    closed_by_account_id: pr.closedByAccountId,
    comment_count: pr.commentCount,
    task_count: pr.taskCount,
  }));
  const { rows: saved } = await trx.raw<{ rows: { id: number }[] }>(
    `insert into pull_requests (tenant_id, repository_id, id, title, state, author_account_id, author_uuid,
                                author_name, source_branch, destination_branch, created_on, updated_on, merged_on,
                                closed_on, merge_commit, closed_by_account_id, comment_count, task_count)
     select ?::uuid, ?::bigint, v.id, v.title, v.state, v.author_account_id, v.author_uuid, v.author_name,
            v.source_branch, v.destination_branch, v.created_on, v.updated_on, v.merged_on, v.closed_on,
            v.merge_commit, v.closed_by_account_id, v.comment_count, v.task_count
       from json_to_recordset(?::json) as v(id int, title text, state text, author_account_id text, author_uuid text,
            author_name text, source_branch text, destination_branch text, created_on timestamptz,
            updated_on timestamptz, merged_on timestamptz, closed_on timestamptz, merge_commit text,
            closed_by_account_id text, comment_count int, task_count int)
     on conflict (tenant_id, repository_id, id) do update set
       title = excluded.title, state = excluded.state, author_account_id = excluded.author_account_id,
       author_uuid = excluded.author_uuid, author_name = excluded.author_name,
       source_branch = excluded.source_branch, destination_branch = excluded.destination_branch,
       created_on = excluded.created_on, updated_on = excluded.updated_on, merged_on = excluded.merged_on,
       closed_on = excluded.closed_on, merge_commit = excluded.merge_commit,
       closed_by_account_id = excluded.closed_by_account_id, comment_count = excluded.comment_count,
       task_count = excluded.task_count
     where pull_requests.updated_on <= excluded.updated_on
     returning id`,
    [tenantId, repositoryId, pgJson(rows)],
  );
  const written = saved.map((r) => r.id);
  if (written.length === 0) return [];
  await trx.raw(
    `delete from pull_request_participants
      where tenant_id = ? and repository_id = ? and pull_request_id = any(?::int[])`,
    [tenantId, repositoryId, written],
  );
  const participants = written.flatMap((id) =>
    newest.get(id)!.participants.map((p) => ({
      pull_request_id: id,
      user_uuid: p.userUuid,
      account_id: p.accountId,
      display_name: p.displayName,
      role: p.role,
      is_reviewer: p.isReviewer,
      approved: p.approved,
      state: p.state,
      participated_on: p.participatedOn,
      approved_on: p.approvedOn,
    })),
  );
  if (participants.length > 0) {
    await trx.raw(
      `insert into pull_request_participants (tenant_id, repository_id, pull_request_id, user_uuid, account_id,
                                              display_name, role, is_reviewer, approved, state, participated_on,
                                              approved_on)
       select ?::uuid, ?::bigint, v.pull_request_id, v.user_uuid, v.account_id, v.display_name, v.role,
              v.is_reviewer, v.approved, v.state, v.participated_on, v.approved_on
         from json_to_recordset(?::json) as v(pull_request_id int, user_uuid text, account_id text,
              display_name text, role text, is_reviewer boolean, approved boolean, state text,
              participated_on timestamptz, approved_on timestamptz)`,
      [tenantId, repositoryId, pgJson(participants)],
    );
  }
  return written;
}

/** Where the repository's pull-request backfill stands: the next page to read (null: start over). */
export async function pullRequestCursor(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
): Promise<string | null> {
  const row = await trx('repositories')
    .where({ tenant_id: tenantId, id: repositoryId })
    .first('pull_requests_cursor');
  return row?.pull_requests_cursor ?? null;
}

/** Saves the next page to read; `null` ends a pass, which is recorded as completed at `now`. */
export async function savePullRequestCursor(
  trx: Trx,
  tenantId: string,
  repositoryId: number,
  next: string | null,
  now: Date,
): Promise<void> {
  await trx('repositories')
    .where({ tenant_id: tenantId, id: repositoryId })
    .update(
      next === null
        ? { pull_requests_cursor: null, pull_requests_synced_at: now }
        : { pull_requests_cursor: next },
    );
}
