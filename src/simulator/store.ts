import type { Account } from './accounts.js';
import { CommitGraph } from './commit-graph.js';
import type { Descriptor } from './descriptor.js';
import { recordToCommit, type LoadedHistory } from './history.js';
import { trackSpans, type PathSpan } from './path-spans.js';
import type { ExportCommit } from './types.js';

export interface Workspace {
  /** Braced `{…}`. */
  uuid: string;
  slug: string;
  name: string;
  createdMs: number;
  /** The workspace admin: installs apps, is `/2.0/user` for the app, default host-page viewer. */
  admin: Account;
  /** The workspace's first project, where repositories go unless seeded into another. */
  project: Project;
}

export interface Project {
  /** Braced `{…}`. */
  uuid: string;
  key: string;
  name: string;
}

export type PullRequestState = 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED';

export interface Participant {
  user: Account;
  role: 'PARTICIPANT' | 'REVIEWER';
  approved: boolean;
  state: 'approved' | 'changes_requested' | null;
  participatedMs: number;
}

export type ActivityEntry =
  | {
      kind: 'update';
      state: PullRequestState;
      dateMs: number;
      author: Account;
      sourceCommit: string;
      destinationCommit: string;
    }
  | { kind: 'approval'; dateMs: number; user: Account }
  | { kind: 'comment'; id: number; dateMs: number; user: Account; text: string };

export interface PullRequest {
  id: number;
  title: string;
  description: string;
  state: PullRequestState;
  draft: boolean;
  author: Account;
  source: { branch: string; commit: string; forkOwner?: string };
  destination: { branch: string; commit: string };
  mergeCommit?: string;
  closedBy?: Account;
  reason: string;
  createdMs: number;
  updatedMs: number;
  commentCount: number;
  taskCount: number;
  closeSourceBranch: boolean;
  reviewers: Account[];
  participants: Participant[];
  /** Oldest first; the API lists it newest first. */
  activity: ActivityEntry[];
}

export type RepositoryPermission = 'read' | 'write' | 'admin';

/** One repository: its commit DAG, refs and pull requests. */
export class Repository {
  readonly graph = new CommitGraph();
  /** Indexed by graph node id: raw export line or commit object. */
  private records: (string | ExportCommit)[] = [];
  readonly spans: Map<string, PathSpan>;
  readonly branches = new Map<string, number>();
  readonly tags = new Map<string, number>();
  readonly pullRequests = new Map<number, PullRequest>();
  /** Bumped on every ref or graph change: part of every cached query key. */
  version = 0;
  /** Bitbucket's `is_private`; repositories are private unless seeded as public. */
  isPrivate = true;
  /** Bitbucket's `project`: every repository of a workspace belongs to one. */
  project: Project;
  /**
   * Explicit repository permissions by account uuid (OpenAPI `repository_permission`: read, write, admin). The
   * workspace admin has admin on every repository without an entry; anyone reads a public repository.
   */
  readonly permissions = new Map<string, RepositoryPermission>();
  private readonly queryCache = new Map<string, Int32Array>();

  constructor(
    public workspace: Workspace,
    public uuid: string,
    public slug: string,
    public name: string,
    public mainbranch: string,
    public readonly createdMs: number,
    public updatedMs: number,
    history?: LoadedHistory,
  ) {
    this.project = workspace.project;
    this.spans = history?.spans ?? new Map();
    if (!history) return;
    this.graph.addAll(history.meta);
    this.records = history.records; // no spread: a million arguments would overflow the stack
    for (const [name, hash] of Object.entries(history.refs.branches)) this.setRef(this.branches, name, hash);
    for (const [name, hash] of Object.entries(history.refs.tags ?? {})) this.setRef(this.tags, name, hash);
  }

  get fullName(): string {
    return `${this.workspace.slug}/${this.slug}`;
  }

  commit(id: number): ExportCommit {
    return recordToCommit(this.records[id]!);
  }

  /** Cheap pre-filter for scans: does the commit's raw record mention any needle? */
  recordMentions(id: number, needles: string[]): boolean {
    const r = this.records[id]!;
    const text = typeof r === 'string' ? r : r.message;
    return needles.some((n) => text.includes(n));
  }

  /** Adds a commit whose parents already exist (pushes). */
  addCommit(commit: ExportCommit): number {
    const id = this.graph.append(commit.hash, commit.parents, Date.parse(commit.committed ?? commit.date));
    this.records.push(commit);
    trackSpans(this.spans, id, this.graph.timeOf(id), commit.files);
    this.touch();
    return id;
  }

  /** Branch, tag, full hash or unique short hash → node id. */
  resolve(rev: string): number | undefined {
    return this.branches.get(rev) ?? this.tags.get(rev) ?? this.graph.resolvePrefix(rev);
  }

  refTips(): number[] {
    return [...this.branches.values(), ...this.tags.values()];
  }

  /** Cached result for a query key; the key includes the version, so mutations invalidate it. */
  cached(key: string, compute: () => Int32Array): Int32Array {
    const fullKey = `${this.version}\u0000${key}`;
    const hit = this.queryCache.get(fullKey);
    if (hit) {
      // Refresh the LRU position.
      this.queryCache.delete(fullKey);
      this.queryCache.set(fullKey, hit);
      return hit;
    }
    const result = compute();
    this.queryCache.set(fullKey, result);
    if (this.queryCache.size > 16) this.queryCache.delete(this.queryCache.keys().next().value!);
    return result;
  }

  touch(): void {
    this.version++;
  }

  /** An account's effective permission (the highest it has), or null: explicit, else admin for the workspace admin. */
  permissionOf(account: Account): RepositoryPermission | null {
    return (
      this.permissions.get(account.uuid) ?? (account.uuid === this.workspace.admin.uuid ? 'admin' : null)
    );
  }

  /** Whether an account may read it: public, or a permission of its own. */
  readableBy(account: Account): boolean {
    return !this.isPrivate || this.permissionOf(account) !== null;
  }

  private setRef(map: Map<string, number>, name: string, hash: string): void {
    const id = this.graph.idOf(hash);
    if (id === undefined) throw new Error(`Ref ${name} points at unknown commit ${hash}`);
    map.set(name, id);
  }
}

export interface Installation {
  workspace: Workspace;
  clientKey: string;
  sharedSecret: string;
  descriptor: Descriptor;
  /** The app's baseUrl from its descriptor (lifecycle and webhook URLs are relative to it). */
  baseUrl: string;
  active: boolean;
  /** X-Hook-UUID per descriptor webhooks[] entry, stable for the installation. */
  hookUuids: string[];
}

/**
 * A user token (as Forge's `x-forge-oauth-user` carries): it acts as one account, with that account's permissions,
 * in the workspace of the installation it was issued for.
 */
export interface UserToken {
  account: Account;
  workspace: Workspace;
  expiresMs: number;
}

/** Everything bitbucket.org knows: workspaces, repositories, installations. */
export class SimState {
  readonly workspaces = new Map<string, Workspace>();
  /** workspace uuid → repository slug → repository */
  readonly repos = new Map<string, Map<string, Repository>>();
  /** workspace uuid → installation (kept after uninstall: its secret signs the next install). */
  readonly installations = new Map<string, Installation>();
  /** Opaque bearer token → the user it acts as. */
  readonly userTokens = new Map<string, UserToken>();

  /** By slug or `{uuid}` (braces optional, case-insensitive), as Bitbucket paths accept. */
  findWorkspace(id: string): Workspace | undefined {
    const bySlug = this.workspaces.get(id);
    if (bySlug) return bySlug;
    const uuid = `{${id.replace(/^\{|\}$/g, '').toLowerCase()}}`;
    for (const ws of this.workspaces.values()) if (ws.uuid === uuid) return ws;
    return undefined;
  }

  findRepository(ws: Workspace, id: string): Repository | undefined {
    const repos = this.repos.get(ws.uuid);
    if (!repos) return undefined;
    const bySlug = repos.get(id);
    if (bySlug) return bySlug;
    const uuid = `{${id.replace(/^\{|\}$/g, '').toLowerCase()}}`;
    for (const repo of repos.values()) if (repo.uuid === uuid) return repo;
    return undefined;
  }

  repositoriesOf(ws: Workspace): Repository[] {
    return [...(this.repos.get(ws.uuid)?.values() ?? [])];
  }

  installationByClientKey(clientKey: string): Installation | undefined {
    for (const inst of this.installations.values()) if (inst.clientKey === clientKey) return inst;
    return undefined;
  }
}
