import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Scope, StatsFilters } from '../analytics/scope';
import { badRequest } from '../platform/errors';
import { validate } from '../platform/validation';

/**
 * Query-string parameters shared by the analytics endpoints (docs/openapi.json), validated with zod.
 * Unknown parameters are refused, so a typo is a 400 rather than a silently ignored filter.
 */

const UUID =
  /^(\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** A Bitbucket uuid, braces optional, normalised to braced lower case. */
const bracedUuid = (what: string) =>
  z
    .string()
    .regex(UUID, `expected a ${what} uuid`)
    .transform((v) => `{${v.replace(/[{}]/g, '').toLowerCase()}}`);

export const repositoryUuid = bracedUuid('repository');
export const projectUuid = bracedUuid('project');

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine((v) => {
    const [y, m, d] = v.split('-').map(Number) as [number, number, number];
    const date = new Date(Date.UTC(y, m - 1, d));
    return (
      y >= 1000 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
    );
  }, 'not a calendar date');

/** A contributor key (`a:<account id>`, `e:<email>`) or a Bitbucket user uuid. */
export const contributorKey = z
  .string()
  .max(400, 'contributor key too long')
  .regex(
    /^(a:[\x21-\x7e]+|e:[^\x00-\x1f\x7f]+|\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\})$/i,
    'expected a contributor key (a:…, e:…) or a user uuid {…}',
  );

/** A team's id (GET /teams). */
export const teamId = z
  .string()
  .regex(/^\d{1,15}$/, 'expected a team id')
  .transform(Number);

export const positiveInt = (max: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(max, `must be at most ${max}`));

export const filterShape = {
  repository: z
    .union([
      repositoryUuid.transform((v) => [v]),
      z.array(repositoryUuid).max(200, 'at most 200 repositories'),
    ])
    .default([]),
  // Bitbucket projects: their repositories, intersected with the repositories asked for and the viewer's scope.
  project: z
    .union([projectUuid.transform((v) => [v]), z.array(projectUuid).max(100, 'at most 100 projects')])
    .default([]),
  team: teamId.optional(),
  since: isoDate.optional(),
  until: isoDate.optional(),
  merges: z.enum(['exclude', 'include', 'only']).default('exclude'),
  bots: z.enum(['exclude', 'include']).default('exclude'),
  exclusions: z.enum(['apply', 'ignore']).default('apply'),
  tz: z
    .string()
    .max(64, 'time zone name too long')
    .regex(/^[A-Za-z][A-Za-z0-9_+\-/]*$/, 'expected an IANA time zone name')
    .optional(),
};

export const intervalParam = z.enum(['day', 'week', 'month']).default('week');

/**
 * Parses the query with the given shape (strict), 400 with `param: reason` on the first problem;
 * also checks since < until.
 */
export function parseQuery<S extends z.ZodRawShape>(shape: S, query: unknown): z.infer<z.ZodObject<S>> {
  const parsed = validate(z.strictObject(shape), query, 'query');
  const data = parsed as { since?: string; until?: string };
  if (data.since !== undefined && data.until !== undefined && data.since >= data.until)
    throw badRequest('until: must be after since');
  return parsed;
}

/** The analytics filters out of parsed common parameters. */
export function filtersOf(q: {
  repository: string[];
  project?: string[];
  since?: string;
  until?: string;
  merges: StatsFilters['merges'];
  bots: StatsFilters['bots'];
  exclusions: StatsFilters['exclusions'];
  tz?: string;
  contributor?: string;
  team?: number;
  author?: string;
  reviewer?: string;
}): StatsFilters {
  return {
    repositories: q.repository,
    projects: q.project ?? [],
    since: q.since,
    until: q.until,
    merges: q.merges,
    bots: q.bots,
    exclusions: q.exclusions,
    tz: q.tz,
    contributor: q.contributor,
    team: q.team,
    author: q.author,
    reviewer: q.reviewer,
  };
}

/** `author=` and `reviewer=` of the pull-request routes: a contributor key or a Bitbucket user uuid. */
export const pullRequestPeopleShape = {
  author: contributorKey.optional(),
  reviewer: contributorKey.optional(),
};

/** An async route handler whose rejections reach the error handler (Express 4 does not await handlers). */
export const route =
  (handler: (req: Request, res: Response) => Promise<void>): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };

/** The scope echoed in JSON answers, so a chart can label what it shows, with how current it is. */
export function scopeEcho(scope: Scope) {
  return {
    timezone: scope.timezone,
    since: scope.since,
    until: scope.until,
    merges: scope.merges,
    bots: scope.bots,
    exclusions: scope.exclusions,
    ...scope.freshness,
  };
}
