/**
 * Bounds what a process holds at once, fairly across keys (tenants): at most `capacity` items in all, and at most
 * `share` of them for any one key, so one key's flood always leaves room for the others. A refused caller is told
 * to come back later (the webhook intake answers 503 + Retry-After; Bitbucket resends). The limits hold whatever
 * the load: memory held for waiting items is bounded by `capacity` times an item's largest size.
 */
export class FairAdmission {
  private readonly held = new Map<string, number>();
  private total = 0;
  /** Items one key may hold at once. */
  readonly perKey: number;

  constructor(
    readonly capacity: number,
    /** The fraction of `capacity` one key may hold (0 < share ≤ 1). */
    share: number,
  ) {
    if (!(capacity >= 1) || !(share > 0 && share <= 1))
      throw new Error('admission needs capacity ≥ 1, 0 < share ≤ 1');
    this.perKey = Math.max(1, Math.floor(capacity * share));
  }

  /** A slot for `key`, released by calling the returned function (once; later calls do nothing), or null when full. */
  tryAdmit(key: string): (() => void) | null {
    const held = this.held.get(key) ?? 0;
    if (this.total >= this.capacity || held >= this.perKey) return null;
    this.held.set(key, held + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = this.held.get(key)! - 1;
      if (left === 0) this.held.delete(key);
      else this.held.set(key, left);
    };
  }

  /** Items held now, in all and for one key. */
  holding(key?: string): number {
    return key === undefined ? this.total : (this.held.get(key) ?? 0);
  }
}
