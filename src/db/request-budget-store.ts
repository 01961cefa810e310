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
 * Announced limits: where Bitbucket's answers carry X-RateLimit-Limit (access tokens, Forge apps), the limit in
 * force is the smallest fresh announcement of any resource (`api_rate_limits`, migration
 * 202612084000_announced_rate_limits); one without a fresh one lapses after the window and the configured limit
 * applies again. While the latest answer says X-RateLimit-NearLimit, backfill holds to NEAR_LIMIT_SHARE of it.
 *
 * Implements src/bitbucket/budget.ts `RequestBudget` (structurally: src/db does not import src/bitbucket).
 */

export type BudgetPriority = 'high' | 'low';
export type Grant = { granted: number; retryAt?: undefined } | { granted: 0; retryAt: Date };

/** Bitbucket's window: a rolling hour. */
export const HOUR_MS = 3_600_000;

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
 * While Bitbucket says NearLimit, backfill keeps to this share of the announced limit in Tally's own window. Its
 * threshold is not documented (Atlassian's Jira Cloud sends it below a fifth remaining), so at 80% backfill stops
 * adding to a nearly full window and goes on only as old requests leave it: an even pace instead of a burst into
 * the 429s, with the last fifth left to push syncs and to whatever else Bitbucket counts with Tally's.
 */
export const NEAR_LIMIT_SHARE = 0.8;
/** An unchanged announcement is written again this often (a share of the window), so that it does not lapse. */
const ANNOUNCEMENT_REFRESH_SHARE = 0.1;

export interface AnnouncedLimitRecord {
  resource: string;
  requestsPerHour: number;
  nearLimit: boolean;
}

export interface LimitInForce {
  requestsPerHour: number;
  source: 'configured' | 'announced';
  nearLimit: boolean;
}

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

/** The limit a tenant's budget follows now: the smallest fresh announcement, else the configured one. */
export async function limitInForce(
  trx: Trx,
  tenantId: string,
  policy: BudgetPolicy,
  now: Date,
): Promise<LimitInForce> {
  const { rows } = await trx.raw<{
    rows: { requests_per_hour: number; source: 'configured' | 'announced'; near_limit: boolean }[];
  }>('select requests_per_hour, source, near_limit from request_limit_in_force(?::uuid, ?, ?, ?)', [
    tenantId,
    policy.limit,
    now,
    Math.round(windowSpanMs(policy)),
  ]);
  const row = rows[0]!;
  return { requestsPerHour: row.requests_per_hour, source: row.source, nearLimit: row.near_limit };
}

/** Requests a second the tenant's backfill may spend under the limit in force (for ETAs). */
export function backfillRequestsPerSecond(inForce: LimitInForce, windowMs: number): number {
  const limit = inForce.nearLimit
    ? Math.max(1, Math.floor(inForce.requestsPerHour * NEAR_LIMIT_SHARE))
    : inForce.requestsPerHour;
  return limitFor({ limit, windowMs }, 'low') / (windowMs / 1000);
}

export class PostgresRequestBudget {
  /** What this process last wrote per tenant and resource: an unchanged announcement is not written each time. */
  private readonly written = new Map<string, AnnouncedLimitRecord & { at: number }>();

  constructor(
    private readonly db: Database,
    private readonly policy: BudgetPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (!(policy.limit > 0) || !(policy.windowMs > 0))
      throw new Error('budget limit and window must be positive');
  }

  /**
   * One round trip: the limit in force and the rules above run in `acquire_announced_request_budget` (migration
   * 202612084000_announced_rate_limits, around 20261206000000_ingest_throughput's `acquire_request_budget`).
   */
  async tryAcquire(tenantId: string, priority: BudgetPriority, wanted: number): Promise<Grant> {
    const { rows } = await this.db.knex.raw<{ rows: { granted: number; retry_at: Date | null }[] }>(
      'select granted, retry_at from acquire_announced_request_budget(?::uuid, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        tenantId,
        priority,
        Math.max(1, Math.floor(wanted)),
        this.policy.limit,
        this.now(),
        Math.round(windowSpanMs(this.policy)),
        HIGH_PRIORITY_CLAIM_MS,
        BACKFILL_RESERVE_SHARE,
        NEAR_LIMIT_SHARE,
      ],
    );
    const { granted, retry_at: retryAt } = rows[0]!;
    return granted > 0 ? { granted } : { granted: 0, retryAt: retryAt! };
  }

  /**
   * Records a limit Bitbucket announced (validated by the client). Written when it changes, and again after a
   * tenth of the window, so that it stays fresh while answers keep carrying it.
   */
  async announce(tenantId: string, announced: AnnouncedLimitRecord): Promise<void> {
    const key = `${tenantId}|${announced.resource}`;
    const now = this.now();
    const last = this.written.get(key);
    if (
      last &&
      last.requestsPerHour === announced.requestsPerHour &&
      last.nearLimit === announced.nearLimit &&
      now.getTime() - last.at < this.policy.windowMs * ANNOUNCEMENT_REFRESH_SHARE
    )
      return;
    await this.db.withTenant(tenantId, (trx) =>
      trx.raw(
        `insert into api_rate_limits (tenant_id, resource, requests_per_hour, near_limit, announced_at)
         values (?, ?, ?, ?, ?)
         on conflict (tenant_id, resource) do update
            set requests_per_hour = excluded.requests_per_hour, near_limit = excluded.near_limit,
                announced_at = excluded.announced_at`,
        [tenantId, announced.resource, announced.requestsPerHour, announced.nearLimit, now],
      ),
    );
    this.written.set(key, { ...announced, at: now.getTime() });
  }

  /** The limit the tenant's budget follows now (the API shows it). */
  limitInForce(trx: Trx, tenantId: string): Promise<LimitInForce> {
    return limitInForce(trx, tenantId, this.policy, this.now());
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
