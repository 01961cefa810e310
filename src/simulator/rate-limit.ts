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
