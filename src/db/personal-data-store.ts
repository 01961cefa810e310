import { randomBytes } from 'node:crypto';
import { tenantTables, textColumns, type TextColumn } from './catalog';
import type { Database, Trx } from './database';
import { identifierHash, recordDeletion } from './deletion-ledger';
import { PAYLOAD_NAME_KEYS, personalColumns, type PersonalColumn } from './personal-data-columns';

/**
 * Erasure of one person's personal data in one tenant (GDPR), on request or when Atlassian reports the account
 * closed. The person is found by account id or email and expanded to everything Tally links to them (contributor
 * identity, other emails, Bitbucket uuid, the names they committed under). Those values are replaced in the
 * personal columns (personal-data-columns.ts: names, emails, ids, free text; never keys, refs, paths or settings)
 * by one random token such as `erased-3f9a1c2b7d4e`: rows and counts stay, grouped under the token, but the
 * person is gone.
 * The token is random, not a hash, so it cannot be turned back into the email by guessing.
 */

export interface ErasureRequest {
  accountId?: string;
  email?: string;
}

export interface ErasureResult {
  token: string;
  /** How many distinct account ids, uuids, emails and names were erased. */
  identifiers: { accountIds: number; uuids: number; emails: number; names: number };
  /** Rows changed per table. */
  rows: Record<string, number>;
}

interface Identity {
  accountIds: Set<string>;
  uuids: Set<string>;
  emails: Set<string>;
  names: Set<string>;
}

const ERASED_PREFIX = 'erased-';
const ERASED_EMAIL_DOMAIN = 'erased.invalid';
/** Shorter names are not identifying in free text and would match inside ordinary words. */
const MIN_NAME_LENGTH = 2;

export const isErasedValue = (value: string) => value.startsWith(ERASED_PREFIX);

export async function erasePerson(
  db: Database,
  tenantId: string,
  request: ErasureRequest,
  actor: string,
  now: Date,
  /** A restore re-applying an entry of the deletion ledger gives its id (ledger-replay.ts). */
  options: { ledgerId?: string } = {},
): Promise<ErasureResult> {
  if (!request.accountId && !request.email) throw new Error('erasure needs an account id or an email');
  const token = `${ERASED_PREFIX}${randomBytes(6).toString('hex')}`;
  const result = await db.withTenant(tenantId, async (trx) => {
    const identity = await findIdentity(trx, tenantId, request);
    const replace = replacer(identity, token);
    await trx('personal_data_accounts')
      .where({ tenant_id: tenantId })
      .whereIn('account_id', [...identity.accountIds])
      .del();
    const rows: Record<string, number> = {};
    for (const table of await tenantTables(trx)) {
      const changed = await scrubTable(trx, tenantId, table, replace);
      if (changed > 0) rows[table] = changed;
    }
    // The raw "Name <email>" line is derived data: rebuild it from the anonymised parts.
    await trx.raw(
      `update commits set author_raw = author_name || coalesce(' <' || author_email || '>', '')
        where tenant_id = ? and (author_name like ? or author_email like ?)`,
      [tenantId, `${token}%`, `${token}%`],
    );
    const counts = {
      accountIds: identity.accountIds.size,
      uuids: identity.uuids.size,
      emails: identity.emails.size,
      names: identity.names.size,
    };
    await trx('audit_log').insert({
      tenant_id: tenantId,
      at: now,
      actor,
      action: 'personal_data.erased',
      details: { token, identifiers: counts, rows },
    });
    return { identity, counts, rows };
  });
  await db.withSystem('erasure: registry and audit', async (trx) => {
    const replace = replacer(result.identity, token);
    const tenant = await trx('tenants').where({ id: tenantId }).first('client_info');
    if (tenant) {
      // The registry's one personal column (personal-data-columns.ts).
      const scrubbed = replace.json(tenant.client_info, new Set(PAYLOAD_NAME_KEYS));
      if (JSON.stringify(scrubbed) !== JSON.stringify(tenant.client_info))
        await trx('tenants')
          .where({ id: tenantId })
          .update({ client_info: JSON.stringify(scrubbed) });
    }
    await trx('system_audit_log').insert({
      at: now,
      actor,
      action: 'personal_data.erased',
      subject_tenant_id: tenantId,
      details: { token, identifiers: result.counts, rows: result.rows },
    });
    const { accountIds, emails, uuids } = result.identity;
    await recordDeletion(trx, {
      id: options.ledgerId,
      at: now,
      action: 'person.erased',
      tenantId,
      identifierHashes: [
        ...[...accountIds].map((v) => identifierHash(tenantId, 'account', v)),
        ...[...emails].map((v) => identifierHash(tenantId, 'email', v)),
        ...[...uuids].map((v) => identifierHash(tenantId, 'uuid', v)),
      ],
    });
  });
  return { token, identifiers: result.counts, rows: result.rows };
}

/** The person behind an account id or email, expanded through everything that links their identifiers. */
async function findIdentity(trx: Trx, tenantId: string, request: ErasureRequest): Promise<Identity> {
  const identity: Identity = {
    accountIds: new Set(request.accountId ? [request.accountId] : []),
    uuids: new Set(),
    emails: new Set(request.email ? [request.email.toLowerCase()] : []),
    names: new Set(),
  };
  const add = (set: Set<string>, value: unknown, lower = false) => {
    if (typeof value !== 'string' || value.trim() === '' || isErasedValue(value)) return;
    set.add(lower ? value.toLowerCase() : value);
  };
  // Explicit tenant filters too: the support CLI may run this on a connection that RLS does not restrict.
  const ofTenant = (table: string) => trx(table).where('tenant_id', tenantId);
  const size = () => identity.accountIds.size + identity.uuids.size + identity.emails.size;
  // Each pass may find a new link (an email leads to an account, the account to its other emails): repeat until stable.
  for (let before = -1; before !== size();) {
    before = size();
    const ids = [...identity.accountIds];
    const uuids = [...identity.uuids];
    const emails = [...identity.emails];
    const contributors = await ofTenant('contributors')
      .where((q) =>
        q
          .whereIn('account_id', ids)
          .orWhereIn('user_uuid', uuids)
          // An identity without a Bitbucket account is keyed by email (identity_email, added by the analytics work);
          // read through to_jsonb so this still runs where that column does not exist.
          .orWhereRaw(`lower(to_jsonb(contributors) ->> 'identity_email') = any(?)`, [emails])
          .orWhereIn(
            'id',
            ofTenant('contributor_emails')
              .whereRaw('lower(email) = any(?)', [emails])
              .select('contributor_id'),
          ),
      )
      .select('id', 'account_id', 'user_uuid', 'display_name');
    for (const c of contributors) {
      add(identity.accountIds, c.account_id);
      add(identity.uuids, c.user_uuid);
      add(identity.names, c.display_name);
    }
    const linkedEmails = await ofTenant('contributor_emails')
      .whereIn(
        'contributor_id',
        contributors.map((c) => c.id),
      )
      .pluck('email');
    for (const email of linkedEmails) add(identity.emails, email, true);
    const commits = await ofTenant('commits')
      .where((q) =>
        q
          .whereIn('author_account_id', ids)
          .orWhereIn('author_uuid', uuids)
          .orWhereRaw('lower(author_email) = any(?)', [emails]),
      )
      .distinct('author_name', 'author_email', 'author_account_id', 'author_uuid');
    for (const c of commits) {
      add(identity.names, c.author_name);
      add(identity.emails, c.author_email, true);
      add(identity.accountIds, c.author_account_id);
      add(identity.uuids, c.author_uuid);
    }
    const authors = await ofTenant('pull_requests')
      .where((q) => q.whereIn('author_account_id', ids).orWhereIn('author_uuid', uuids))
      .distinct('author_name', 'author_account_id', 'author_uuid');
    for (const a of authors) {
      add(identity.names, a.author_name);
      add(identity.accountIds, a.author_account_id);
      add(identity.uuids, a.author_uuid);
    }
    const participants = await ofTenant('pull_request_participants')
      .where((q) => q.whereIn('account_id', ids).orWhereIn('user_uuid', uuids))
      .distinct('display_name', 'account_id', 'user_uuid');
    for (const p of participants) {
      add(identity.names, p.display_name);
      add(identity.accountIds, p.account_id);
      add(identity.uuids, p.user_uuid);
    }
  }
  for (const name of identity.names) if (name.trim().length < MIN_NAME_LENGTH) identity.names.delete(name);
  return identity;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const bare = (uuid: string) => uuid.replace(/^\{|\}$/g, '');
const alternation = (values: string[]) =>
  [...values]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegex)
    .join('|');

interface Replacer {
  /** A column whose whole value is one person's identifier or name (`value` in personal-data-columns.ts). */
  value(value: string): string;
  /** Free text. */
  text(value: string): string;
  /** A JSON document: string values only, names only under nameKeys. */
  json(value: unknown, nameKeys: ReadonlySet<string>): unknown;
  /** Lower-cased fragments any affected value contains (a cheap SQL pre-filter). */
  needles: string[];
}

/**
 * Replaces the person's values with the token: emails, account ids and uuids wherever they occur (case-insensitive,
 * an email or id only where it is not part of a longer one), names as whole words or whole values. With several
 * ids or emails each gets its own numbered token, so values that must stay unique (an email key, a participant's
 * uuid) stay unique.
 */
function replacer(identity: Identity, token: string): Replacer {
  const literal = new Map<string, string>();
  // URL-encoded forms too (`alice%40example.com`, `557058%3A…` in links and avatar URLs), replaced by encoded tokens.
  const encodedForms: string[] = [];
  const numbered = (values: Iterable<string>, shape: (t: string) => string, key: (v: string) => string) =>
    [...values].sort().forEach((value, i) => {
      const replacement = shape(i === 0 ? token : `${token}-${i + 1}`);
      literal.set(key(value).toLowerCase(), replacement);
      const encoded = encodeURIComponent(key(value));
      if (encoded === key(value)) return;
      literal.set(encoded.toLowerCase(), encodeURIComponent(replacement));
      encodedForms.push(encoded);
    });
  numbered(
    identity.emails,
    (t) => `${t}@${ERASED_EMAIL_DOMAIN}`,
    (v) => v,
  );
  numbered(
    identity.accountIds,
    (t) => t,
    (v) => v,
  );
  numbered(identity.uuids, (t) => t, bare);
  const emails = [...identity.emails].filter(Boolean);
  const ids = [...identity.accountIds].filter(Boolean);
  const unbounded = [...[...identity.uuids].map(bare), ...encodedForms].filter(Boolean);
  // Uuids and encoded forms need no boundary: links carry them after `%7B` or `%3A`, and nothing else contains one.
  const literalPattern = new RegExp(
    [
      emails.length
        ? `(?<![\\p{L}\\p{N}_.+%-])(?:${alternation(emails)})(?![\\p{L}\\p{N}_-]|\\.[\\p{L}\\p{N}])`
        : '',
      ids.length ? `(?<![\\p{L}\\p{N}_])(?:${alternation(ids)})(?![\\p{L}\\p{N}_])` : '',
      unbounded.length ? `(?:${alternation(unbounded)})` : '',
    ]
      .filter(Boolean)
      .join('|') || '(?!)',
    'giu',
  );
  const names = [...identity.names];
  const lowerNames = new Set(names.map((n) => n.trim().toLowerCase()));
  const namePattern = names.length
    ? new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternation(names)})(?![\\p{L}\\p{N}_])`, 'giu')
    : null;
  const literals = (value: string) =>
    value.replace(literalPattern, (m) => literal.get(m.toLowerCase()) ?? token);
  const text = (value: string) => {
    const out = literals(value);
    return namePattern ? out.replace(namePattern, token) : out;
  };
  const json = (value: unknown, nameKeys: ReadonlySet<string>, key = ''): unknown => {
    if (typeof value === 'string') return nameKeys.has(key) ? text(value) : literals(value);
    if (Array.isArray(value)) return value.map((v) => json(v, nameKeys, key));
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, json(v, nameKeys, k)]));
    return value;
  };
  return {
    value: (value) => (lowerNames.has(value.trim().toLowerCase()) ? token : literals(value)),
    text,
    json: (value, nameKeys) => json(value, nameKeys),
    needles: [...literal.keys(), ...names.map((n) => n.toLowerCase())].filter(Boolean),
  };
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, '\\$&');

interface ScrubColumn extends TextColumn {
  rule: PersonalColumn;
}

/** The table's personal columns (personal-data-columns.ts) with their SQL types from the catalog. */
async function scrubColumns(trx: Trx, table: string): Promise<ScrubColumn[]> {
  const personal = new Map(personalColumns(table));
  if (personal.size === 0) return [];
  return (await textColumns(trx, table)).flatMap((c) => {
    const rule = personal.get(c.column);
    return rule ? [{ ...c, rule }] : [];
  });
}

/** Rewrites every affected row of one table; rows are addressed by ctid (stable within this transaction). */
async function scrubTable(trx: Trx, tenantId: string, table: string, replace: Replacer): Promise<number> {
  if (replace.needles.length === 0) return 0;
  const columns = await scrubColumns(trx, table);
  if (columns.length === 0) return 0;
  const patterns = replace.needles.map((n) => `%${likeEscape(n)}%`);
  // For json the needle is searched in the JSON text: good enough as a pre-filter, the walk decides.
  const filter = columns.map((c) => `lower(${ident(c.column)}::text) like any(?::text[])`).join(' or ');
  const { rows } = await trx.raw<{ rows: Record<string, unknown>[] }>(
    `select ctid::text as row_ctid, ${columns.map((c) => ident(c.column)).join(', ')}
       from ${ident(table)} where tenant_id = ? and (${filter})`,
    [tenantId, ...columns.map(() => patterns)],
  );
  // Changed rows, grouped by which columns changed, are written in batches: one statement per batch.
  const groups = new Map<string, { columns: ScrubColumn[]; rows: { ctid: string; values: string[] }[] }>();
  let changed = 0;
  for (const row of rows) {
    const updates: [ScrubColumn, string][] = [];
    for (const column of columns) {
      const value = row[column.column];
      if (value === null || value === undefined) continue;
      const next = scrubValue(column, value, replace);
      if (next !== undefined) updates.push([column, typeof next === 'string' ? next : JSON.stringify(next)]);
    }
    if (updates.length === 0) continue;
    const key = updates.map(([c]) => c.column).join(',');
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { columns: updates.map(([c]) => c), rows: [] }));
    group.rows.push({ ctid: row.row_ctid as string, values: updates.map(([, v]) => v) });
    changed++;
  }
  for (const group of groups.values())
    for (let i = 0; i < group.rows.length; i += UPDATE_BATCH)
      await updateRows(trx, tenantId, table, group.columns, group.rows.slice(i, i + UPDATE_BATCH));
  return changed;
}

const UPDATE_BATCH = 1000;

/** New values for rows addressed by ctid (stable within this transaction), passed as text arrays. */
async function updateRows(
  trx: Trx,
  tenantId: string,
  table: string,
  columns: ScrubColumn[],
  rows: { ctid: string; values: string[] }[],
): Promise<void> {
  const names = columns.map((c, i) => `c${i}`);
  // text[] values travel as JSON arrays (a text[] of text[] cannot be unnested), json as JSON text.
  const assign = columns.map((c, i) =>
    c.kind === 'text[]'
      ? `${ident(c.column)} = array(select jsonb_array_elements_text(v.${names[i]}::jsonb))`
      : `${ident(c.column)} = v.${names[i]}${c.kind === 'json' ? `::${c.type}` : ''}`,
  );
  const ctids = rows.map((r) => r.ctid);
  await trx.raw(
    `update ${ident(table)} as t set ${assign.join(', ')}
       from unnest(?::tid[], ${names.map(() => '?::text[]').join(', ')}) as v(row_ctid, ${names.join(', ')})
      where t.ctid = any(?::tid[]) and t.ctid = v.row_ctid and t.tenant_id = ?`,
    [ctids, ...columns.map((_, i) => rows.map((r) => r.values[i]!)), ctids, tenantId],
  );
}

/** The scrubbed value, or undefined when nothing in it changes. */
function scrubValue(column: ScrubColumn, value: unknown, replace: Replacer): unknown {
  const { rule } = column;
  if (rule.personal === 'json') {
    const next = replace.json(value, new Set(rule.nameKeys));
    return JSON.stringify(next) === JSON.stringify(value) ? undefined : JSON.stringify(next);
  }
  const one = rule.personal === 'value' ? replace.value : replace.text;
  if (column.kind === 'text[]') {
    const list = value as (string | null)[];
    const next = list.map((v) => (v === null ? v : one(v)));
    return next.some((v, i) => v !== list[i]) ? next : undefined;
  }
  const next = one(String(value));
  return next === value ? undefined : next;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
