import { createHash } from 'node:crypto';
import type { Account, AccountRegistry } from './accounts.js';
import { exportCommitSchema } from './history.js';
import type { Json, Payloads } from './payloads.js';
import { pullRequest } from './pr-payloads.js';
import type { Project, PullRequest, Repository, SimState, Workspace } from './store.js';
import type { Delivery, ExportCommit, MutationResult, PushCommit, PushResult } from './types.js';
import { isoSeconds, slugify } from './util.js';
import { pushChange, webhookRepository, type RefState } from './webhook-payloads.js';
import type { ForgeApps } from './forge-app.js';
import type { WebhookSender } from './webhooks.js';

export interface MutationDeps {
  state: SimState;
  users: AccountRegistry;
  payloads: Payloads;
  sender: WebhookSender;
  now: () => Date;
  /** Forge installations: the same changes also become Forge events (src/simulator/forge-app.ts). */
  forge?: ForgeApps;
}

/** Deliveries plus mutation-specific fields; `delivery` is the first one, for convenience. */
export const mutationResult = <T extends object>(deliveries: Delivery[], extra: T): MutationResult & T => {
  const out = { deliveries, ...extra } as MutationResult & T;
  if (deliveries[0]) out.delivery = deliveries[0];
  return out;
};

/**
 * Repository changes made "on bitbucket.org". Each applies the change, then delivers the
 * matching Connect webhook(s) to the installed app and resolves with the delivery records.
 * The non-private helpers are shared with PullRequestMutations (pr-mutations.ts).
 */
export class Mutations {
  private hashCounter = 0;

  constructor(private readonly d: MutationDeps) {}

  private workspace(slug: string): Workspace {
    const ws = this.d.state.findWorkspace(slug);
    if (!ws) throw new Error(`Unknown workspace ${slug}`);
    return ws;
  }

  repo(wsSlug: string, repoSlug: string): Repository {
    const ws = this.workspace(wsSlug);
    const repo = this.d.state.findRepository(ws, repoSlug);
    if (!repo) throw new Error(`Unknown repository ${wsSlug}/${repoSlug}`);
    return repo;
  }

  actor(ws: Workspace, id?: string): Account {
    if (!id) return ws.admin;
    const account = this.d.users.get(id);
    if (!account) throw new Error(`Unknown account ${id}`);
    return account;
  }

  /** The webhook for a Connect installation, and the Forge events for a Forge one (either, both or none). */
  async emit(ws: Workspace, event: string, data: Json): Promise<Delivery[]> {
    const webhooks = await this.d.sender.send(this.d.state.installations.get(ws.uuid), event, data);
    const forge = (await this.d.forge?.emit(ws, event, data)) ?? [];
    return [...webhooks, ...forge];
  }

  nowMs(): number {
    return this.d.now().getTime();
  }

  ref(repo: Repository, type: 'branch' | 'tag', name: string): RefState | null {
    const target = (type === 'branch' ? repo.branches : repo.tags).get(name);
    return target === undefined ? null : { type, name, target };
  }

  async emitPush(repo: Repository, actor: Account, changes: Json[]): Promise<Delivery[]> {
    const data = {
      actor: this.d.payloads.accountRef(actor),
      repository: webhookRepository(this.d.payloads, repo),
      push: { changes },
    };
    return this.emit(repo.workspace, 'repo:push', data);
  }

  async emitPullRequest(
    repo: Repository,
    event: string,
    actor: Account,
    pr: PullRequest,
    extra: Json = {},
  ): Promise<Delivery[]> {
    return this.emit(repo.workspace, event, {
      actor: this.d.payloads.accountRef(actor),
      repository: webhookRepository(this.d.payloads, repo),
      pullrequest: pullRequest(this.d.payloads, repo, pr, { full: true }),
      ...extra,
    });
  }

  /** Adds commits to the graph (oldest first), chaining parents when not given. */
  addCommits(repo: Repository, base: number | undefined, commits: PushCommit[]): number[] {
    const ids: number[] = [];
    let prev: string | undefined = base === undefined ? undefined : repo.graph.hashOf(base);
    for (const input of commits) {
      const date = input.date ?? isoSeconds(this.nowMs());
      const draft = {
        parents: input.parents ?? (prev ? [prev] : []),
        author: input.author,
        date,
        committer: input.committer ?? input.author,
        committed: input.committed ?? date,
        message: input.message,
        files: input.files ?? [{ path: 'CHANGELOG.md', added: 1, removed: 0 }],
      };
      const hash =
        input.hash ??
        createHash('sha1')
          .update(JSON.stringify([draft, repo.uuid, this.hashCounter++]))
          .digest('hex');
      const existing = repo.graph.idOf(hash);
      if (existing !== undefined) {
        ids.push(existing);
        prev = hash;
        continue;
      }
      for (const p of draft.parents)
        if (!repo.graph.has(p)) throw new Error(`Parent ${p} of pushed commit is not in ${repo.fullName}`);
      const parsed = exportCommitSchema.safeParse({ hash, ...draft });
      if (!parsed.success) throw new Error(`Invalid pushed commit: ${parsed.error.message}`);
      this.d.users.observe(parsed.data.author.name, parsed.data.author.email);
      ids.push(repo.addCommit(parsed.data as ExportCommit));
      prev = hash;
    }
    return ids;
  }

  /**
   * Pushes commits onto a branch (created if missing: from `from`, else the main branch head).
   * A non-fast-forward push needs `forced: true`, as git would.
   */
  async push(
    wsSlug: string,
    repoSlug: string,
    input: { branch: string; commits: PushCommit[]; forced?: boolean; from?: string; actor?: string },
  ): Promise<PushResult> {
    const repo = this.repo(wsSlug, repoSlug);
    if (input.commits.length === 0) throw new Error('push needs at least one commit');
    const old = this.ref(repo, 'branch', input.branch);
    const fromId = input.from === undefined ? undefined : repo.resolve(input.from);
    if (input.from !== undefined && fromId === undefined) throw new Error(`Unknown revision ${input.from}`);
    const base = old?.target ?? fromId ?? repo.branches.get(repo.mainbranch);
    const ids = this.addCommits(repo, base, input.commits);
    const head = ids[ids.length - 1]!;
    const forced = old !== null && !repo.graph.isAncestor(old.target, head);
    if (forced && !input.forced)
      throw new Error(`Non-fast-forward push to ${input.branch}; pass forced: true`);
    repo.branches.set(input.branch, head);
    repo.updatedMs = this.nowMs();
    repo.touch();
    const newest = repo.commit(head);
    const actor = input.actor
      ? this.actor(repo.workspace, input.actor)
      : (this.d.users.observe(newest.author.name, newest.author.email) ?? repo.workspace.admin);
    const change = pushChange(this.d.payloads, repo, {
      old,
      new: { type: 'branch', name: input.branch, target: head },
      forced,
    });
    const deliveries = await this.emitPush(repo, actor, [change]);
    deliveries.push(...(await this.updateOpenPullRequests(repo, input.branch, actor)));
    return mutationResult(deliveries, {
      commits: ids.map((id) => repo.graph.hashOf(id)),
      head: repo.graph.hashOf(head),
    });
  }

  /** Open PRs whose source branch moved get the new source commit and a pullrequest:updated. */
  private async updateOpenPullRequests(
    repo: Repository,
    branch: string,
    actor: Account,
  ): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for (const pr of repo.pullRequests.values()) {
      if (pr.state !== 'OPEN' || pr.source.branch !== branch || pr.source.forkOwner) continue;
      pr.source.commit = repo.graph.hashOf(repo.branches.get(branch)!);
      pr.updatedMs = this.nowMs();
      out.push(...(await this.emitPullRequest(repo, 'pullrequest:updated', actor, pr)));
    }
    return out;
  }

  /** Moves a branch to an existing commit (rewind or jump): `forced` when not a fast-forward. */
  async forcePush(
    wsSlug: string,
    repoSlug: string,
    input: { branch: string; to: string; actor?: string },
  ): Promise<MutationResult> {
    const repo = this.repo(wsSlug, repoSlug);
    const old = this.ref(repo, 'branch', input.branch);
    if (!old) throw new Error(`No branch ${input.branch}`);
    const target = repo.resolve(input.to);
    if (target === undefined) throw new Error(`Unknown revision ${input.to}`);
    const forced = !repo.graph.isAncestor(old.target, target);
    repo.branches.set(input.branch, target);
    repo.updatedMs = this.nowMs();
    repo.touch();
    const change = pushChange(this.d.payloads, repo, {
      old,
      new: { type: 'branch', name: input.branch, target },
      forced,
    });
    return mutationResult(await this.emitPush(repo, this.actor(repo.workspace, input.actor), [change]), {});
  }

  async createBranch(
    wsSlug: string,
    repoSlug: string,
    input: { branch: string; from: string; actor?: string },
  ): Promise<MutationResult> {
    return this.createRef(wsSlug, repoSlug, 'branch', input.branch, input.from, input.actor);
  }

  async createTag(
    wsSlug: string,
    repoSlug: string,
    input: { tag: string; target: string; actor?: string },
  ): Promise<MutationResult> {
    return this.createRef(wsSlug, repoSlug, 'tag', input.tag, input.target, input.actor);
  }

  private async createRef(
    wsSlug: string,
    repoSlug: string,
    type: 'branch' | 'tag',
    name: string,
    rev: string,
    actorId?: string,
  ): Promise<MutationResult> {
    const repo = this.repo(wsSlug, repoSlug);
    const map = type === 'branch' ? repo.branches : repo.tags;
    if (map.has(name)) throw new Error(`${type} ${name} already exists`);
    const target = repo.resolve(rev);
    if (target === undefined) throw new Error(`Unknown revision ${rev}`);
    map.set(name, target);
    repo.touch();
    const change = pushChange(this.d.payloads, repo, {
      old: null,
      new: { type, name, target },
      forced: false,
    });
    return mutationResult(await this.emitPush(repo, this.actor(repo.workspace, actorId), [change]), {});
  }

  async deleteBranch(
    wsSlug: string,
    repoSlug: string,
    input: { branch: string; actor?: string },
  ): Promise<MutationResult> {
    const repo = this.repo(wsSlug, repoSlug);
    if (input.branch === repo.mainbranch) throw new Error('The main branch cannot be deleted');
    return this.deleteRef(repo, 'branch', input.branch, input.actor);
  }

  async deleteTag(
    wsSlug: string,
    repoSlug: string,
    input: { tag: string; actor?: string },
  ): Promise<MutationResult> {
    return this.deleteRef(this.repo(wsSlug, repoSlug), 'tag', input.tag, input.actor);
  }

  async deleteRef(
    repo: Repository,
    type: 'branch' | 'tag',
    name: string,
    actorId?: string,
  ): Promise<MutationResult> {
    const old = this.ref(repo, type, name);
    if (!old) throw new Error(`No ${type} ${name}`);
    (type === 'branch' ? repo.branches : repo.tags).delete(name);
    repo.touch();
    const change = pushChange(this.d.payloads, repo, { old, new: null, forced: false });
    return mutationResult(await this.emitPush(repo, this.actor(repo.workspace, actorId), [change]), {});
  }

  /** Renames (new name, slug derived from it); repo:updated carries the changed keys. */
  async renameRepository(wsSlug: string, repoSlug: string, newName: string): Promise<MutationResult> {
    const repo = this.repo(wsSlug, repoSlug);
    const old = { name: repo.name, fullName: repo.fullName, slug: repo.slug };
    const slug = slugify(newName);
    const repos = this.d.state.repos.get(repo.workspace.uuid)!;
    if (slug !== repo.slug && repos.has(slug))
      throw new Error(`Repository ${repo.workspace.slug}/${slug} already exists`);
    repos.delete(repo.slug);
    repo.name = newName;
    repo.slug = slug;
    repos.set(slug, repo);
    repo.updatedMs = this.nowMs();
    repo.touch();
    const changes: Json = { name: { new: repo.name, old: old.name } };
    if (repo.fullName !== old.fullName) changes.full_name = { new: repo.fullName, old: old.fullName };
    const deliveries = await this.emit(repo.workspace, 'repo:updated', {
      actor: this.d.payloads.accountRef(repo.workspace.admin),
      repository: webhookRepository(this.d.payloads, repo),
      changes,
    });
    return mutationResult(deliveries, {});
  }

  /**
   * Moves a repository to another project. Bitbucket's documented repo:updated `changes` keys are the
   * repository's own fields (name, full_name, …), so none is claimed here; the payload's repository carries the
   * new project.
   */
  async moveRepository(wsSlug: string, repoSlug: string, project: Project): Promise<MutationResult> {
    const repo = this.repo(wsSlug, repoSlug);
    repo.project = project;
    repo.updatedMs = this.nowMs();
    repo.touch();
    const deliveries = await this.emit(repo.workspace, 'repo:updated', {
      actor: this.d.payloads.accountRef(repo.workspace.admin),
      repository: webhookRepository(this.d.payloads, repo),
      changes: {},
    });
    return mutationResult(deliveries, {});
  }

  async deleteRepository(wsSlug: string, repoSlug: string): Promise<MutationResult> {
    const repo = this.repo(wsSlug, repoSlug);
    const data = {
      actor: this.d.payloads.accountRef(repo.workspace.admin),
      repository: webhookRepository(this.d.payloads, repo),
    };
    this.d.state.repos.get(repo.workspace.uuid)!.delete(repo.slug);
    return mutationResult(await this.emit(repo.workspace, 'repo:deleted', data), {});
  }

  async announceCreated(repo: Repository): Promise<MutationResult> {
    const data = {
      actor: this.d.payloads.accountRef(repo.workspace.admin),
      repository: webhookRepository(this.d.payloads, repo),
    };
    return mutationResult(await this.emit(repo.workspace, 'repo:created', data), {});
  }
}
