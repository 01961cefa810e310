/**
 * The per-tenant hourly request budget. Bitbucket allows about 1,000 requests per rolling hour per workspace
 * (reference §6); Tally spends a configured share of that. The budget must hold across worker processes, so its
 * implementation lives in PostgreSQL (src/db/request-budget-store.ts); this module defines only the contract,
 * since src/bitbucket never imports src/db.
 */

/** `high`: push syncs, may use the whole budget. `low`: backfill, leaves a reserve for push syncs. */
export type RequestPriority = 'high' | 'low';

/** Either some requests granted now (1 ≤ granted ≤ wanted), or none and the moment to ask again. */
export type BudgetGrant = { granted: number; retryAt?: undefined } | { granted: 0; retryAt: Date };

/**
 * A limit Bitbucket announced on an answer (X-RateLimit-Limit per X-RateLimit-Resource, X-RateLimit-NearLimit;
 * sent to access tokens and Forge apps, not to Connect JWT), already validated (src/bitbucket/rate-limit-headers.ts).
 */
export interface AnnouncedLimit {
  resource: string;
  requestsPerHour: number;
  nearLimit: boolean;
}

export interface RequestBudget {
  tryAcquire(tenantId: string, priority: RequestPriority, wanted: number): Promise<BudgetGrant>;
  /** Records what an answer announced; the budget follows it from the next grant on (every worker shares it). */
  announce?(tenantId: string, announced: AnnouncedLimit): Promise<void>;
}

/** Thrown when the budget is spent for longer than a caller is willing to wait in place. */
export class BudgetExhaustedError extends Error {
  constructor(readonly retryAt: Date) {
    super(`request budget spent until ${retryAt.toISOString()}`);
    this.name = 'BudgetExhaustedError';
  }
}

/** No limit at all: client tests and the benchmark's bare client. */
export const unlimitedBudget: RequestBudget = {
  async tryAcquire(_tenantId, _priority, wanted) {
    return { granted: wanted };
  },
};
