import type { Response } from 'express';
import type { StatsFilters } from '../analytics/scope';
import type { ViewerScope } from '../connect/session-scope';
import type { RepositoryVisibility } from '../db/repository-store';
import { forbidden, unauthorized } from '../platform/errors';
import { filtersOf } from './analytics-params';

/** The scope of the request's session token (every session token has one: src/connect/auth.ts). */
export function viewerScope(res: Response): ViewerScope {
  const scope = res.locals.viewer?.scope;
  if (!scope) throw unauthorized('no viewer scope');
  return scope;
}

/**
 * Where a request's analytics filters meet the viewer's scope: requested repositories must lie inside the scope's
 * (else 403 `outside_scope`), none requested means the scope's own; a person's scope forces that person; a scope
 * without known private repositories reads public ones only (a private repository asked for then matches nothing,
 * so its existence is not confirmed). An explicit scope (a repository page, a Forge viewer's readable set) is
 * `limited`: even empty, it is never the whole workspace.
 */
export function withinScope(scope: ViewerScope, requested: StatsFilters): StatsFilters {
  let repositories = requested.repositories;
  if (scope.repositories !== null) {
    const allowed = new Set(scope.repositories);
    const outside = repositories.find((uuid) => !allowed.has(uuid));
    if (outside !== undefined) throw forbidden(`repository ${outside} is outside this page's scope`);
    if (repositories.length === 0) repositories = scope.repositories;
  }
  let contributor = requested.contributor;
  if (scope.contributor !== undefined) {
    if (contributor !== undefined && contributor.toLowerCase() !== scope.contributor.toLowerCase())
      throw forbidden("this page shows one person's contributions only");
    contributor = scope.contributor;
  }
  return {
    ...requested,
    repositories,
    contributor,
    publicOnly: scope.publicOnly === true,
    // An explicit set stays one when empty (a viewer who may read nothing reads nothing, not everything).
    limited: scope.repositories !== null,
  };
}

/** The analytics filters of a parsed query, narrowed to the request's scope. */
export const scopedFilters = (res: Response, query: Parameters<typeof filtersOf>[0]): StatsFilters =>
  withinScope(viewerScope(res), filtersOf(query));

/**
 * The pull-request routes' filters narrowed to the request's scope. A person's (profile) scope reads that person's
 * own pull requests (`author=` them) or reviews (`reviewer=` them), in public repositories; anything else there is a
 * 403. The person is not forced as a commit contributor: pull requests have authors and reviewers instead.
 */
export function pullRequestScopedFilters(
  res: Response,
  query: Parameters<typeof filtersOf>[0],
): StatsFilters {
  const scope = viewerScope(res);
  const requested = filtersOf(query);
  if (scope.contributor === undefined) return withinScope(scope, requested);
  const person = scope.contributor;
  const mine = (key: string | undefined) => key === undefined || key.toLowerCase() === person;
  if (
    (requested.author === undefined && requested.reviewer === undefined) ||
    !mine(requested.author) ||
    !mine(requested.reviewer)
  )
    throw forbidden("a person's page shows their own pull requests (author=) and reviews (reviewer=) only");
  return withinScope({ ...scope, contributor: undefined }, requested);
}

/** The repositories the request's viewer may see listed. */
export function visibleRepositories(res: Response): RepositoryVisibility {
  const scope = viewerScope(res);
  return { uuids: scope.repositories, publicOnly: scope.publicOnly === true };
}

/** How the scope treats private repositories, for pages to say so (`public_only`: shown to workspace admins). */
export const visibilityOf = (scope: ViewerScope) => (scope.publicOnly ? 'public_only' : 'all');
