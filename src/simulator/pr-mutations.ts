import type { Account } from './accounts.js';
import { foldCommitFiles } from './diff-fold.js';
import { mutationResult, type MutationDeps, type Mutations } from './mutations.js';
import type { Participant, PullRequest, Repository } from './store.js';
import type { PullRequestResult } from './types.js';
import { isoMicros } from './util.js';
import { pushChange } from './webhook-payloads.js';

/** Pull request changes made "on bitbucket.org", each followed by its pullrequest:* webhook. */
export class PullRequestMutations {
  constructor(
    private readonly m: Mutations,
    private readonly d: MutationDeps,
  ) {}

  private pr(repo: Repository, id: number, state?: 'OPEN'): PullRequest {
    const pr = repo.pullRequests.get(id);
    if (!pr) throw new Error(`No pull request #${id} in ${repo.fullName}`);
    if (state && pr.state !== state) throw new Error(`Pull request #${id} is ${pr.state}`);
    return pr;
  }

  async openPullRequest(
    wsSlug: string,
    repoSlug: string,
    input: {
      title: string;
      source: string;
      destination?: string;
      author?: string;
      reviewers?: string[];
      description?: string;
      closeSourceBranch?: boolean;
      draft?: boolean;
    },
  ): Promise<PullRequestResult> {
    const repo = this.m.repo(wsSlug, repoSlug);
    const destination = input.destination ?? repo.mainbranch;
    const src = repo.branches.get(input.source);
    const dst = repo.branches.get(destination);
    if (src === undefined) throw new Error(`No branch ${input.source}`);
    if (dst === undefined) throw new Error(`No branch ${destination}`);
    const author = this.m.actor(repo.workspace, input.author);
    const now = this.m.nowMs();
    const reviewers = (input.reviewers ?? []).map((r) => this.m.actor(repo.workspace, r));
    let id = 1;
    for (const n of repo.pullRequests.keys()) if (n >= id) id = n + 1;
    const pr: PullRequest = {
      id,
      title: input.title,
      description: input.description ?? '',
      state: 'OPEN',
      draft: input.draft ?? false,
      author,
      source: { branch: input.source, commit: repo.graph.hashOf(src) },
      destination: { branch: destination, commit: repo.graph.hashOf(dst) },
      reason: '',
      createdMs: now,
      updatedMs: now,
      commentCount: 0,
      taskCount: 0,
      closeSourceBranch: input.closeSourceBranch ?? false,
      reviewers,
      participants: reviewers.map((user) => ({
        user,
        role: 'REVIEWER',
        approved: false,
        state: null,
        participatedMs: now,
      })),
      activity: [
        {
          kind: 'update',
          state: 'OPEN',
          dateMs: now,
          author,
          sourceCommit: repo.graph.hashOf(src),
          destinationCommit: repo.graph.hashOf(dst),
        },
      ],
    };
    repo.pullRequests.set(id, pr);
    repo.touch();
    return mutationResult(await this.m.emitPullRequest(repo, 'pullrequest:created', author, pr), { id });
  }

  async approvePullRequest(
    wsSlug: string,
    repoSlug: string,
    id: number,
    input: { user: string },
  ): Promise<PullRequestResult> {
    const repo = this.m.repo(wsSlug, repoSlug);
    const pr = this.pr(repo, id, 'OPEN');
    const user = this.m.actor(repo.workspace, input.user);
    const now = this.m.nowMs();
    let p: Participant | undefined = pr.participants.find((x) => x.user.uuid === user.uuid);
    if (!p) {
      p = { user, role: 'PARTICIPANT', approved: false, state: null, participatedMs: now };
      pr.participants.push(p);
    }
    p.approved = true;
    p.state = 'approved';
    p.participatedMs = now;
    pr.updatedMs = now;
    pr.activity.push({ kind: 'approval', dateMs: now, user });
    const approval = { date: isoMicros(now, `pr:${id}:${now}`), user: this.d.payloads.accountRef(user) };
    return mutationResult(
      await this.m.emitPullRequest(repo, 'pullrequest:approved', user, pr, { approval }),
      { id },
    );
  }

  async declinePullRequest(
    wsSlug: string,
    repoSlug: string,
    id: number,
    input: { actor?: string; reason?: string } = {},
  ): Promise<PullRequestResult> {
    const repo = this.m.repo(wsSlug, repoSlug);
    const pr = this.pr(repo, id, 'OPEN');
    const actor = this.m.actor(repo.workspace, input.actor);
    this.close(pr, 'DECLINED', actor, input.reason ?? '');
    return mutationResult(await this.m.emitPullRequest(repo, 'pullrequest:rejected', actor, pr), { id });
  }

  /**
   * Merges: a merge commit (parents: destination head, source head) unless `fast_forward` is
   * possible and asked for, or a single squash commit. The destination push is delivered with
   * `commits: []` like Bitbucket's own PR-merge pushes, then pullrequest:fulfilled.
   */
  async mergePullRequest(
    wsSlug: string,
    repoSlug: string,
    id: number,
    input: { strategy?: 'merge_commit' | 'squash' | 'fast_forward'; actor?: string; message?: string } = {},
  ): Promise<PullRequestResult> {
    const repo = this.m.repo(wsSlug, repoSlug);
    const pr = this.pr(repo, id, 'OPEN');
    const actor = this.m.actor(repo.workspace, input.actor);
    const src = repo.branches.get(pr.source.branch);
    const dst = repo.branches.get(pr.destination.branch);
    if (src === undefined || dst === undefined) throw new Error(`Branches of pull request #${id} are gone`);
    const strategy = input.strategy ?? 'merge_commit';
    const person = {
      name: actor.display_name,
      email: actor.emails[0]?.email ?? `${actor.account_id}@users.bitbucket.invalid`,
    };
    let head: number;
    if (strategy === 'fast_forward') {
      if (!repo.graph.isAncestor(dst, src)) throw new Error('Fast-forward is not possible');
      head = src;
    } else {
      const files = foldCommitFiles(repo, repo.graph.query([src], [dst])).map((f) => f.file);
      const message =
        input.message ??
        (strategy === 'squash'
          ? `${pr.title} (pull request #${id})\n`
          : `Merged in ${pr.source.branch} (pull request #${id})\n\n${pr.title}\n`);
      const parents =
        strategy === 'squash' ? [repo.graph.hashOf(dst)] : [repo.graph.hashOf(dst), repo.graph.hashOf(src)];
      head = this.m.addCommits(repo, undefined, [{ parents, author: person, message, files }])[0]!;
    }
    const old = this.m.ref(repo, 'branch', pr.destination.branch)!;
    repo.branches.set(pr.destination.branch, head);
    repo.updatedMs = this.m.nowMs();
    repo.touch();
    pr.mergeCommit = repo.graph.hashOf(head);
    pr.destination.commit = repo.graph.hashOf(dst);
    this.close(pr, 'MERGED', actor, '');
    const change = pushChange(this.d.payloads, repo, {
      old,
      new: { type: 'branch', name: pr.destination.branch, target: head },
      forced: false,
      emptyCommits: true,
    });
    const deliveries = await this.m.emitPush(repo, actor, [change]);
    deliveries.push(...(await this.m.emitPullRequest(repo, 'pullrequest:fulfilled', actor, pr)));
    if (pr.closeSourceBranch && pr.source.branch !== repo.mainbranch) {
      deliveries.push(
        ...(await this.m.deleteRef(repo, 'branch', pr.source.branch, actor.account_id)).deliveries,
      );
    }
    return mutationResult(deliveries, { id });
  }

  private close(pr: PullRequest, state: 'MERGED' | 'DECLINED', actor: Account, reason: string): void {
    const now = this.m.nowMs();
    pr.state = state;
    pr.closedBy = actor;
    pr.reason = reason;
    pr.updatedMs = now;
    pr.activity.push({
      kind: 'update',
      state,
      dateMs: now,
      author: actor,
      sourceCommit: pr.source.commit,
      destinationCommit: pr.destination.commit,
    });
  }
}
