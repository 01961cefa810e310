import type { Database, Trx } from './database';

/**
 * Each tenant's Bitbucket request budget as a sliding window in PostgreSQL, so that it holds across every worker
 * process. Grants are serialised per tenant by a row lock on `api_request_budgets`; each grant (a chunk of
 * requests) is a row in `api_request_grants` and counts until it is older than the window.
 *
 * Priorities: `high` (push syncs) may use the whole budget; `low` (backfill) leaves a small reserve, and stands
 * aside while a high-priority caller is waiting for a slot. Fair turns across tenants come from each tenant having
 * its own window plus the job queue's round robin.
 *
 * Implements src/bitbucket/budget.ts `RequestBudget` (structurally: src/db does not import src/bitbucket).
 */

export type BudgetPriority = 'high' | 'low';
export type Grant = { granted: number; retryAt?: undefined } | { granted: 0; retryAt: Date };

export interface BudgetPolicy {
  /** Requests per window (BITBUCKET_REQUESTS_PER_HOUR). */
  limit: number;
  /** An hour in production; benchmarks scale it down. */
  windowMs: number;
}

/**
 * Share of the budget backfill leaves for push syncs. Small on purpose: backfill should spend nearly all of the
 * budget, and a waiting push sync also takes the next freed slot ahead of backfill (the high-priority claim).
 */
export const BACKFILL_RESERVE_SHARE = 0.02;
/**
 * A high-priority caller that finds the window full claims the next freed slot: backfill takes none until this
 * long after the moment that caller was told to come back (or until it has been served).
 */
export const HIGH_PRIORITY_CLAIM_MS = 10_000;

export function limitFor(policy: BudgetPolicy, priority: BudgetPriority): number {
  if (priority === 'high') return policy.limit;
  return Math.max(1, policy.limit - Math.max(1, Math.ceil(policy.limit * BACKFILL_RESERVE_SHARE)));
}

/**
 * A grant counts a little longer than the window: its requests reach Bitbucket slightly after the grant, so
 * Bitbucket's own window lets go of them slightly later than ours would.
 */
export function windowSpanMs(policy: BudgetPolicy): number {
  return policy.windowMs + Math.min(5000, Math.max(50, policy.windowMs * 0.001));
}

export class PostgresRequestBudget {
  constructor(
    private readonly db: Database,
    private readonly policy: BudgetPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (!(policy.limit > 0) || !(policy.windowMs > 0))
      throw new Error('budget limit and window must be positive');
  }

  async tryAcquire(tenantId: string, priority: BudgetPriority, wanted: number): Promise<Grant> {
    const now = this.now();
    const since = new Date(now.getTime() - windowSpanMs(this.policy));
    const limit = limitFor(this.policy, priority);
    return this.db.withTenant(tenantId, async (trx) => {
      await trx.raw('insert into api_request_budgets (tenant_id) values (?) on conflict do nothing', [
        tenantId,
      ]);
      const { rows: budgetRows } = await trx.raw<{ rows: { high_claim_until: Date | null }[] }>(
        'select high_claim_until from api_request_budgets where tenant_id = ? for update',
        [tenantId],
      );
      const claimUntil = budgetRows[0]?.high_claim_until ?? null;
      await trx.raw('delete from api_request_grants where tenant_id = ? and granted_at <= ?', [
        tenantId,
        since,
      ]);
      const { rows } = await trx.raw<{ rows: { used: number }[] }>(
        'select coalesce(sum(requests), 0)::int as used from api_request_grants where tenant_id = ?',
        [tenantId],
      );
      const used = rows[0]!.used;
      const claimed = priority === 'low' && claimUntil !== null && claimUntil > now;
      const available = claimed ? 0 : limit - used;
      if (available > 0) {
        const granted = Math.max(1, Math.min(Math.floor(wanted), available));
        await trx('api_request_grants').insert({
          tenant_id: tenantId,
          granted_at: now,
          requests: granted,
          priority,
        });
        if (priority === 'high' && claimUntil !== null)
          await trx('api_request_budgets').where({ tenant_id: tenantId }).update({ high_claim_until: null });
        return { granted };
      }
      if (claimed) return { granted: 0, retryAt: claimUntil };
      const retryAt = await this.nextSlotAt(trx, tenantId, used, limit, now);
      if (priority === 'high') {
        // The claim lasts until a little after this caller comes back for the slot it is told about.
        await trx('api_request_budgets')
          .where({ tenant_id: tenantId })
          .update({
            high_claim_until: new Date(retryAt.getTime() + HIGH_PRIORITY_CLAIM_MS),
            updated_at: now,
          });
      }
      return { granted: 0, retryAt };
    });
  }

  /** Requests counted in the tenant's current window (tests and the benchmark). */
  async used(tenantId: string): Promise<number> {
    const since = new Date(this.now().getTime() - windowSpanMs(this.policy));
    return this.db.withTenant(tenantId, async (trx) => {
      const { rows } = await trx.raw<{ rows: { used: number }[] }>(
        'select coalesce(sum(requests), 0)::int as used from api_request_grants where tenant_id = ? and granted_at > ?',
        [tenantId, since],
      );
      return rows[0]!.used;
    });
  }

  /** The moment enough of the oldest grants have left the window for `used` to drop below `limit`. */
  private async nextSlotAt(
    trx: Trx,
    tenantId: string,
    used: number,
    limit: number,
    now: Date,
  ): Promise<Date> {
    const { rows } = await trx.raw<{ rows: { granted_at: Date }[] }>(
      `select granted_at from (
         select granted_at, sum(requests) over (order by granted_at, id) as leaving
           from api_request_grants where tenant_id = ?
       ) g
       where ? - leaving < ?
       order by granted_at limit 1`,
      [tenantId, used, limit],
    );
    const oldest = rows[0]?.granted_at ?? now;
    return new Date(Math.max(now.getTime() + 1, oldest.getTime() + windowSpanMs(this.policy)));
  }
}
