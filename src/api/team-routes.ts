import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import type { Trx } from '../db/database';
import { createTeam, deleteTeam, listTeams, TeamNameTaken, updateTeam, type Team } from '../db/team-store';
import { HttpError, notFound } from '../platform/errors';
import { noControlText, validate } from '../platform/validation';
import type { ApiDeps } from './api-router';
import { contributorKey, route, teamId } from './analytics-params';
import { actorOf } from './data-routes';

/** How many teams a workspace may have, and members a team: enough for an organisation chart, bounded all the same. */
export const MAX_TEAMS = 100;
export const MAX_TEAM_MEMBERS = 200;

/** A member: a contributor key as GET /identities lists it (emails compared lower-cased, as identities are). */
const memberKey = contributorKey
  .refine((k) => k.startsWith('a:') || k.startsWith('e:'), 'expected a contributor key (a:…, e:…)')
  .transform((k) => (k.startsWith('e:') ? `e:${k.slice(2).trim().toLowerCase()}` : k));

const teamBody = z.strictObject({
  name: noControlText.trim().min(1, 'name the team').max(100, 'at most 100 characters'),
  members: z
    .array(memberKey)
    .max(MAX_TEAM_MEMBERS, `at most ${MAX_TEAM_MEMBERS} members`)
    .transform((keys) => [...new Set(keys)]),
});

const present = (t: Team) => ({
  id: t.id,
  name: t.name,
  members: t.members,
  created_at: t.createdAt,
  updated_at: t.updatedAt,
});

const nameTaken = (e: unknown) => {
  if (e instanceof TeamNameTaken) throw new HttpError('conflict', 'another team has this name');
  throw e;
};

/** Teams of contributors: listed on the admin pages, changed from the configure page (route-access.ts). */
export function teamRouter(deps: ApiDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: '64kb' });
  const inTenant = <T>(res: Response, fn: (trx: Trx) => Promise<T>) =>
    deps.db.withTenant(res.locals.viewer!.tenant.id, fn);
  const actor = (res: Response) => actorOf(res.locals.viewer!.accountId);
  const tenantId = (res: Response) => res.locals.viewer!.tenant.id;

  router.get(
    '/teams',
    route(async (_req, res) => {
      const teams = await inTenant(res, (trx) => listTeams(trx));
      res.json({ teams: teams.map(present) });
    }),
  );

  router.post(
    '/teams',
    json,
    route(async (req, res) => {
      const body = validate(teamBody, req.body ?? {}, 'body');
      const team = await inTenant(res, async (trx) => {
        const { count } = (await trx('teams').count('* as count').first()) as { count: string };
        if (Number(count) >= MAX_TEAMS)
          throw new HttpError('conflict', `a workspace has at most ${MAX_TEAMS} teams`);
        return createTeam(trx, tenantId(res), { ...body, actor: actor(res), now: deps.now() }).catch(
          nameTaken,
        );
      });
      res.status(201).json(present(team));
    }),
  );

  router.put(
    '/teams/:id',
    json,
    route(async (req, res) => {
      const id = validate(teamId, req.params.id, 'id');
      const body = validate(teamBody, req.body ?? {}, 'body');
      const team = await inTenant(res, (trx) =>
        updateTeam(trx, tenantId(res), { id, ...body, actor: actor(res), now: deps.now() }).catch(nameTaken),
      );
      if (!team) throw notFound('no such team');
      res.json(present(team));
    }),
  );

  router.delete(
    '/teams/:id',
    route(async (req, res) => {
      const id = validate(teamId, req.params.id, 'id');
      const deleted = await inTenant(res, (trx) =>
        deleteTeam(trx, tenantId(res), { id, actor: actor(res), now: deps.now() }),
      );
      if (!deleted) throw notFound('no such team');
      res.status(204).end();
    }),
  );

  return router;
}
