import type { RequestHandler } from 'express';
import { errorBody } from '../platform/error-codes';
import { viewerScope } from './viewer-scope';

/**
 * Who may call each API route (SECURITY.md, "Who sees what"), keyed `METHOD /path` as in docs/openapi.json:
 * - `public`: no token (the API's own description);
 * - `session`: any session token (who am I);
 * - `scoped`: any session token, the answer narrowed to its scope (src/api/viewer-scope.ts);
 * - `scoped-repositories`: the same, but refused to a person's (profile) scope (the pull-request export);
 * - `admin-page`: the admin pages only (workspace analytics and configure; Bitbucket shows them to workspace
 *   admins only), else 403 `outside_scope`;
 * - `configure`: changes, from the configure page only, else 403 `admin_only`.
 * An API token (src/connect/api-token-auth.ts) reads with the workspace scope; both admin levels are 403
 * `admin_only` to it.
 * A route without an entry answers 404 to everyone: a new route is unreachable until someone decides.
 */
export type Access = 'public' | 'session' | 'scoped' | 'scoped-repositories' | 'admin-page' | 'configure';

export const ROUTE_ACCESS: Record<string, Access> = {
  'GET /openapi.json': 'public',
  'GET /me': 'session',
  'GET /repositories': 'scoped',
  'GET /stats/contributors': 'scoped',
  'GET /stats/activity': 'scoped',
  'GET /stats/punchcard': 'scoped',
  'GET /stats/calendar': 'scoped',
  'GET /stats/top': 'scoped',
  'GET /export/commits': 'scoped',
  // The commits behind a number: a repository page's token its repository's, a profile's that person's public ones.
  'GET /commits': 'scoped',
  // A person's page may read their own pull requests and reviews (author=/reviewer= them; pull-request-routes.ts).
  'GET /pull-requests/stats': 'scoped',
  'GET /export/pull-requests': 'scoped-repositories',
  'GET /audit': 'admin-page',
  'GET /support/consent': 'admin-page',
  'GET /settings': 'admin-page',
  'GET /settings/repositories/{uuid}': 'admin-page',
  // Every person of the workspace with their emails: not for a repository's or a person's page.
  'GET /identities': 'admin-page',
  'POST /data/delete': 'configure',
  'POST /support/consent': 'configure',
  'DELETE /support/consent': 'configure',
  'PUT /settings': 'configure',
  'PUT /settings/repositories/{uuid}': 'configure',
  'POST /identities/merge': 'configure',
  'DELETE /identities/merge/{key}': 'configure',
  'GET /tokens': 'admin-page',
  'POST /tokens': 'configure',
  'DELETE /tokens/{id}': 'configure',
  // Members are contributor keys, emails among them: read on the admin pages (like /identities), changed on configure.
  'GET /teams': 'admin-page',
  'POST /teams': 'configure',
  'PUT /teams/{id}': 'configure',
  'DELETE /teams/{id}': 'configure',
};

/** `METHOD /path/{param}` → a matcher of request paths as Express routes them (case-insensitive, optional `/`). */
function compile(table: Record<string, Access>) {
  return Object.entries(table).map(([key, access]) => {
    const [method, path] = key.split(' ') as [string, string];
    const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+');
    return { method, pattern: new RegExp(`^${pattern}/?$`, 'i'), access };
  });
}

/** The access decision of a request to the API router, or undefined when its route has none. */
function accessOf(table: ReturnType<typeof compile>, method: string, path: string): Access | undefined {
  const wanted = method === 'HEAD' ? 'GET' : method;
  return table.find((entry) => entry.method === wanted && entry.pattern.test(path))?.access;
}

/** Enforces ROUTE_ACCESS after authentication; the route's own handler then narrows `scoped` answers. */
export function routeAccess(table: Record<string, Access> = ROUTE_ACCESS): RequestHandler {
  const compiled = compile(table);
  return (req, res, next) => {
    const access = accessOf(compiled, req.method, req.path);
    if (access === undefined) return void res.status(404).json(errorBody('not_found', 'not found'));
    const scope = viewerScope(res);
    if (res.locals.viewer?.apiToken && (access === 'admin-page' || access === 'configure'))
      return void res
        .status(403)
        .json(errorBody('admin_only', 'API tokens read analytics; admin routes are for the configure page'));
    if (access === 'scoped-repositories' && scope.kind === 'profile')
      return void res
        .status(403)
        .json(errorBody('outside_scope', "pull requests are not part of a person's contributions page"));
    if (access === 'admin-page' && !scope.admin)
      return void res
        .status(403)
        .json(errorBody('outside_scope', 'only the admin pages (workspace analytics, configure) show this'));
    if (access === 'configure' && !(scope.admin && res.locals.viewer?.page === 'configure'))
      return void res
        .status(403)
        .json(errorBody('admin_only', 'only workspace admins, on the configure page, may do this'));
    next();
  };
}
