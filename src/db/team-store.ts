import { recordAudit } from './audit-log';
import type { Trx } from './database';

/**
 * Teams of contributors (configure page). A team is a name and a set of contributor keys (`a:<account id>`,
 * `e:<email>`); the keys are resolved to contributor ids at read time (src/analytics/scope.ts), so merges apply.
 * Every function runs inside withTenant.
 */
export interface Team {
  id: number;
  name: string;
  members: string[];
  createdAt: Date;
  updatedAt: Date;
}

interface TeamRow {
  id: number;
  name: string;
  created_at: Date;
  updated_at: Date;
  members: string[] | null;
}

/** Unique violation on (tenant, lower(name)): the caller answers 409. */
export class TeamNameTaken extends Error {}

const isNameTaken = (e: unknown) =>
  (e as { code?: string; constraint?: string }).code === '23505' &&
  (e as { constraint?: string }).constraint === 'teams_name';

/** Teams with their members, by name; or one team when `id` is given. */
export async function listTeams(trx: Trx, id?: number): Promise<Team[]> {
  const { rows } = await trx.raw(
    `select t.id, t.name, t.created_at, t.updated_at,
            array(select m.contributor_key from team_members m
                   where m.tenant_id = t.tenant_id and m.team_id = t.id order by m.contributor_key) as members
       from teams t
      where ?::bigint is null or t.id = ?::bigint
      order by lower(t.name), t.id`,
    [id ?? null, id ?? null],
  );
  return (rows as TeamRow[]).map((r) => ({
    id: Number(r.id),
    name: r.name,
    members: r.members ?? [],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

async function writeMembers(trx: Trx, tenantId: string, teamId: number, members: string[]) {
  await trx('team_members').where({ team_id: teamId }).del();
  if (members.length > 0)
    await trx('team_members').insert(
      members.map((key) => ({ tenant_id: tenantId, team_id: teamId, contributor_key: key })),
    );
}

/** Creates a team; TeamNameTaken when another team has the name. */
export async function createTeam(
  trx: Trx,
  tenantId: string,
  input: { name: string; members: string[]; actor: string; now: Date },
): Promise<Team> {
  let id: number;
  try {
    // A savepoint, so a taken name leaves the transaction usable for the caller's answer.
    id = await trx.transaction(async (sp) => {
      const [row] = await sp('teams')
        .insert({ tenant_id: tenantId, name: input.name, created_at: input.now, updated_at: input.now })
        .returning('id');
      return Number((row as { id: number }).id);
    });
  } catch (e) {
    if (isNameTaken(e)) throw new TeamNameTaken();
    throw e;
  }
  await writeMembers(trx, tenantId, id, input.members);
  await recordAudit(trx, tenantId, {
    at: input.now,
    actor: input.actor,
    action: 'team.created',
    details: { team_id: id, name: input.name, members: input.members },
  });
  return (await listTeams(trx, id))[0]!;
}

/** Renames a team and replaces its members; null when there is no such team. */
export async function updateTeam(
  trx: Trx,
  tenantId: string,
  input: { id: number; name: string; members: string[]; actor: string; now: Date },
): Promise<Team | null> {
  let found: boolean;
  try {
    found = await trx.transaction(async (sp) => {
      const n = await sp('teams').where({ id: input.id }).update({ name: input.name, updated_at: input.now });
      return n > 0;
    });
  } catch (e) {
    if (isNameTaken(e)) throw new TeamNameTaken();
    throw e;
  }
  if (!found) return null;
  await writeMembers(trx, tenantId, input.id, input.members);
  await recordAudit(trx, tenantId, {
    at: input.now,
    actor: input.actor,
    action: 'team.updated',
    details: { team_id: input.id, name: input.name, members: input.members },
  });
  return (await listTeams(trx, input.id))[0]!;
}

/** Deletes a team (its members go with it); false when there is none. */
export async function deleteTeam(
  trx: Trx,
  tenantId: string,
  input: { id: number; actor: string; now: Date },
): Promise<boolean> {
  const [row] = await trx('teams').where({ id: input.id }).del().returning(['id', 'name']);
  if (!row) return false;
  await recordAudit(trx, tenantId, {
    at: input.now,
    actor: input.actor,
    action: 'team.deleted',
    details: { team_id: input.id, name: (row as { name: string }).name },
  });
  return true;
}
