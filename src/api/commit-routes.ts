import express, { type Router } from 'express';
import { z } from 'zod';
import { commitList, type CommitCursor } from '../analytics/commit-list';
import { loadSettings } from '../analytics/rules';
import { addDays, resolveScope } from '../analytics/scope';
import { badRequest } from '../platform/errors';
import type { ApiDeps } from './api-router';
import {
  contributorKey,
  filterShape,
  isoDate,
  parseQuery,
  positiveInt,
  route,
  scopeEcho,
} from './analytics-params';
import { scopedFilters } from './viewer-scope';

const HASH = /^[0-9a-f]{40}$/;
const AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The opaque cursor: base64url of `[time, repository id, hash]` of a page's last commit, checked on the way in. */
const encodeCursor = (c: CommitCursor) =>
  Buffer.from(JSON.stringify([c.at, c.repositoryId, c.hash])).toString('base64url');

const cursorParam = z
  .string()
  .max(200, 'not a cursor this API gave')
  .regex(/^[A-Za-z0-9_-]+$/, 'not a cursor this API gave')
  .transform((value, ctx): CommitCursor => {
    let parts: unknown;
    try {
      parts = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    } catch {
      parts = null;
    }
    const ok = z
      .tuple([
        z.string().regex(AT),
        z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
        z.string().regex(HASH),
      ])
      .safeParse(parts);
    if (!ok.success || Number.isNaN(Date.parse(ok.data[0]))) {
      ctx.addIssue({ code: 'custom', message: 'not a cursor this API gave' });
      return z.NEVER;
    }
    return { at: ok.data[0], repositoryId: ok.data[1], hash: ok.data[2] };
  });

const commitsShape = {
  ...filterShape,
  contributor: contributorKey.optional(),
  // One bucket of a graph: a local day, a week (its Monday, as the weekly series starts them) or a month.
  day: isoDate.optional(),
  week: isoDate
    .refine((d) => new Date(`${d}T00:00:00Z`).getUTCDay() === 1, 'expected the Monday a week starts on')
    .optional(),
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month YYYY-MM')
    .refine((m) => Number(m.slice(0, 4)) >= 1000, 'expected a month YYYY-MM')
    .optional(),
  cursor: cursorParam.optional(),
  limit: positiveInt(200).default(50),
};

/** [since, until) of the bucket asked for, or undefined. */
function bucketOf(q: {
  day?: string;
  week?: string;
  month?: string;
}): { since: string; until: string } | undefined {
  const given = [q.day, q.week, q.month].filter((v) => v !== undefined).length;
  if (given > 1) throw badRequest('day: give one of day, week or month');
  if (q.day) return { since: q.day, until: addDays(q.day, 1) };
  if (q.week) return { since: q.week, until: addDays(q.week, 7) };
  if (q.month) {
    const [y, m] = q.month.split('-').map(Number) as [number, number];
    const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
    return { since: `${q.month}-01`, until: `${next}-01` };
  }
  return undefined;
}

/** Each path segment of `workspace/repository` on its own, so a name can never leave the link's path. */
const commitLink = (baseUrl: string, fullName: string, hash: string) =>
  `${baseUrl.replace(/\/+$/, '')}/${fullName.split('/').map(encodeURIComponent).join('/')}/commits/${hash}`;

/**
 * `GET /commits`: the commits behind a number, newest first, keyset-paged. The bucket (day, week, month) meets the
 * range: both apply. Links go to the tenant's Bitbucket (bitbucket.org; the simulator in development).
 */
export function commitRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.get(
    '/commits',
    route(async (req, res) => {
      const q = parseQuery(commitsShape, req.query);
      const bucket = bucketOf(q);
      const since = [q.since, bucket?.since]
        .filter((v) => v !== undefined)
        .sort()
        .at(-1);
      const until = [q.until, bucket?.until].filter((v) => v !== undefined).sort()[0];
      const tenant = res.locals.viewer!.tenant;
      const out = await deps.db.withTenant(tenant.id, async (trx) => {
        const filters = scopedFilters(res, q);
        // A bucket outside the range holds nothing of it: an empty page, not an error.
        const empty = since !== undefined && until !== undefined && since >= until;
        const scope = await resolveScope(
          trx,
          empty ? { ...filters, since: q.since, until: q.until } : { ...filters, since, until },
          deps.now(),
        );
        const list = empty
          ? { commits: [], next: null }
          : await commitList(trx, scope, q.cursor ?? null, q.limit);
        const settings = await loadSettings(trx);
        return {
          ...scopeEcho(scope),
          jira_site_url: settings.jiraSiteUrl,
          commits: list.commits.map((c) => ({
            ...c,
            link: commitLink(tenant.baseUrl, c.repository.full_name, c.hash),
          })),
          next_cursor: list.next ? encodeCursor(list.next) : null,
        };
      });
      res.json(out);
    }),
  );
  return router;
}
