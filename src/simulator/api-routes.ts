import express, { type Request, type Response } from 'express';
import type { AccountRegistry } from './accounts.js';
import { BbqlError, compileBbql } from './bbql.js';
import {
  ACTIVITY_PAGING,
  COMMITS_PAGING,
  decodeCursor,
  DIFFSTAT_PAGING,
  encodeCursor,
  PULLREQUESTS_PAGING,
  REPOSITORIES_PAGING,
  parsePage,
  parsePagelen,
  type PagelenRule,
} from './paging.js';
import { foldCommitFiles } from './diff-fold.js';
import { renderPatch, seriesCommits } from './patch-series.js';
import { errorBody, link, type Json, type Payloads } from './payloads.js';
import { activityEntry, pullRequest } from './pr-payloads.js';
import type { ApiCaller } from './auth.js';
import type { Installation, PullRequest, Repository, SimState, Workspace } from './store.js';
import type { ExportFile } from './types.js';

export interface RouteDeps {
  state: SimState;
  users: AccountRegistry;
  payloads: Payloads;
}

/** Set by the pipeline in api-server.ts once the JWT or user token is verified. */
export function callerOf(res: Response): ApiCaller {
  return res.locals.caller as ApiCaller;
}

/** Query params plus, for POST, form-body params (POST …/commits takes include/exclude there). */
function paramsOf(req: Request): URLSearchParams {
  const params = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
  if (req.method === 'POST' && req.body && typeof req.body === 'object') {
    for (const [k, v] of Object.entries(req.body as Record<string, unknown>)) {
      for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
    }
  }
  return params;
}

function send(res: Response, status: number, body: Json): void {
  res.status(status).json(body);
}

const notFound = (res: Response, message: string): void => send(res, 404, errorBody(message));
const badRequest = (res: Response, message: string): void => send(res, 400, errorBody(message));

/** Scopes imply their read scope; `pullrequest` also implies `repository` (Bitbucket's scope rules). */
function hasScope(inst: Installation, scope: string): boolean {
  const scopes = inst.descriptor.scopes;
  if (scopes.some((s) => s === scope || s.startsWith(`${scope}:`))) return true;
  return scope === 'repository' && hasScope(inst, 'pullrequest');
}

function requireScope(res: Response, scope: string): boolean {
  // A user token carries the Forge app's read scopes; what it may read is the user's permissions.
  const installation = callerOf(res).installation;
  if (!installation || hasScope(installation, scope)) return true;
  send(
    res,
    403,
    errorBody('Your credentials lack one or more required privilege scopes.', `Required scope: ${scope}`),
  );
  return false;
}

/** The `*` wildcard of a route (revision or diffstat spec, which may contain slashes). */
function wildcard(req: Request): string {
  return (req.params as unknown as Record<string, string | undefined>)['0'] ?? '';
}

/** The path of the current request as received (percent-encoding kept), for next links. */
function rawPath(req: Request): string {
  return req.originalUrl.split('?')[0]!;
}

function nextUrl(payloads: Payloads, req: Request, params: URLSearchParams, page: string): string {
  const next = new URLSearchParams();
  for (const [k, v] of params) if (k !== 'page') next.append(k, v);
  next.append('page', page);
  return `${payloads.apiUrl}${rawPath(req)}?${next.toString()}`;
}

function pageOf<T>(
  payloads: Payloads,
  req: Request,
  res: Response,
  params: URLSearchParams,
  rule: PagelenRule,
  items: T[],
  render: (item: T) => Json,
): void {
  const pagelen = parsePagelen(params.get('pagelen'), rule);
  if (pagelen === 'invalid') return badRequest(res, 'Invalid pagelen');
  const page = parsePage(params.get('page'));
  if (page === 'invalid') return badRequest(res, 'Invalid page');
  const start = (page - 1) * pagelen;
  const body: Json = {
    pagelen,
    size: items.length,
    values: items.slice(start, start + pagelen).map(render),
    page,
  };
  if (start + pagelen < items.length) body.next = nextUrl(payloads, req, params, String(page + 1));
  if (page > 1) body.previous = nextUrl(payloads, req, params, String(page - 1));
  send(res, 200, body);
}

/** Whether the caller may read a repository of its workspace: an app every one, a user token as its user may. */
const readable = (res: Response, repo: Repository): boolean => {
  const caller = callerOf(res);
  return caller.installation !== undefined || repo.readableBy(caller.account);
};

function permissionField(repo: Repository, permission: string, field: string): string | undefined {
  switch (field) {
    case 'permission':
      return permission;
    case 'repository.name':
      return repo.name;
    case 'repository.full_name':
      return repo.fullName;
    case 'repository.uuid':
      return repo.uuid;
    default:
      return undefined;
  }
}

export function apiRoutes(deps: RouteDeps): express.Router {
  const { state, users, payloads } = deps;
  const router = express.Router({ strict: false });

  /** Workspace the token may read; 404 unknown, 403 another tenant's (its repositories are private). */
  const workspaceFor = (req: Request, res: Response): Workspace | undefined => {
    const ws = state.findWorkspace(String(req.params.workspace));
    if (!ws) {
      notFound(res, `No workspace with identifier '${String(req.params.workspace)}'.`);
      return undefined;
    }
    if (ws.uuid !== callerOf(res).workspace.uuid) {
      send(res, 403, errorBody('Access denied. You must have read access to this workspace.'));
      return undefined;
    }
    return ws;
  };

  const repositoryFor = (req: Request, res: Response, scope = 'repository'): Repository | undefined => {
    if (!requireScope(res, scope)) return undefined;
    const ws = workspaceFor(req, res);
    if (!ws) return undefined;
    const repo = state.findRepository(ws, String(req.params.repo));
    if (!repo) notFound(res, `Repository ${ws.slug}/${String(req.params.repo)} not found`);
    else if (!readable(res, repo)) {
      // Bitbucket's exact answer to a user without access to a private repository: UNCONFIRMED (403 or 404).
      send(res, 403, errorBody('Access denied. You must have read access to this repository.'));
      return undefined;
    }
    return repo;
  };

  router.get('/2.0/user', (_req, res) => {
    if (!requireScope(res, 'account')) return;
    send(res, 200, payloads.user(callerOf(res).account));
  });

  const emailJson = (e: { email: string; is_primary: boolean; is_confirmed: boolean }): Json => ({
    type: 'email',
    email: e.email,
    is_primary: e.is_primary,
    is_confirmed: e.is_confirmed,
    links: { self: link(`${payloads.apiUrl}/2.0/user/emails/${encodeURIComponent(e.email)}`) },
  });

  router.get('/2.0/user/emails', (req, res) => {
    if (!requireScope(res, 'email')) return;
    pageOf(payloads, req, res, paramsOf(req), REPOSITORIES_PAGING, callerOf(res).account.emails, emailJson);
  });

  router.get('/2.0/user/emails/:email', (req, res) => {
    if (!requireScope(res, 'email')) return;
    const found = callerOf(res).account.emails.find(
      (e) => e.email === String(req.params.email).toLowerCase(),
    );
    if (!found) return notFound(res, 'Email address not found');
    send(res, 200, emailJson(found));
  });

  router.get('/2.0/users/:user', (req, res) => {
    if (!requireScope(res, 'account')) return;
    const account = users.get(String(req.params.user));
    if (!account) return notFound(res, `User ${String(req.params.user)} not found`);
    send(res, 200, payloads.user(account));
  });

  router.get('/2.0/repositories/:workspace', (req, res) => {
    if (!requireScope(res, 'repository')) return;
    const ws = workspaceFor(req, res);
    if (!ws) return;
    const visible = state.repositoriesOf(ws).filter((r) => readable(res, r));
    pageOf(payloads, req, res, paramsOf(req), REPOSITORIES_PAGING, visible, (r) => payloads.repository(r));
  });

  /**
   * The caller's repository permissions: one `repository_permission` per repository it has a permission in
   * (explicit, or as the workspace admin), never a public repository it merely may read (the OpenAPI
   * description). `q` filters on `permission`, `repository.name`, `repository.full_name`, `repository.uuid`;
   * `sort` on `repository.name` or `permission`.
   */
  const listPermissions = (req: Request, res: Response, workspaces: Workspace[]): void => {
    if (!requireScope(res, 'repository')) return;
    const { account } = callerOf(res);
    const params = paramsOf(req);
    let entries = workspaces.flatMap((ws) =>
      state.repositoriesOf(ws).flatMap((repo) => {
        const permission = repo.permissionOf(account);
        return permission ? [{ repo, permission }] : [];
      }),
    );
    const q = params.get('q');
    if (q) {
      try {
        const match = compileBbql(q);
        entries = entries.filter(({ repo, permission }) =>
          match((field) => permissionField(repo, permission, field)),
        );
      } catch (err) {
        if (err instanceof BbqlError) return badRequest(res, err.message);
        throw err;
      }
    }
    const sort = params.get('sort');
    if (sort) {
      const field = sort.replace(/^-/, '');
      if (field !== 'repository.name' && field !== 'permission')
        return badRequest(res, `Invalid sort field: ${field}`);
      const key = (e: (typeof entries)[number]) => String(permissionField(e.repo, e.permission, field));
      entries.sort((a, b) => key(a).localeCompare(key(b)) * (sort.startsWith('-') ? -1 : 1));
    }
    pageOf(payloads, req, res, params, REPOSITORIES_PAGING, entries, ({ repo, permission }) => ({
      type: 'repository_permission',
      user: payloads.accountRef(account),
      repository: payloads.repositoryRef(repo),
      permission,
    }));
  };

  router.get('/2.0/user/workspaces/:workspace/permissions/repositories', (req, res) => {
    const ws = workspaceFor(req, res);
    if (ws) listPermissions(req, res, [ws]);
  });

  // Deprecated in the OpenAPI document in favour of the workspace-scoped one; the caller's workspace only.
  router.get('/2.0/user/permissions/repositories', (req, res) =>
    listPermissions(req, res, [callerOf(res).workspace]),
  );

  router.get('/2.0/repositories/:workspace/:repo', (req, res) => {
    const repo = repositoryFor(req, res);
    if (repo) send(res, 200, payloads.repository(repo));
  });

  const listCommits = (req: Request, res: Response): void => {
    const repo = repositoryFor(req, res);
    if (!repo) return;
    const params = paramsOf(req);
    const revision = wildcard(req) || undefined;
    const include = params.getAll('include');
    const exclude = params.getAll('exclude');
    const paths = params.getAll('path');
    const resolveAll = (revs: string[]): number[] | string => {
      const ids: number[] = [];
      for (const rev of revs) {
        const id = repo.resolve(rev);
        if (id === undefined) return rev;
        ids.push(id);
      }
      return ids;
    };
    const inc = resolveAll(revision ? [revision, ...include] : include);
    const exc = resolveAll(exclude);
    if (typeof inc === 'string' || typeof exc === 'string') {
      return notFound(res, `Commit not found: ${typeof inc === 'string' ? inc : exc}`);
    }
    const pagelen = parsePagelen(params.get('pagelen'), COMMITS_PAGING);
    if (pagelen === 'invalid') return badRequest(res, 'Invalid pagelen');
    // No include and no revision means every branch and tag, like `git log --all`.
    const starts = inc.length > 0 ? inc : repo.refTips();
    const key = JSON.stringify([starts, [...exc].sort(), [...paths].sort()]);
    const order = repo.cached(key, () => {
      const all = repo.graph.query(starts, exc);
      return paths.length === 0 ? all : all.filter((id) => touchesPath(repo.commit(id).files, paths));
    });
    const offset = decodeCursor(
      params.get('page'),
      pagelen,
      (o) => (o < order.length ? repo.graph.hashOf(order[o]!) : undefined),
      (prefix) => order.findIndex((id) => repo.graph.hashOf(id).startsWith(prefix)),
    );
    if (offset === 'invalid') return badRequest(res, 'Invalid page');
    const slice = order.subarray(offset, offset + pagelen);
    const body: Json = { pagelen, values: Array.from(slice, (id) => payloads.commit(repo, id)) };
    const nextOffset = offset + pagelen;
    if (nextOffset < order.length) {
      body.next = nextUrl(
        payloads,
        req,
        params,
        encodeCursor(nextOffset, repo.graph.hashOf(order[nextOffset]!)),
      );
    }
    send(res, 200, body);
  };
  for (const path of [
    '/2.0/repositories/:workspace/:repo/commits',
    '/2.0/repositories/:workspace/:repo/commits/*',
  ]) {
    router.get(path, listCommits);
    router.post(path, listCommits);
  }

  router.get('/2.0/repositories/:workspace/:repo/commit/:commit', (req, res) => {
    const repo = repositoryFor(req, res);
    if (!repo) return;
    const id = repo.resolve(String(req.params.commit));
    if (id === undefined) return notFound(res, `Commit not found: ${String(req.params.commit)}`);
    send(res, 200, payloads.commit(repo, id, { participants: true }));
  });

  router.get('/2.0/repositories/:workspace/:repo/diffstat/*', (req, res) => {
    const repo = repositoryFor(req, res);
    if (!repo) return;
    const params = paramsOf(req);
    const spec = wildcard(req);
    const paths = params.getAll('path');
    let entries: Json[];
    const range = /^(.+?)\.\.(.+)$/.exec(spec);
    if (range) {
      const source = repo.resolve(range[1]!);
      const destination = repo.resolve(range[2]!);
      if (source === undefined || destination === undefined)
        return notFound(res, `Commit not found: ${spec}`);
      entries = rangeDiffstat(payloads, repo, source, destination);
    } else {
      const id = repo.resolve(spec);
      if (id === undefined) return notFound(res, `Commit not found: ${spec}`);
      entries = payloads.diffstat(repo, id);
    }
    if (paths.length > 0) {
      entries = entries.filter((e) => {
        const p = ((e.new ?? e.old) as { path: string }).path;
        return touchesPath([{ path: p, added: 0, removed: 0 }], paths);
      });
    }
    pageOf(payloads, req, res, params, DIFFSTAT_PAGING, entries, (e) => e);
  });

  // A patch (one commit) or a patch series (`A..B`: A's commits that B lacks), text/plain, streamed as it is made.
  router.get('/2.0/repositories/:workspace/:repo/patch/*', async (req, res) => {
    const repo = repositoryFor(req, res);
    if (!repo) return;
    const spec = wildcard(req);
    const range = /^(.+?)\.\.(.+)$/.exec(spec);
    let ids: number[];
    if (range) {
      const source = repo.resolve(range[1]!);
      const destination = repo.resolve(range[2]!);
      if (source === undefined || destination === undefined)
        return notFound(res, `Commit not found: ${spec}`);
      ids = seriesCommits(repo, source, destination);
    } else {
      const id = repo.resolve(spec);
      if (id === undefined) return notFound(res, `Commit not found: ${spec}`);
      ids = [id];
    }
    res.status(200).type('text/plain');
    for (let k = 0; k < ids.length; k++) {
      if (res.destroyed) return;
      const more = res.write(renderPatch(repo, ids[k]!, range ? { n: k + 1, of: ids.length } : undefined));
      if (!more) await drained(res);
    }
    res.end();
  });

  const prFor = (req: Request, res: Response): [Repository, PullRequest] | undefined => {
    const repo = repositoryFor(req, res, 'pullrequest');
    if (!repo) return undefined;
    const pr = repo.pullRequests.get(Number(req.params.id));
    if (!pr || !/^\d+$/.test(String(req.params.id))) {
      notFound(res, 'Pull request not found');
      return undefined;
    }
    return [repo, pr];
  };

  router.get('/2.0/repositories/:workspace/:repo/pullrequests', (req, res) => {
    const repo = repositoryFor(req, res, 'pullrequest');
    if (!repo) return;
    const params = paramsOf(req);
    const states = params.getAll('state').map((s) => s.toUpperCase());
    const allowed = ['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED'];
    const bad = states.find((s) => !allowed.includes(s));
    if (bad) return badRequest(res, `Invalid state: ${bad}`);
    const wanted = new Set(states.length > 0 ? states : ['OPEN']);
    let list = [...repo.pullRequests.values()].filter((pr) => wanted.has(pr.state));
    const q = params.get('q');
    if (q) {
      try {
        const match = compileBbql(q);
        list = list.filter((pr) => match((field) => prField(pr, field)));
      } catch (err) {
        if (err instanceof BbqlError) return badRequest(res, err.message);
        throw err;
      }
    }
    const sort = params.get('sort') ?? '-id'; // default order UNCONFIRMED; newest first
    const desc = sort.startsWith('-');
    const field = sort.replace(/^-/, '');
    if (!['id', 'created_on', 'updated_on'].includes(field))
      return badRequest(res, `Invalid sort field: ${field}`);
    const keyOf = (pr: PullRequest): number =>
      field === 'id' ? pr.id : field === 'created_on' ? pr.createdMs : pr.updatedMs;
    list.sort((a, b) => (desc ? keyOf(b) - keyOf(a) : keyOf(a) - keyOf(b)) || b.id - a.id);
    pageOf(payloads, req, res, params, PULLREQUESTS_PAGING, list, (pr) =>
      pullRequest(payloads, repo, pr, { full: false }),
    );
  });

  router.get('/2.0/repositories/:workspace/:repo/pullrequests/:id', (req, res) => {
    const found = prFor(req, res);
    if (found) send(res, 200, pullRequest(payloads, found[0], found[1], { full: true }));
  });

  router.get('/2.0/repositories/:workspace/:repo/pullrequests/:id/activity', (req, res) => {
    const found = prFor(req, res);
    if (!found) return;
    const [repo, pr] = found;
    const newestFirst = [...pr.activity].reverse();
    pageOf(payloads, req, res, paramsOf(req), ACTIVITY_PAGING, newestFirst, (e) =>
      activityEntry(payloads, repo, pr, e),
    );
  });

  router.all('*', (req, res) => {
    if (req.method !== 'GET') return send(res, 405, errorBody(`Method ${req.method} not allowed`));
    notFound(res, 'Resource not found');
  });
  return router;
}

/** Until a response written past its buffer drains, or its client is gone (both listeners removed either way). */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function touchesPath(files: ExportFile[], paths: string[]): boolean {
  return files.some((f) =>
    paths.some((p) => {
      const dir = p.endsWith('/') ? p : `${p}/`;
      return [f.path, f.old_path].some((fp) => fp !== undefined && (fp === p || fp.startsWith(dir)));
    }),
  );
}

function prField(pr: PullRequest, field: string): string | number | boolean | null | undefined {
  switch (field) {
    case 'id':
      return pr.id;
    case 'state':
      return pr.state;
    case 'title':
      return pr.title;
    case 'created_on':
      return new Date(pr.createdMs).toISOString();
    case 'updated_on':
      return new Date(pr.updatedMs).toISOString();
    case 'author.uuid':
      return pr.author.uuid;
    case 'author.account_id':
      return pr.author.account_id;
    case 'source.branch.name':
      return pr.source.branch;
    case 'destination.branch.name':
      return pr.destination.branch;
    case 'draft':
      return pr.draft;
    default:
      return undefined;
  }
}

/** `A..B` diffstat: A is the source ("new"), B the destination, opposite to `git diff`. */
function rangeDiffstat(payloads: Payloads, repo: Repository, source: number, destination: number): Json[] {
  const newHash = repo.graph.hashOf(source);
  const oldHash = repo.graph.hashOf(destination);
  return foldCommitFiles(repo, repo.graph.query([source], [destination])).map(({ file, status }) =>
    payloads.diffstatEntry(repo, file, newHash, oldHash, status),
  );
}
