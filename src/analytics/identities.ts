import type { Knex } from 'knex';
import type { Trx } from '../db/database';
import { HttpError, notFound } from '../platform/errors';

/**
 * Contributor identity. A commit belongs to its Bitbucket account when it has one, else to its normalized
 * email (lower-cased, trimmed; the author name when there is no email). An email seen on a commit with an
 * account belongs to that account from then on. Admins merge identities by pointing a contributor at another
 * (`merged_into`, always a root); queries resolve roots at read time, so a merge re-credits history at once.
 *
 * A contributor's key: `a:<account_id>` for an account, `e:<identity email>` otherwise.
 */

/** The SQL for a commit's identity email (alias `c` is a commits row). */
export const IDENTITY_EMAIL_SQL = `coalesce(nullif(lower(btrim(c.author_email)), ''), 'name:' || lower(btrim(c.author_name)))`;

export interface CommitScope {
  repositoryId?: number;
  hashes?: string[];
}

/** `and …` conditions restricting alias `c` (commits) to the scope, with their bindings. */
export function commitScopeSql(scope: CommitScope, alias = 'c'): { sql: string; bindings: Knex.Value[] } {
  const parts: string[] = [];
  const bindings: Knex.Value[] = [];
  if (scope.repositoryId !== undefined) {
    parts.push(`and ${alias}.repository_id = ?`);
    bindings.push(scope.repositoryId);
  }
  if (scope.hashes !== undefined) {
    parts.push(`and ${alias}.hash = any(?::text[])`);
    bindings.push(scope.hashes);
  }
  return { sql: parts.join(' '), bindings };
}

const TENANT = `current_setting('app.tenant_id')::uuid`;

/**
 * Creates the contributors and email mappings the scope's commits need; idempotent, and safe against
 * concurrent callers (every insert is keyed by a unique constraint).
 */
export async function ensureIdentities(trx: Trx, scope: CommitScope): Promise<void> {
  const where = commitScopeSql(scope);
  // 1. One contributor per Bitbucket account (the newest commit's author name as display name).
  await trx.raw(
    `insert into contributors (tenant_id, account_id, user_uuid, display_name)
     select distinct on (c.author_account_id) ${TENANT}, c.author_account_id, c.author_uuid, c.author_name
       from commits c
      where c.author_account_id is not null ${where.sql}
      order by c.author_account_id, c.authored_at desc
     on conflict (tenant_id, account_id) do nothing`,
    where.bindings,
  );
  // 2. Emails seen with an account belong to that account.
  await trx.raw(
    `insert into contributor_emails (tenant_id, email, contributor_id, source)
     select distinct on (${IDENTITY_EMAIL_SQL}) ${TENANT}, ${IDENTITY_EMAIL_SQL}, a.id, 'commit'
       from commits c
       join contributors a on a.tenant_id = c.tenant_id and a.account_id = c.author_account_id
      where true ${where.sql}
      order by ${IDENTITY_EMAIL_SQL}, c.authored_at desc
     on conflict (tenant_id, email) do nothing`,
    where.bindings,
  );
  // 3. An identity per email that no account has claimed.
  await trx.raw(
    `insert into contributors (tenant_id, identity_email, display_name)
     select distinct on (${IDENTITY_EMAIL_SQL}) ${TENANT}, ${IDENTITY_EMAIL_SQL}, c.author_name
       from commits c
      where c.author_account_id is null ${where.sql}
        and not exists (select 1 from contributor_emails e where e.tenant_id = c.tenant_id and e.email = ${IDENTITY_EMAIL_SQL})
      order by ${IDENTITY_EMAIL_SQL}, c.authored_at desc
     on conflict (tenant_id, identity_email) do nothing`,
    where.bindings,
  );
  await trx.raw(
    `insert into contributor_emails (tenant_id, email, contributor_id, source)
     select ${TENANT}, i.identity_email, i.id, 'commit'
       from contributors i
      where i.identity_email in (select ${IDENTITY_EMAIL_SQL} from commits c where c.author_account_id is null ${where.sql})
     on conflict (tenant_id, email) do nothing`,
    where.bindings,
  );
  // 4. An email identity later seen with an account joins that account (unless an admin already placed it).
  const adopted = await trx.raw(
    `update contributors i set merged_into = coalesce(a.merged_into, a.id), merged_at = now()
       from commits c
       join contributors a on a.tenant_id = c.tenant_id and a.account_id = c.author_account_id
      where i.tenant_id = c.tenant_id and i.identity_email = ${IDENTITY_EMAIL_SQL}
        and i.account_id is null and i.merged_into is null and i.id <> coalesce(a.merged_into, a.id) ${where.sql}`,
    where.bindings,
  );
  if ((adopted.rowCount ?? 0) > 0) await flattenMerges(trx);
}

/** Keeps every merge pointer on a root, so that one level of indirection resolves any identity. */
async function flattenMerges(trx: Trx): Promise<void> {
  for (let i = 0; i < 16; i++) {
    const moved = await trx.raw(
      `update contributors c set merged_into = p.merged_into
         from contributors p
        where c.tenant_id = p.tenant_id and c.merged_into = p.id and p.merged_into is not null`,
    );
    if ((moved.rowCount ?? 0) === 0) return;
  }
}

export interface Identity {
  id: number;
  key: string;
  account_id: string | null;
  display_name: string;
  emails: string[];
  merged_into: string | null;
}

/** The SQL of a contributor's key (alias given). */
export const keySql = (alias: string) =>
  `case when ${alias}.account_id is not null then 'a:' || ${alias}.account_id else 'e:' || ${alias}.identity_email end`;

/**
 * A contributor key, or a Bitbucket user uuid (`{…}`, as the profile tab knows its user), to the root
 * contributor id; null when the tenant has no such contributor.
 */
export async function resolveContributor(trx: Trx, key: string): Promise<number | null> {
  let row: { root: number } | undefined;
  const root = 'coalesce(merged_into, id) as root';
  if (key.startsWith('a:')) {
    row = await trx('contributors')
      .select(trx.raw(root))
      .where({ account_id: key.slice(2) })
      .first();
  } else if (key.startsWith('e:')) {
    row = await trx('contributor_emails as e')
      .join('contributors as c', (j) => j.on('c.tenant_id', 'e.tenant_id').andOn('c.id', 'e.contributor_id'))
      .select(trx.raw('coalesce(c.merged_into, c.id) as root'))
      .where('e.email', key.slice(2).trim().toLowerCase())
      .first();
  } else {
    row = await trx('contributors')
      .select(trx.raw(root))
      .whereRaw('lower(user_uuid) = ?', [key.toLowerCase()])
      .first();
  }
  return row ? row.root : null;
}

/** Every contributor id credited to a root (the root itself and everything merged into it). */
export async function membersOf(trx: Trx, rootId: number): Promise<number[]> {
  const rows = await trx('contributors').select('id').where({ id: rootId }).orWhere({ merged_into: rootId });
  return rows.map((r: { id: number }) => r.id);
}

async function requireRoot(trx: Trx, key: string): Promise<number> {
  const id = await resolveContributor(trx, key);
  if (id === null) throw notFound(`no contributor ${key}`);
  return id;
}

/** Merges each `from` identity (with whatever was merged into it) into `into`. */
export async function mergeIdentities(trx: Trx, into: string, from: string[]): Promise<Identity> {
  const target = await requireRoot(trx, into);
  const sources = new Set<number>();
  for (const key of from) sources.add(await requireRoot(trx, key));
  sources.delete(target);
  if (sources.size === 0)
    throw new HttpError('invalid_request', 'nothing to merge: every identity is already the target');
  const ids = [...sources];
  await trx('contributors')
    .whereIn('id', ids)
    .orWhereIn('merged_into', ids)
    .update({ merged_into: target, merged_at: trx.fn.now() });
  return (await listIdentities(trx, target))[0]!;
}

/** Takes one identity back out of the identity it was merged into (what was merged into it stays). */
export async function unmergeIdentity(trx: Trx, key: string): Promise<Identity> {
  const row = await identityRow(trx, key);
  if (!row || row.merged_into === null) throw notFound(`${key} is not merged into another identity`);
  await trx('contributors').where({ id: row.id }).update({ merged_into: null, merged_at: null });
  return (await listIdentities(trx, row.id))[0]!;
}

/** The contributor a key names itself (not its root). */
async function identityRow(
  trx: Trx,
  key: string,
): Promise<{ id: number; merged_into: number | null } | null> {
  const row = key.startsWith('a:')
    ? await trx('contributors')
        .select('id', 'merged_into')
        .where({ account_id: key.slice(2) })
        .first()
    : key.startsWith('e:')
      ? await trx('contributors')
          .select('id', 'merged_into')
          .where({ identity_email: key.slice(2).trim().toLowerCase() })
          .first()
      : undefined;
  return row ?? null;
}

/** Every identity as stored (roots and merged ones), or one root with its members. */
export async function listIdentities(trx: Trx, onlyId?: number): Promise<Identity[]> {
  const { rows } = await trx.raw(
    `select c.id, ${keySql('c')} as key, c.account_id, c.display_name,
            coalesce(array_agg(e.email order by e.email) filter (where e.email is not null), '{}') as emails,
            ${keySql('r')} as merged_into
       from contributors c
       left join contributor_emails e on e.tenant_id = c.tenant_id and e.contributor_id = c.id
       left join contributors r on r.tenant_id = c.tenant_id and r.id = c.merged_into
      ${onlyId === undefined ? '' : 'where c.id = ?'}
      group by c.tenant_id, c.id, r.tenant_id, r.id
      order by c.display_name, c.id`,
    onlyId === undefined ? [] : [onlyId],
  );
  return rows as Identity[];
}

/**
 * Every contributor id credited to a team's members (each member key resolved to its root, then the root's
 * members), or null when the tenant has no such team. A key nobody has committed as yet adds nothing.
 */
export async function teamMembersOf(trx: Trx, teamId: number): Promise<number[] | null> {
  const { rows } = await trx.raw(
    `with team as (select t.id from teams t where t.id = ?),
     roots as (
       select coalesce(c.merged_into, c.id) as root
         from team_members m join contributors c on c.tenant_id = m.tenant_id and c.account_id = substr(m.contributor_key, 3)
        where m.team_id = (select id from team) and m.contributor_key like 'a:%'
       union
       select coalesce(c.merged_into, c.id)
         from team_members m
         join contributor_emails e on e.tenant_id = m.tenant_id and e.email = substr(m.contributor_key, 3)
         join contributors c on c.tenant_id = e.tenant_id and c.id = e.contributor_id
        where m.team_id = (select id from team) and m.contributor_key like 'e:%'
     )
     select (select id from team) as team,
            array(select c.id from contributors c where coalesce(c.merged_into, c.id) in (select root from roots)
                   order by c.id) as ids`,
    [teamId],
  );
  const row = rows[0] as { team: number | null; ids: (number | string)[] };
  return row.team === null ? null : row.ids.map(Number);
}

/** A person as pull requests name them: Bitbucket account ids, and user uuids (braced, lower-case). */
export interface PullRequestPeople {
  accountIds: string[];
  uuids: string[];
}

/**
 * The account ids and user uuids of contributors (and of `key` itself: `a:<account id>` or a user uuid, for someone
 * who reviews without committing), with the uuids pull-request participants of those accounts carry.
 */
export async function pullRequestPeople(
  trx: Trx,
  contributorIds: number[],
  key?: string,
): Promise<PullRequestPeople> {
  const account = key?.startsWith('a:') ? key.slice(2) : null;
  const uuid = key?.startsWith('{') ? key.toLowerCase() : null;
  const { rows } = await trx.raw(
    `with accounts as (
       select c.account_id from contributors c where c.id = any(?::bigint[]) and c.account_id is not null
       union select ?::text where ?::text is not null
     ),
     uuids as (
       select lower(c.user_uuid) as uuid from contributors c where c.id = any(?::bigint[]) and c.user_uuid is not null
       union select lower(n.user_uuid) from pull_request_reviewers n where n.account_id in (select account_id from accounts)
       union select ?::text where ?::text is not null
     )
     select array(select account_id from accounts order by 1) as account_ids,
            array(select uuid from uuids order by 1) as uuids`,
    [contributorIds, account, account, contributorIds, uuid, uuid],
  );
  const row = rows[0] as { account_ids: string[]; uuids: string[] };
  return { accountIds: row.account_ids, uuids: row.uuids };
}
