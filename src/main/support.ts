import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config';
import { createDatabase, createKnex } from '../db/database';
import { erasePerson } from '../db/personal-data-store';
import { listSupportTenants, showTenant, type SupportTenant } from '../db/support-reads';
import { createLogger } from '../platform/logger';

/**
 * `npm run support -- <command>`: support staff's tools (docs/operations.md, "Support access").
 *   tenants                                    registry data: client key, workspace, install state, consent
 *   show <clientKey>                           repositories, indexing state, statistics (only with consent)
 *   erase <clientKey> --account ID | --email E erase one person's personal data (a data-subject request)
 * Options: --as NAME (who you are, for the audit log; default $SUPPORT_USER or the OS user).
 * tenants/show connect with SUPPORT_DATABASE_URL (a login in role tally_support), else DATABASE_ADMIN_URL, and read
 * as the tally_support role either way, so PostgreSQL enforces the consent.
 */

const USAGE = `Usage:
  npm run support -- tenants
  npm run support -- show <clientKey> [--as NAME]
  npm run support -- erase <clientKey> (--account ID | --email EMAIL) [--as NAME]
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { as: { type: 'string' }, account: { type: 'string' }, email: { type: 'string' } },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n${USAGE}`);
  }
})();
const [command, clientKey] = positionals;
const who = values.as ?? process.env.SUPPORT_USER ?? os.userInfo().username;
if (!/^[A-Za-z0-9._@-]{1,64}$/.test(who)) fail('--as: 1..64 letters, digits, ".", "_", "@" or "-"');

const config = loadConfig();
const day = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '-');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_c, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

const consentText = (t: SupportTenant) =>
  t.consentExpiresAt ? `granted until ${day(t.consentExpiresAt)}` : 'none';

async function readOnly<T>(fn: (knex: ReturnType<typeof createKnex>) => Promise<T>): Promise<T> {
  const url = config.supportDatabaseUrl ?? config.databaseAdminUrl;
  if (!url) fail('Set SUPPORT_DATABASE_URL (a login in role tally_support) or DATABASE_ADMIN_URL.');
  const knex = createKnex(url, 1);
  try {
    return await fn(knex);
  } finally {
    await knex.destroy();
  }
}

async function tenants(): Promise<number> {
  const list = await readOnly(listSupportTenants);
  const rows = [['CLIENT KEY', 'WORKSPACE', 'STATE', 'DELETE AFTER', 'SUPPORT CONSENT']];
  for (const t of list)
    rows.push([t.clientKey, t.workspaceSlug ?? '-', t.state, day(t.deleteAfter), consentText(t)]);
  process.stdout.write(table(rows));
  return 0;
}

async function show(key: string): Promise<number> {
  const view = await readOnly((knex) => showTenant(knex, key, who));
  if (!view) return fail(`No tenant with client key ${key}.`, 1);
  if (view.refused) {
    process.stderr.write(
      `Refused: workspace ${view.tenant.workspaceSlug ?? key} has not granted support access (or it expired or ` +
        'was revoked). Ask its admin to grant consent on Tally’s configure page. This attempt was logged.\n',
    );
    return 1;
  }
  const s = view.statistics;
  process.stdout.write(
    `Workspace ${view.tenant.workspaceSlug ?? '-'} (${view.tenant.state}), consent until ${day(view.tenant.consentExpiresAt)}\n` +
      `Read by support:${who}; recorded in the workspace's audit log.\n\n`,
  );
  const repos = [['REPOSITORY', 'STATE', 'COMMITS', 'WITH LINES', 'ETA (s)', 'LAST ERROR']];
  for (const r of view.repositories)
    repos.push([
      r.fullName + (r.deleted ? ' (deleted)' : ''),
      r.syncState,
      String(r.commitsKnown),
      String(r.commitsWithLines),
      r.etaSeconds === null ? '-' : String(r.etaSeconds),
      r.lastError ?? '-',
    ]);
  process.stdout.write(table(repos));
  process.stdout.write(
    `\nrepositories ${s.repositories}, commits ${s.commits} (${s.commitsWithLines} with line counts), ` +
      `lines +${s.linesAdded}/-${s.linesRemoved}, contributors ${s.contributors}, pull requests ${s.pullRequests}, ` +
      `webhook deliveries pending ${s.webhookDeliveriesPending}, last commit ${day(s.lastCommitAt)}\n`,
  );
  return 0;
}

async function erase(key: string): Promise<number> {
  if (Boolean(values.account) === Boolean(values.email))
    fail(`erase needs exactly one of --account or --email\n${USAGE}`);
  // Writes go through withTenant on the application role (RLS applies); erasure needs no consent but is audited.
  const url = config.databaseUrl ?? config.databaseAdminUrl;
  if (!url) fail('Set DATABASE_URL (or DATABASE_ADMIN_URL).');
  const db = createDatabase(url, createLogger('silent'), 2);
  try {
    const tenant = await db.withSystem('support erase: tenant lookup', (trx) =>
      trx('tenants').where({ client_key: key }).first('id'),
    );
    if (!tenant) return fail(`No tenant with client key ${key}.`, 1);
    const result = await erasePerson(
      db,
      tenant.id as string,
      { accountId: values.account, email: values.email },
      `support:${who}`,
      new Date(),
    );
    const rows = Object.values(result.rows).reduce((sum, n) => sum + n, 0);
    process.stdout.write(
      `Erased: ${result.identifiers.accountIds} account id(s), ${result.identifiers.emails} email(s), ` +
        `${result.identifiers.names} name(s) in ${rows} row(s); replaced by ${result.token}. Audited.\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}

const commands: Record<string, () => Promise<number>> = {
  tenants,
  show: () => (clientKey ? show(clientKey) : fail(USAGE)),
  erase: () => (clientKey ? erase(clientKey) : fail(USAGE)),
};
const run = command ? commands[command] : undefined;
if (!run) fail(USAGE);
try {
  process.exitCode = await run();
} catch (error) {
  fail(`support ${command} failed: ${(error as Error).message}`, 1);
}
