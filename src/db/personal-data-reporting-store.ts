import type { Database, Trx } from './database';
import { isErasedValue } from './personal-data-store';

/** Bookkeeping for Atlassian's personal data reporting: the inventory of stored account ids and the cycle. */

export const DEFAULT_CYCLE_SECONDS = 7 * 86_400;

export interface ReportingState {
  cycleSeconds: number;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
}

export async function readReportingState(db: Database): Promise<ReportingState> {
  const row = await db.withSystem('personal data reporting: state', (trx) =>
    trx('personal_data_reporting').first(),
  );
  return {
    cycleSeconds: row?.cycle_seconds ?? DEFAULT_CYCLE_SECONDS,
    nextRunAt: row?.next_run_at ?? null,
    lastRunAt: row?.last_run_at ?? null,
  };
}

export async function saveReportingState(
  db: Database,
  state: ReportingState & { lastResult: Record<string, unknown> },
): Promise<void> {
  await db.withSystem('personal data reporting: state', (trx) =>
    trx('personal_data_reporting')
      .insert({
        id: true,
        cycle_seconds: state.cycleSeconds,
        next_run_at: state.nextRunAt,
        last_run_at: state.lastRunAt,
        last_result: state.lastResult,
      })
      .onConflict('id')
      .merge(),
  );
}

/** Every column where Tally stores an Atlassian account id. */
const ACCOUNT_SOURCES = `
  select author_account_id as account_id from commits where tenant_id = :tenant
  union select account_id from contributors where tenant_id = :tenant
  union select author_account_id from pull_requests where tenant_id = :tenant
  union select closed_by_account_id from pull_requests where tenant_id = :tenant
  union select account_id from pull_request_participants where tenant_id = :tenant`;

/**
 * Brings the tenant's inventory up to date: accounts newly stored are added (retrieved "now" as far as Tally knows),
 * accounts no longer stored anywhere are dropped. Runs inside withTenant.
 */
export async function refreshAccountInventory(trx: Trx, tenantId: string, now: Date): Promise<void> {
  await trx.raw(
    `insert into personal_data_accounts (tenant_id, account_id, updated_at)
     select :tenant, s.account_id, :now from (${ACCOUNT_SOURCES}) s
      where s.account_id is not null and s.account_id not like 'erased-%'
     on conflict (tenant_id, account_id) do nothing`,
    { tenant: tenantId, now },
  );
  await trx.raw(
    `delete from personal_data_accounts p
      where p.tenant_id = :tenant and p.account_id not in (
        select s.account_id from (${ACCOUNT_SOURCES}) s where s.account_id is not null)`,
    { tenant: tenantId },
  );
}

/** Accounts not reported within the last cycle, in a stable order. */
export async function accountsDue(
  trx: Trx,
  now: Date,
  cycleSeconds: number,
): Promise<{ accountId: string; updatedAt: Date }[]> {
  const rows = await trx('personal_data_accounts')
    .where((q) =>
      q.whereNull('reported_at').orWhere('reported_at', '<=', new Date(now.getTime() - cycleSeconds * 1000)),
    )
    .orderBy('account_id')
    .select('account_id', 'updated_at');
  return rows
    .filter((r) => !isErasedValue(r.account_id))
    .map((r) => ({ accountId: r.account_id, updatedAt: r.updated_at }));
}

export async function markReported(trx: Trx, accountIds: string[], now: Date): Promise<void> {
  await trx('personal_data_accounts').whereIn('account_id', accountIds).update({ reported_at: now });
}

/** Atlassian says the account changed: its stored display name should be fetched again. */
export async function markNeedsRefresh(trx: Trx, accountId: string): Promise<void> {
  await trx('personal_data_accounts').where({ account_id: accountId }).update({ needs_refresh: true });
}

/** Stores a freshly fetched display name wherever Tally keeps the account's display name. */
export async function applyDisplayName(
  trx: Trx,
  accountId: string,
  displayName: string,
  now: Date,
): Promise<void> {
  await trx('contributors').where({ account_id: accountId }).update({ display_name: displayName });
  await trx('pull_request_participants')
    .where({ account_id: accountId })
    .update({ display_name: displayName });
  await trx('pull_requests').where({ author_account_id: accountId }).update({ author_name: displayName });
  await trx('personal_data_accounts')
    .where({ account_id: accountId })
    .update({ updated_at: now, needs_refresh: false });
}
