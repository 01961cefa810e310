import type { Account, AccountRegistry } from './accounts.js';
import { inferStatus } from './path-spans.js';
import type { Project, Repository, Workspace } from './store.js';
import type { ExportCommit, ExportFile } from './types.js';
import { isoMicros, isoSeconds, renderParagraphs } from './util.js';

/** JSON shapes of Bitbucket API 2.0, built from the official OpenAPI document and real captures. */
export type Json = Record<string, unknown>;

export interface PayloadContext {
  apiUrl: string;
  webUrl: string;
  users: AccountRegistry;
}

export const link = (href: string): { href: string } => ({ href });

export function errorBody(message: string, detail?: string): Json {
  return { type: 'error', error: detail === undefined ? { message } : { message, detail } };
}

/** Branch names keep their slashes in Bitbucket URLs; everything else is percent-encoded. */
export function encodeRefName(name: string): string {
  return encodeURIComponent(name).replace(/%2F/g, '/');
}

/** Paths quoted the way git quotes them in a diff header when they need escaping. */
export function escapedPath(path: string): string {
  if (/^[\x20-\x7e]*$/.test(path) && !/["\\]/.test(path)) return path;
  const bytes = Buffer.from(path, 'utf8');
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x09) out += '\\t';
    else if (b < 0x20 || b > 0x7e) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

export class Payloads {
  constructor(private readonly ctx: PayloadContext) {}

  get apiUrl(): string {
    return this.ctx.apiUrl;
  }

  get webUrl(): string {
    return this.ctx.webUrl;
  }

  repoApi(repo: Repository): string {
    return `${this.ctx.apiUrl}/2.0/repositories/${repo.workspace.slug}/${repo.slug}`;
  }

  repoWeb(repo: Repository): string {
    return `${this.ctx.webUrl}/${repo.workspace.slug}/${repo.slug}`;
  }

  avatar(kind: 'user' | 'team' | 'repo' | 'project', id: string): { href: string } {
    return link(`${this.ctx.webUrl}/_sim/avatar/${kind}/${encodeURIComponent(id)}.svg`);
  }

  /** A user as embedded in commits, pull requests and activity. */
  accountRef(a: Account): Json {
    const id = encodeURIComponent(a.uuid);
    return {
      type: 'user',
      display_name: a.display_name,
      uuid: a.uuid,
      account_id: a.account_id,
      nickname: a.nickname,
      links: {
        self: link(`${this.ctx.apiUrl}/2.0/users/${id}`),
        html: link(`${this.ctx.webUrl}/${id}/`),
        avatar: this.avatar('user', a.account_id),
      },
    };
  }

  /** `GET /2.0/user` and `/2.0/users/{id}`: no username, no email (GDPR). */
  user(a: Account): Json {
    const id = encodeURIComponent(a.uuid);
    const ref = this.accountRef(a);
    return {
      ...ref,
      account_status: 'active',
      is_staff: false,
      created_on: a.created_on,
      location: null,
      links: {
        ...(ref.links as Json),
        repositories: link(`${this.ctx.apiUrl}/2.0/repositories/${id}`),
        hooks: link(`${this.ctx.apiUrl}/2.0/workspaces/${id}/hooks`),
        snippets: link(`${this.ctx.apiUrl}/2.0/snippets/${id}`),
      },
    };
  }

  team(ws: Workspace): Json {
    return {
      type: 'team',
      username: ws.slug,
      display_name: ws.name,
      uuid: ws.uuid,
      links: {
        self: link(`${this.ctx.apiUrl}/2.0/workspaces/${encodeURIComponent(ws.uuid)}`),
        html: link(`${this.ctx.webUrl}/${encodeURIComponent(ws.uuid)}/`),
        avatar: this.avatar('team', ws.slug),
      },
    };
  }

  workspace(ws: Workspace): Json {
    return {
      type: 'workspace',
      slug: ws.slug,
      name: ws.name,
      uuid: ws.uuid,
      links: {
        self: link(`${this.ctx.apiUrl}/2.0/workspaces/${ws.slug}`),
        html: link(`${this.ctx.webUrl}/${ws.slug}/`),
        avatar: this.avatar('team', ws.slug),
      },
    };
  }

  project(ws: Workspace, project: Project = ws.project): Json {
    return {
      type: 'project',
      key: project.key,
      uuid: project.uuid,
      name: project.name,
      links: {
        html: link(`${this.ctx.webUrl}/${ws.slug}/workspace/projects/${project.key}`),
        avatar: this.avatar('project', project.key),
      },
    };
  }

  /** The short repository object embedded in commits and pull requests. */
  repositoryRef(repo: Repository): Json {
    return {
      type: 'repository',
      full_name: repo.fullName,
      name: repo.name,
      uuid: repo.uuid,
      links: {
        self: link(this.repoApi(repo)),
        html: link(this.repoWeb(repo)),
        avatar: this.avatar('repo', repo.uuid),
      },
    };
  }

  /** `GET /2.0/repositories/{workspace}/{repo_slug}`. */
  repository(repo: Repository): Json {
    const api = this.repoApi(repo);
    return {
      type: 'repository',
      uuid: repo.uuid,
      full_name: repo.fullName,
      name: repo.name,
      slug: repo.slug,
      description: '',
      scm: 'git',
      is_private: repo.isPrivate,
      fork_policy: 'no_public_forks',
      language: '',
      // Bytes on disk are unknown; a stable stand-in that grows with the history.
      size: 4096 + repo.graph.size * 2048,
      created_on: isoMicros(repo.createdMs, repo.uuid),
      updated_on: isoMicros(repo.updatedMs, `${repo.uuid}:${repo.version}`),
      has_issues: false,
      has_wiki: false,
      mainbranch: { type: 'branch', name: repo.mainbranch },
      project: this.project(repo.workspace, repo.project),
      workspace: this.workspace(repo.workspace),
      owner: this.team(repo.workspace),
      links: {
        self: link(api),
        html: link(this.repoWeb(repo)),
        avatar: this.avatar('repo', repo.uuid),
        pullrequests: link(`${api}/pullrequests`),
        commits: link(`${api}/commits`),
        forks: link(`${api}/forks`),
        watchers: link(`${api}/watchers`),
        downloads: link(`${api}/downloads`),
        clone: [{ name: 'https', href: `${this.ctx.webUrl}/${repo.fullName}.git` }],
        hooks: link(`${api}/hooks`),
      },
    };
  }

  /** `author.user` only when the email belongs to an account; the email is only in `raw`. */
  author(name: string, email: string): Json {
    const out: Json = { type: 'author', raw: `${name} <${email}>` };
    const account = this.ctx.users.observe(name, email);
    if (account) out.user = this.accountRef(account);
    return out;
  }

  commitRef(repo: Repository, hash: string): Json {
    return {
      type: 'commit',
      hash,
      links: {
        self: link(`${this.repoApi(repo)}/commit/${hash}`),
        html: link(`${this.repoWeb(repo)}/commits/${hash}`),
      },
    };
  }

  /** A commit as listed by `…/commits` (and, with participants, `…/commit/{hash}`). */
  commit(repo: Repository, id: number, opts: { participants?: boolean } = {}): Json {
    const c = repo.graph.hashOf(id);
    return this.commitFrom(repo, repo.commit(id), c, opts);
  }

  commitFrom(
    repo: Repository,
    commit: ExportCommit,
    hash: string,
    opts: { participants?: boolean } = {},
  ): Json {
    const api = this.repoApi(repo);
    const out: Json = {
      type: 'commit',
      hash,
      date: isoSeconds(Date.parse(commit.date)),
      author: this.author(commit.author.name, commit.author.email),
      message: commit.message,
      // The spec's summary object allows only raw/markup/html (real responses add type "rendered").
      summary: { raw: commit.message, markup: 'markdown', html: renderParagraphs(commit.message) },
      parents: commit.parents.map((p) => this.commitRef(repo, p)),
      repository: this.repositoryRef(repo),
      links: {
        self: link(`${api}/commit/${hash}`),
        html: link(`${this.repoWeb(repo)}/commits/${hash}`),
        diff: link(`${api}/diff/${hash}`),
        patch: link(`${api}/patch/${hash}`),
        comments: link(`${api}/commit/${hash}/comments`),
        approve: link(`${api}/commit/${hash}/approve`),
        statuses: link(`${api}/commit/${hash}/statuses`),
      },
    };
    if (opts.participants) out.participants = [];
    return out;
  }

  commitFile(repo: Repository, atHash: string, path: string, binary: boolean): Json {
    const out: Json = {
      type: 'commit_file',
      path,
      escaped_path: escapedPath(path),
      links: { self: link(`${this.repoApi(repo)}/src/${atHash}/${encodeRefName(path)}`) },
    };
    // Binary files: 0/0 lines plus the spec's `binary` attribute (UNCONFIRMED that Bitbucket sets it).
    if (binary) out.attributes = 'binary';
    return out;
  }

  /** Diffstat of one commit against its first parent, from the export's per-file counts. */
  diffstat(repo: Repository, id: number, files?: ExportFile[]): Json[] {
    const commit = repo.commit(id);
    const hash = repo.graph.hashOf(id);
    const parentHash = commit.parents[0] ?? hash;
    const isRoot = commit.parents.length === 0;
    return (files ?? commit.files).map((f) =>
      this.diffstatEntry(repo, f, hash, parentHash, inferStatus(f, id, isRoot, repo.spans)),
    );
  }

  diffstatEntry(repo: Repository, f: ExportFile, newHash: string, oldHash: string, status: string): Json {
    const binary = f.added === null || f.removed === null;
    const oldPath = f.old_path ?? f.path;
    return {
      type: 'diffstat',
      status,
      lines_added: f.added ?? 0,
      lines_removed: f.removed ?? 0,
      old: status === 'added' ? null : this.commitFile(repo, oldHash, oldPath, binary),
      new: status === 'removed' ? null : this.commitFile(repo, newHash, f.path, binary),
    };
  }
}
