import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger as QueueLogger, runMigrations as runQueueMigrations } from 'graphile-worker';
import type { Knex } from 'knex';
import { createKnex } from './database';
import { applySupportAccess } from './support-access';

const silentQueueLogger = new QueueLogger(() => () => undefined);

/** Where knex finds the migrations, for migrate() and for tests that step through them. */
export const MIGRATIONS: Knex.MigratorConfig = {
  directory: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations'),
  loadExtensions: ['.ts'],
};

/** Applies pending migrations as the owner role, then grants the application role what it needs. */
export async function migrate(adminUrl: string, appRole: string): Promise<string[]> {
  const knex = createKnex(adminUrl, 2);
  try {
    const [, applied] = (await knex.migrate.latest(MIGRATIONS)) as [number, string[]];
    // The job queue's schema is created by its owner too, so the app role never needs DDL rights.
    await runQueueMigrations({ connectionString: adminUrl, logger: silentQueueLogger });
    await grantAppRole(knex, appRole);
    // The support role's consent-bound read on every tenant table, including ones added since (src/db/support-access.ts).
    await applySupportAccess(knex);
    return applied;
  } finally {
    await knex.destroy();
  }
}

/**
 * The application role reads and writes rows and nothing more: no ownership, no DDL,
 * no migration bookkeeping. RLS decides which rows.
 */
export async function grantAppRole(knex: Knex, role: string): Promise<void> {
  await knex.raw('grant usage on schema public to ??', [role]);
  await knex.raw('grant select, insert, update, delete on all tables in schema public to ??', [role]);
  await knex.raw('revoke all on knex_migrations, knex_migrations_lock from ??', [role]);
  await knex.raw('grant usage, select on all sequences in schema public to ??', [role]);
  const queue = await knex.raw(`select 1 from pg_namespace where nspname = 'graphile_worker'`);
  if (queue.rows.length > 0) {
    // The job queue's own schema: the app role enqueues and runs jobs through its functions.
    await knex.raw('grant usage on schema graphile_worker to ??', [role]);
    await knex.raw('grant select, insert, update, delete on all tables in schema graphile_worker to ??', [
      role,
    ]);
    await knex.raw('grant usage, select, update on all sequences in schema graphile_worker to ??', [role]);
    await knex.raw('grant execute on all functions in schema graphile_worker to ??', [role]);
    // graphile-worker enables RLS on its private tables with no policies (owner-only access). The queue is
    // infrastructure shared by all tenants (payloads carry tenantId; all tenant data stays behind tenant RLS),
    // so the app role gets a policy there.
    const { rows } = await knex.raw(`
      select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'graphile_worker' and c.relkind = 'r' and c.relrowsecurity`);
    for (const { relname } of rows as { relname: string }[]) {
      const policy = `app_queue_access_${role}`;
      await knex.raw('drop policy if exists ?? on graphile_worker.??', [policy, relname]);
      await knex.raw('create policy ?? on graphile_worker.?? to ?? using (true) with check (true)', [
        policy,
        relname,
        role,
      ]);
    }
  }
}

/** Start-up refuses to serve when the application role could see past RLS. */
export async function assertRestrictedRole(knex: Knex): Promise<void> {
  const { rows } = await knex.raw(`
    select r.rolname, r.rolsuper, r.rolbypassrls,
      (select count(*)::int from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
        where c.relowner = r.oid and n.nspname = 'public') as owned
      from pg_roles r where r.rolname = current_user`);
  const role = rows[0];
  const problems: string[] = [];
  if (role.rolsuper) problems.push('is a superuser');
  if (role.rolbypassrls) problems.push('has BYPASSRLS');
  if (role.owned > 0) problems.push(`owns ${role.owned} relation(s) in schema public`);
  if (problems.length > 0) {
    throw new Error(
      `DATABASE_URL connects as role "${role.rolname}", which ${problems.join(', ')}. ` +
        'Tally connects as a restricted role so that row-level security always applies.',
    );
  }
}

export function roleOf(url: string): string {
  const user = decodeURIComponent(new URL(url).username);
  if (!user) throw new Error('DATABASE_URL must name its role (postgres://role:password@host/db)');
  return user;
}
