import type { Request, RequestHandler } from 'express';
import { rateLimit, type RateLimitInfo, type Store } from 'express-rate-limit';
import { recordApiTokenUse } from '../db/api-token-store';
import type { Database } from '../db/database';
import { errorBody } from '../platform/error-codes';

const MINUTE_MS = 60_000;

/**
 * express-rate-limit's counts kept on the token's row in PostgreSQL (recordApiTokenUse): every web replica counts
 * against one fixed one-minute window per token, and the same write keeps the token's audit entry for the minute.
 */
class ApiTokenUseStore implements Store {
  readonly localKeys = false;
  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  async increment(key: string) {
    const [tenantId, id] = key.split(' ') as [string, string];
    const now = this.now();
    const use = await this.db.withTenant(tenantId, (trx) =>
      recordApiTokenUse(trx, tenantId, { id: Number(id), now }),
    );
    // A token revoked since its key was read counts as this minute's first request: the request was already let in.
    const minute = use?.minute ?? new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS);
    return { totalHits: use?.requests ?? 1, resetTime: new Date(minute.getTime() + MINUTE_MS) };
  }

  // A request is never taken back (the limiter does so only with skipSuccessful/FailedRequests, not set here).
  decrement() {}
  resetKey() {}
}

/** At most `perMinute` requests per API token per minute; more are 429 `rate_limited` with Retry-After. */
export function apiTokenRateLimit(deps: {
  db: Database;
  now: () => Date;
  perMinute: number;
}): RequestHandler {
  return rateLimit({
    windowMs: MINUTE_MS,
    limit: deps.perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store: new ApiTokenUseStore(deps.db, deps.now),
    // Session tokens are not limited here: they are minted for a person's page view.
    skip: (_req, res) => res.locals.viewer?.apiToken === undefined,
    keyGenerator: (_req, res) => `${res.locals.viewer!.tenant.id} ${res.locals.viewer!.apiToken!.id}`,
    // Seconds to the next window by Tally's clock (at least 1: a client must not retry at once).
    retryAfter: (req) =>
      Math.max(
        1,
        Math.ceil(
          (((req as Request & { rateLimit?: RateLimitInfo }).rateLimit?.resetTime?.getTime() ?? 0) -
            deps.now().getTime()) /
            1000,
        ),
      ),
    handler: (_req, res) =>
      void res
        .status(429)
        .json(errorBody('rate_limited', `at most ${deps.perMinute} requests a minute per API token`)),
  });
}
