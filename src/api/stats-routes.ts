import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { contributorTotals, repositoryTotals, type ContributorTotals } from '../analytics/contributors';
import { csvTable } from '../analytics/csv';
import { addDays, resolveScope, type RangeDefaults, type Scope } from '../analytics/scope';
import { activitySeries, calendarDays, punchCard } from '../analytics/series';
import type { Trx } from '../db/database';
import { badRequest } from '../platform/errors';
import type { ApiDeps } from './api-router';
import { scopedFilters } from './viewer-scope';
import {
  contributorKey,
  filterShape,
  intervalParam,
  parseQuery,
  positiveInt,
  route,
  scopeEcho,
} from './analytics-params';

const CONTRIBUTOR_COLUMNS: (keyof ContributorTotals & string)[] = [
  'key',
  'account_id',
  'display_name',
  'emails',
  'commits',
  'lines_added',
  'lines_removed',
  'first_commit',
  'last_commit',
];

const PUNCH_CARD_NOTE =
  'Bitbucket gives commit times in UTC, so an author’s own time zone is not known: hours are shown in the selected time zone.';

const PERIOD_DAYS = { week: 7, month: 30, quarter: 91, year: 365 } as const;

/** The profile calendar: a year ending today unless asked otherwise, never more than 366 days. */
const calendarRange: RangeDefaults = (today, given) => {
  if (given.since && given.until) return given;
  if (given.since) return { since: given.since, until: addDays(given.since, 365) };
  const until = given.until ?? addDays(today, 1);
  return { since: addDays(until, -365), until };
};

/** `GET /stats/…`: contributors, activity series, punch card, calendar and leaderboards (docs/analytics.md). */
export function statsRouter(deps: ApiDeps): Router {
  const router = express.Router();
  const inTenant = <T>(res: Response, fn: (trx: Trx) => Promise<T>) =>
    deps.db.withTenant(res.locals.viewer!.tenant.id, fn);

  router.get(
    '/stats/contributors',
    route(async (req, res) => {
      const q = parseQuery({ ...filterShape, format: z.enum(['json', 'csv']).default('json') }, req.query);
      const { scope, contributors } = await inTenant(res, async (trx) => {
        const scope = await resolveScope(trx, scopedFilters(res, q), deps.now());
        return { scope, contributors: await contributorTotals(trx, scope) };
      });
      if (q.format === 'json') return void res.json({ ...scopeEcho(scope), contributors });
      const table = csvTable<ContributorTotals>(CONTRIBUTOR_COLUMNS);
      res.attachment('contributors.csv').type('text/csv; charset=utf-8');
      // Written as the client reads (pipeline waits for drain), not all into the socket's buffer at once.
      await pipeline(
        Readable.from(
          (function* () {
            yield table.header;
            for (const c of contributors) yield table.row(c);
          })(),
        ),
        res,
      );
    }),
  );

  router.get(
    '/stats/activity',
    route(async (req, res) => {
      const q = parseQuery(
        { ...filterShape, interval: intervalParam, contributor: contributorKey.optional() },
        req.query,
      );
      const out = await inTenant(res, async (trx) => {
        const scope = await resolveScope(trx, scopedFilters(res, q), deps.now());
        return {
          ...scopeEcho(scope),
          interval: q.interval,
          series: await activitySeries(trx, scope, q.interval),
        };
      });
      res.json(out);
    }),
  );

  router.get(
    '/stats/punchcard',
    route(async (req, res) => {
      const q = parseQuery({ ...filterShape, contributor: contributorKey.optional() }, req.query);
      const out = await inTenant(res, async (trx) => {
        const scope = await resolveScope(trx, scopedFilters(res, q), deps.now());
        const counts = await punchCard(trx, scope);
        return {
          ...scopeEcho(scope),
          note: PUNCH_CARD_NOTE,
          counts,
          cells: counts.flatMap((hours, weekday) =>
            hours.map((commits, hour) => ({ weekday, hour, commits })),
          ),
        };
      });
      res.json(out);
    }),
  );

  router.get(
    '/stats/calendar',
    route(async (req, res) => {
      const q = parseQuery({ ...filterShape, contributor: contributorKey.optional() }, req.query);
      const out = await inTenant(res, async (trx) => {
        const scope = await resolveScope(trx, scopedFilters(res, q), deps.now(), calendarRange);
        if (daysBetween(scope) > 366) throw badRequest('until: the calendar covers at most 366 days');
        const days = await calendarDays(trx, scope);
        return { ...scopeEcho(scope), total: days.reduce((sum, d) => sum + d.commits, 0), days };
      });
      res.json(out);
    }),
  );

  router.get(
    '/stats/top',
    route(async (req, res) => {
      const q = parseQuery(
        {
          ...filterShape,
          by: z.enum(['commits', 'lines']).default('commits'),
          period: z.enum(['week', 'month', 'quarter', 'year', 'all']).optional(),
          limit: positiveInt(100).default(10),
        },
        req.query,
      );
      if (q.period !== undefined && (q.since !== undefined || q.until !== undefined))
        throw badRequest('period: give either period or since/until, not both');
      const period = q.period;
      const lastDays: RangeDefaults | undefined =
        period === undefined || period === 'all'
          ? undefined
          : (today) => ({ since: addDays(today, 1 - PERIOD_DAYS[period]), until: addDays(today, 1) });
      const out = await inTenant(res, async (trx) => {
        const scope = await resolveScope(trx, scopedFilters(res, q), deps.now(), lastDays);
        const options = { by: q.by, limit: q.limit };
        return {
          ...scopeEcho(scope),
          by: q.by,
          period: period ?? null,
          people: (await contributorTotals(trx, scope, options)).map(
            ({ key, account_id, display_name, commits, lines_added, lines_removed }) => ({
              key,
              account_id,
              display_name,
              commits,
              lines_added,
              lines_removed,
            }),
          ),
          repositories: await repositoryTotals(trx, scope, options),
        };
      });
      res.json(out);
    }),
  );

  return router;
}

const daysBetween = (scope: Scope) =>
  scope.since === null || scope.until === null
    ? Infinity
    : (Date.parse(scope.until) - Date.parse(scope.since)) / 86_400_000;
