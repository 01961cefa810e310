import type { Account, AccountRegistry } from './accounts.js';
import type { ActivityEntry, Participant, PullRequest, PullRequestState, Repository } from './store.js';
import { mulberry32, sha256Hex, unitHash } from './util.js';

const HOUR = 3_600_000;
const MERGE_PR = /^Merge pull request #(\d+) from ([^/\s]+)\/(\S+)/;
const SQUASH_PR = /\s\(#(\d+)\)$/;
const COMMENTS = [
  'Looks good to me.',
  'Could you add a test for this case?',
  'Nit: please keep the naming consistent with the rest of the module.',
  'Thanks! Rebased on the latest main?',
  'This changes public behaviour; worth a note in History.md.',
  'Done, updated.',
];

/**
 * Pull requests for a repository loaded from history, deterministic per repository:
 * - every merge commit "Merge pull request #N from owner/branch" → MERGED PR #N (author = the
 *   second parent's author, closed by the merge commit's author, merge_commit = the merge);
 * - every squash commit whose subject ends "(#N)" → MERGED PR #N (squash strategy);
 * - every branch not merged into the main branch → an OPEN PR (about one in three DECLINED).
 * Reviewers, approvals, comments and activity are drawn from a seeded RNG per PR.
 */
export function synthesizePullRequests(repo: Repository, users: AccountRegistry): void {
  const g = repo.graph;
  if (g.size === 0) return;
  const branchNames = [
    repo.mainbranch,
    ...[...repo.branches.keys()].filter((b) => b !== repo.mainbranch).sort(),
  ];
  const fpBranch = firstParentBranches(repo, branchNames);
  const destinationOf = (id: number): string => branchNames[fpBranch[id]!] ?? repo.mainbranch;
  const found: PullRequest[] = [];
  const taken = new Set<number>();

  for (let id = 0; id < g.size; id++) {
    if (!repo.recordMentions(id, ['Merge pull request #', '(#'])) continue;
    const c = repo.commit(id);
    const subject = c.message.split('\n')[0] ?? '';
    const mergeMs = Date.parse(c.committed ?? c.date);
    const merge = MERGE_PR.exec(subject);
    if (merge && c.parents.length >= 2) {
      const number = Number(merge[1]);
      const sourceId = g.idOf(c.parents[1]!);
      if (taken.has(number) || sourceId === undefined) continue;
      const src = repo.commit(sourceId);
      const body = c.message.split('\n').slice(1).join('\n').trim();
      const [title, ...rest] = body ? body.split('\n') : [merge[3]!];
      taken.add(number);
      found.push(
        base(repo, {
          id: number,
          title: title!.trim() || merge[3]!,
          description: rest.join('\n').trim(),
          state: 'MERGED',
          author: users.personFor(src.author.name, src.author.email),
          closedBy: users.personFor(c.author.name, c.author.email),
          source: {
            branch: merge[3]!,
            commit: c.parents[1]!,
            ...(merge[2] === repo.workspace.slug ? {} : { forkOwner: merge[2]! }),
          },
          destination: { branch: destinationOf(id), commit: c.parents[0]! },
          mergeCommit: c.hash,
          sourceMs: Date.parse(src.committed ?? src.date),
          closedMs: mergeMs,
        }),
      );
      continue;
    }
    const squash = SQUASH_PR.exec(subject);
    if (squash && c.parents.length === 1) {
      const number = Number(squash[1]);
      if (taken.has(number)) continue;
      taken.add(number);
      const author = users.personFor(c.author.name, c.author.email);
      found.push(
        base(repo, {
          id: number,
          title: subject.replace(SQUASH_PR, '').trim(),
          description: c.message.split('\n').slice(1).join('\n').trim(),
          state: 'MERGED',
          author,
          // Web-UI squashes are committed by a bot identity (e.g. GitHub <noreply@github.com>): credit the author.
          closedBy: (c.committer && users.observe(c.committer.name, c.committer.email)) || author,
          source: { branch: `pr-${number}`, commit: c.hash },
          destination: { branch: destinationOf(id), commit: c.parents[0]! },
          mergeCommit: c.hash,
          sourceMs: Date.parse(c.date),
          closedMs: mergeMs,
        }),
      );
    }
  }

  // Branches the main branch never merged: open (or declined) pull requests.
  const mainHead = repo.branches.get(repo.mainbranch);
  const onMain = mainHead === undefined ? new Uint8Array(g.size) : g.reach([mainHead]);
  let next = 1;
  for (const n of taken) if (n >= next) next = n + 1;
  for (const branch of branchNames.slice(1)) {
    const head = repo.branches.get(branch)!;
    if (onMain[head] || mainHead === undefined) continue;
    const c = repo.commit(head);
    const declined = unitHash(`declined:${repo.uuid}:${branch}`) < 0.34;
    const sourceMs = Date.parse(c.committed ?? c.date);
    found.push(
      base(repo, {
        id: next++,
        title: (c.message.split('\n')[0] ?? branch).trim() || branch,
        description: c.message.split('\n').slice(1).join('\n').trim(),
        state: declined ? 'DECLINED' : 'OPEN',
        author: users.personFor(c.author.name, c.author.email),
        closedBy: declined ? repo.workspace.admin : undefined,
        source: { branch, commit: c.hash },
        destination: { branch: repo.mainbranch, commit: g.hashOf(mainHead) },
        sourceMs,
        closedMs: declined ? sourceMs + 3 * 24 * HOUR : undefined,
      }),
    );
  }

  const maintainers = uniqueAccounts(found.flatMap((pr) => (pr.closedBy ? [pr.closedBy] : [])));
  const pool = maintainers.length >= 2 ? maintainers : uniqueAccounts(found.map((pr) => pr.author));
  let commentId = 10_000 + (parseInt(sha256Hex(repo.uuid).slice(0, 6), 16) % 90_000) * 1000;
  for (const pr of found.sort((a, b) => a.id - b.id)) {
    commentId = decorate(repo, pr, pool, commentId);
    repo.pullRequests.set(pr.id, pr);
  }
}

/** Marks each commit with the first branch (main first) whose first-parent chain contains it. */
function firstParentBranches(repo: Repository, branchNames: string[]): Int32Array {
  const fp = new Int32Array(repo.graph.size).fill(-1);
  branchNames.forEach((name, b) => {
    let id = repo.branches.get(name) ?? -1;
    while (id >= 0 && fp[id] === -1) {
      fp[id] = b;
      id = repo.graph.firstParentOf(id);
    }
  });
  return fp;
}

function uniqueAccounts(list: Account[]): Account[] {
  return [...new Map(list.map((a) => [a.uuid, a])).values()];
}

interface BaseInput {
  id: number;
  title: string;
  description: string;
  state: PullRequestState;
  author: Account;
  closedBy: Account | undefined;
  source: PullRequest['source'];
  destination: PullRequest['destination'];
  mergeCommit?: string;
  sourceMs: number;
  closedMs: number | undefined;
}

function base(repo: Repository, i: BaseInput): PullRequest {
  const rng = mulberry32(parseInt(sha256Hex(`pr:${repo.uuid}:${i.id}`).slice(0, 8), 16));
  const closed = i.closedMs ?? i.sourceMs + (2 + Math.floor(rng() * 48)) * HOUR;
  // Opened some hours before it closed, but never before its source commit existed.
  const hoursOpen = 1 + Math.floor(rng() * 72);
  const created = Math.min(closed - 60_000, Math.max(i.sourceMs + 5 * 60_000, closed - hoursOpen * HOUR));
  const pr: PullRequest = {
    id: i.id,
    title: i.title,
    description: i.description,
    state: i.state,
    draft: false,
    author: i.author,
    source: i.source,
    destination: i.destination,
    reason: i.state === 'DECLINED' ? 'Superseded by a different approach.' : '',
    createdMs: created,
    updatedMs: closed,
    commentCount: 0,
    taskCount: rng() < 0.25 ? 1 : 0,
    closeSourceBranch: i.state === 'MERGED' && rng() < 0.5,
    reviewers: [],
    participants: [],
    activity: [],
  };
  if (i.mergeCommit) pr.mergeCommit = i.mergeCommit;
  if (i.closedBy && i.state !== 'OPEN') pr.closedBy = i.closedBy;
  return pr;
}

/** Reviewers, approvals, comments and the activity log; returns the next free comment id. */
function decorate(repo: Repository, pr: PullRequest, pool: Account[], commentId: number): number {
  const rng = mulberry32(parseInt(sha256Hex(`pr-people:${repo.uuid}:${pr.id}`).slice(0, 8), 16));
  const span = Math.max(60_000, pr.updatedMs - pr.createdMs);
  const at = (f: number): number => Math.round(pr.createdMs + span * f);
  const candidates = pool.filter((a) => a.uuid !== pr.author.uuid);
  const reviewerCount = Math.min(candidates.length, rng() < 0.2 ? 0 : rng() < 0.6 ? 1 : 2);
  const start = Math.floor(rng() * Math.max(1, candidates.length));
  pr.reviewers = Array.from(
    { length: reviewerCount },
    (_, k) => candidates[(start + k) % candidates.length]!,
  );
  const approveChance = pr.state === 'MERGED' ? 0.8 : pr.state === 'OPEN' ? 0.4 : 0.2;
  const people = new Map<string, Participant>();
  const entries: ActivityEntry[] = [
    {
      kind: 'update',
      state: 'OPEN',
      dateMs: pr.createdMs,
      author: pr.author,
      sourceCommit: pr.source.commit,
      destinationCommit: pr.destination.commit,
    },
  ];
  for (const r of pr.reviewers) {
    const approved = rng() < approveChance;
    const when = at(0.3 + rng() * 0.6);
    people.set(r.uuid, {
      user: r,
      role: 'REVIEWER',
      approved,
      state: approved ? 'approved' : null,
      participatedMs: when,
    });
    if (approved) entries.push({ kind: 'approval', dateMs: when, user: r });
  }
  const comments = Math.floor(rng() * 5);
  for (let k = 0; k < comments; k++) {
    const user = k % 2 === 0 && pr.reviewers.length > 0 ? pr.reviewers[k % pr.reviewers.length]! : pr.author;
    const when = at((k + 1) / (comments + 2));
    entries.push({
      kind: 'comment',
      id: commentId++,
      dateMs: when,
      user,
      text: COMMENTS[Math.floor(rng() * COMMENTS.length)]!,
    });
    if (user.uuid !== pr.author.uuid) {
      const p = people.get(user.uuid);
      if (p) p.participatedMs = Math.max(p.participatedMs, when);
      else
        people.set(user.uuid, {
          user,
          role: 'PARTICIPANT',
          approved: false,
          state: null,
          participatedMs: when,
        });
    }
  }
  pr.commentCount = comments;
  if (pr.closedBy && pr.closedBy.uuid !== pr.author.uuid && !people.has(pr.closedBy.uuid)) {
    people.set(pr.closedBy.uuid, {
      user: pr.closedBy,
      role: 'PARTICIPANT',
      approved: false,
      state: null,
      participatedMs: pr.updatedMs,
    });
  }
  if (pr.state !== 'OPEN') {
    entries.push({
      kind: 'update',
      state: pr.state,
      dateMs: pr.updatedMs,
      author: pr.closedBy ?? pr.author,
      sourceCommit: pr.source.commit,
      destinationCommit: pr.destination.commit,
    });
  }
  pr.participants = [...people.values()];
  pr.activity = entries.sort((a, b) => a.dateMs - b.dateMs);
  return commentId;
}
