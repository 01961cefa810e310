import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { noControlText, validate } from '../platform/validation';
import { listIdentities, mergeIdentities, unmergeIdentity } from '../analytics/identities';
import { enqueueRollupRebuild, rebuildPending } from '../analytics/rollup-rebuild';
import {
  DEFAULT_BOT_PATTERNS,
  DEFAULT_PATH_EXCLUSIONS,
  loadRepositoryExclusions,
  loadSettings,
  patternProblems,
  saveRepositoryExclusions,
  saveSettings,
  type AnalyticsSettings,
} from '../analytics/rules';
import { validZone } from '../analytics/timezones';
import { requireConfigurePage } from '../connect/auth';
import { recordAudit } from '../db/audit-log';
import type { Trx } from '../db/database';
import { notFound } from '../platform/errors';
import type { ApiDeps } from './api-router';
import { contributorKey, repositoryUuid, route } from './analytics-params';
import { actorOf } from './data-routes';

const pathPatterns = z
  .array(noControlText.min(1).max(300, 'a pattern has at most 300 characters'))
  .max(500, 'at most 500 patterns')
  .superRefine((patterns, ctx) => {
    for (const problem of patternProblems(patterns)) ctx.addIssue({ code: 'custom', message: problem });
  });

const botPatterns = z
  .array(noControlText.trim().min(2, 'a bot pattern has at least 2 characters').max(200))
  .max(200, 'at most 200 bot patterns');

/**
 * The workspace's Jira site: an https address with nothing after the host (no credentials, path, query or
 * fragment), stored as its origin; null removes it. Only links are built from it: Tally never calls it.
 */
const jiraSiteUrl = noControlText
  .max(200, 'at most 200 characters')
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'expected an https address, e.g. https://example.atlassian.net',
      });
      return z.NEVER;
    }
    if (
      url.protocol !== 'https:' ||
      url.username ||
      url.password ||
      url.search ||
      url.hash ||
      url.pathname !== '/'
    ) {
      ctx.addIssue({ code: 'custom', message: 'expected https://<host> with nothing after the host' });
      return z.NEVER;
    }
    return url.origin;
  })
  .nullable();

const settingsBody = z.strictObject({
  timezone: noControlText.min(1).max(64).optional(),
  path_exclusions: pathPatterns.optional(),
  default_path_exclusions: z.boolean().optional(),
  bot_patterns: botPatterns.optional(),
  default_bot_patterns: z.boolean().optional(),
  jira_site_url: jiraSiteUrl.optional(),
  line_counts_from_patches: z.boolean().optional(),
});

const repositoryBody = z.strictObject({ path_exclusions: pathPatterns });

const mergeBody = z.strictObject({
  into: contributorKey,
  from: z.array(contributorKey).min(1, 'name at least one identity to merge').max(100),
});

const parseBody = <T>(schema: z.ZodType<T>, body: unknown): T => validate(schema, body ?? {}, 'body');

const present = (s: AnalyticsSettings) => ({
  timezone: s.timezone,
  path_exclusions: s.pathExclusions,
  default_path_exclusions: s.useDefaultExclusions,
  bot_patterns: s.botPatterns,
  default_bot_patterns: s.useDefaultBots,
  jira_site_url: s.jiraSiteUrl,
  line_counts_from_patches: s.lineCountsFromPatches,
  defaults: { path_exclusions: DEFAULT_PATH_EXCLUSIONS, bot_patterns: DEFAULT_BOT_PATTERNS },
});

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Analytics settings for the admin page: time zone, path exclusions (workspace and per repository), bot patterns,
 * identity merges. A change to what counts enqueues a rebuild of the rollups from stored data (rollup-rebuild.ts)
 * in the transaction that saves it, and answers 202 at once; `rebuild_pending` says whether graphs still show the
 * previous settings. No Bitbucket call is made. Every change is written to the audit log.
 * Reading is open to any session token of the tenant; changing needs one minted by the configure page, which
 * Bitbucket shows to workspace admins only (requireConfigurePage).
 */
export function settingsRouter(deps: ApiDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: '64kb' });
  const tenantOf = (res: Response) => res.locals.viewer!.tenant.id;
  const inTenant = <T>(res: Response, fn: (trx: Trx) => Promise<T>) => deps.db.withTenant(tenantOf(res), fn);
  /** 202 when this change queued a rebuild (its figures come later), else 200. */
  const answer = (res: Response, queued: boolean, body: object) => res.status(queued ? 202 : 200).json(body);
  const audit = (trx: Trx, res: Response, action: string, details: Record<string, unknown>) =>
    recordAudit(trx, tenantOf(res), {
      at: deps.now(),
      actor: actorOf(res.locals.viewer!.accountId),
      action,
      details,
    });
  const repositoryId = async (trx: Trx, uuid: string): Promise<number> => {
    const row = await trx('repositories').select('id').whereRaw('lower(uuid) = ?', [uuid]).first();
    if (!row) throw notFound('no such repository');
    return row.id;
  };

  router.get(
    '/settings',
    route(async (_req, res) => {
      const out = await inTenant(res, async (trx) => ({
        ...present(await loadSettings(trx)),
        rebuild_pending: await rebuildPending(trx, tenantOf(res)),
      }));
      res.json(out);
    }),
  );

  router.put(
    '/settings',
    requireConfigurePage,
    json,
    route(async (req, res) => {
      const body = parseBody(settingsBody, req.body);
      const out = await inTenant(res, async (trx) => {
        const current = await loadSettings(trx);
        const next: AnalyticsSettings = {
          timezone: body.timezone === undefined ? current.timezone : await validZone(trx, body.timezone),
          pathExclusions: body.path_exclusions ?? current.pathExclusions,
          useDefaultExclusions: body.default_path_exclusions ?? current.useDefaultExclusions,
          botPatterns: body.bot_patterns ?? current.botPatterns,
          useDefaultBots: body.default_bot_patterns ?? current.useDefaultBots,
          jiraSiteUrl: body.jira_site_url === undefined ? current.jiraSiteUrl : body.jira_site_url,
          lineCountsFromPatches: body.line_counts_from_patches ?? current.lineCountsFromPatches,
        };
        await saveSettings(trx, next);
        // Neither the zone, the Jira site nor where line counts come from (both paths count identically) changes
        // what is counted.
        const { timezone: _a, jiraSiteUrl: _c, lineCountsFromPatches: _e, ...countingNow } = next;
        const { timezone: _b, jiraSiteUrl: _d, lineCountsFromPatches: _f, ...countingBefore } = current;
        const queued = !same(countingNow, countingBefore);
        if (queued) await enqueueRollupRebuild(trx, { tenantId: tenantOf(res) });
        await audit(trx, res, 'settings.updated', { before: present(current), after: present(next) });
        return {
          queued,
          body: { ...present(next), rebuild_pending: await rebuildPending(trx, tenantOf(res)) },
        };
      });
      answer(res, out.queued, out.body);
    }),
  );

  router.get(
    '/settings/repositories/:uuid',
    route(async (req, res) => {
      const uuid = parseBody(repositoryUuid, req.params.uuid);
      const out = await inTenant(res, async (trx) => {
        const id = await repositoryId(trx, uuid);
        return { repository: uuid, path_exclusions: (await loadRepositoryExclusions(trx, id)).get(id) ?? [] };
      });
      res.json(out);
    }),
  );

  router.put(
    '/settings/repositories/:uuid',
    requireConfigurePage,
    json,
    route(async (req, res) => {
      const uuid = parseBody(repositoryUuid, req.params.uuid);
      const body = parseBody(repositoryBody, req.body);
      const out = await inTenant(res, async (trx) => {
        const id = await repositoryId(trx, uuid);
        const before = (await loadRepositoryExclusions(trx, id)).get(id) ?? [];
        await saveRepositoryExclusions(trx, id, body.path_exclusions);
        const queued = !same(before, body.path_exclusions);
        if (queued) await enqueueRollupRebuild(trx, { tenantId: tenantOf(res), repositoryId: id });
        await audit(trx, res, 'settings.repository_updated', {
          repository: uuid,
          before,
          after: body.path_exclusions,
        });
        return {
          queued,
          body: {
            repository: uuid,
            path_exclusions: body.path_exclusions,
            rebuild_pending: await rebuildPending(trx, tenantOf(res)),
          },
        };
      });
      answer(res, out.queued, out.body);
    }),
  );

  router.get(
    '/identities',
    route(async (_req, res) => {
      const identities = await inTenant(res, async (trx) => {
        const { rows: counts } = await trx.raw(
          // Every counted commit of each identity (merges and bots too), from the all-time rollup.
          'select contributor_id, sum(commits)::int as commits from contributor_rollups_total group by 1',
        );
        const byId = new Map(
          (counts as { contributor_id: number; commits: number }[]).map((c) => [c.contributor_id, c.commits]),
        );
        return (await listIdentities(trx)).map(({ id, ...identity }) => ({
          ...identity,
          commits: byId.get(id) ?? 0,
        }));
      });
      res.json({ identities });
    }),
  );

  router.post(
    '/identities/merge',
    requireConfigurePage,
    json,
    route(async (req, res) => {
      const body = parseBody(mergeBody, req.body);
      const { id: _id, ...identity } = await inTenant(res, async (trx) => {
        const merged = await mergeIdentities(trx, body.into, body.from);
        await audit(trx, res, 'identities.merged', { into: body.into, from: body.from });
        return merged;
      });
      res.json(identity);
    }),
  );

  router.delete(
    '/identities/merge/:key',
    requireConfigurePage,
    route(async (req, res) => {
      const key = parseBody(contributorKey, req.params.key);
      const { id: _id, ...identity } = await inTenant(res, async (trx) => {
        const restored = await unmergeIdentity(trx, key);
        await audit(trx, res, 'identities.unmerged', { key });
        return restored;
      });
      res.json(identity);
    }),
  );

  return router;
}
