import type { Database } from './database';

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

/**
 * The most a client should take ahead of use in one grant: a thirtieth of the budget (what it does not use is
 * spent anyway), at most 256 (beyond that the round trips saved no longer matter).
 */
export function prepaidChunk(policy: BudgetPolicy): number {
  return Math.max(1, Math.min(256, Math.floor(policy.limit / 30)));
}

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

  /** One round trip: the rules above run in `acquire_request_budget` (migration 20261206000000_ingest_throughput). */
  async tryAcquire(tenantId: string, priority: BudgetPriority, wanted: number): Promise<Grant> {
    const { rows } = await this.db.knex.raw<{ rows: { granted: number; retry_at: Date | null }[] }>(
      'select granted, retry_at from acquire_request_budget(?::uuid, ?, ?, ?, ?, ?, ?)',
      [
        tenantId,
        priority,
        Math.max(1, Math.floor(wanted)),
        limitFor(this.policy, priority),
        this.now(),
        Math.round(windowSpanMs(this.policy)),
        HIGH_PRIORITY_CLAIM_MS,
      ],
    );
    const { granted, retry_at: retryAt } = rows[0]!;
    return granted > 0 ? { granted } : { granted: 0, retryAt: retryAt! };
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
}
