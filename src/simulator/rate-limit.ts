/**
 * Sliding-window request counter per key (clientKey + resource), like Bitbucket's rolling hour.
 * Only admitted requests are counted: a 429 does not extend the lock-out (Bitbucket's
 * behaviour here is UNCONFIRMED; this choice lets a client that backs off recover on time).
 */
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, { times: number[]; head: number }>();

  /** Returns true and records the hit when under the limit; false when it must be refused. */
  admit(key: string, nowMs: number, limit: number, windowMs: number): boolean {
    if (limit === Infinity) return true;
    let entry = this.hits.get(key);
    if (!entry) {
      entry = { times: [], head: 0 };
      this.hits.set(key, entry);
    }
    const cutoff = nowMs - windowMs;
    while (entry.head < entry.times.length && entry.times[entry.head]! <= cutoff) entry.head++;
    // Compact occasionally so the array does not grow without bound.
    if (entry.head > 1024 && entry.head * 2 > entry.times.length) {
      entry.times = entry.times.slice(entry.head);
      entry.head = 0;
    }
    if (entry.times.length - entry.head >= limit) return false;
    entry.times.push(nowMs);
    return true;
  }

  /** Requests counted in the window as of the last `admit` of this key (cheap: no scan). */
  admitted(key: string): number {
    const entry = this.hits.get(key);
    return entry ? entry.times.length - entry.head : 0;
  }

  /** Requests counted in the current window (for tests and the demo). */
  used(key: string, nowMs: number, windowMs: number): number {
    const entry = this.hits.get(key);
    if (!entry) return 0;
    return entry.times.slice(entry.head).filter((t) => t > nowMs - windowMs).length;
  }

  reset(): void {
    this.hits.clear();
  }
}

/** Bitbucket's documented base for /2.0/repositories/* and the scaled limit's cap (reference §6). */
const BASE_PER_HOUR = 1000;
const MAX_SCALED_PER_HOUR = 10_000;

/** Scaled rate limits: 1000 + 10 × (paid seats − 100) an hour for workspaces above 100 seats, at most 10,000. */
export function scaledLimit(seats: number): number {
  return Math.min(MAX_SCALED_PER_HOUR, BASE_PER_HOUR + 10 * Math.max(0, seats - 100));
}

/**
 * X-RateLimit-NearLimit's threshold is not documented for Bitbucket; the simulator says `true` once less than a
 * fifth of the limit remains, as Atlassian documents the header for Jira Cloud.
 */
export const NEAR_LIMIT_REMAINING_SHARE = 0.2;

/** The headers an answer to an access token or Forge app carries (the `api` resource: /2.0/repositories/*). */
export function rateLimitHeaders(limit: number, used: number): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Resource': 'api',
    'X-RateLimit-NearLimit': String(limit - used < limit * NEAR_LIMIT_REMAINING_SHARE),
  };
}
