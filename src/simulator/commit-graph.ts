/**
 * The commit DAG of one repository, indexed for a million commits: node ids are array indexes,
 * parents are stored in CSR form, and orderings are Int32Arrays. Nothing here is O(n²).
 */
export class CommitGraph {
  private readonly hashes: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly times: number[] = [];
  /** CSR: parents of node i are parentIdx[parentStart[i] .. parentStart[i+1]); -1 = not in history. */
  private readonly parentStart: number[] = [0];
  private readonly parentIdx: number[] = [];

  /** Newest-first topological order over every node (reachable or not), built lazily. */
  private order: Int32Array | null = null;
  private orderedCount = 0;
  private sortedHashes: string[] | null = null;

  get size(): number {
    return this.hashes.length;
  }

  /**
   * Adds nodes in bulk, in any order (exports list children before parents).
   * Parents outside the history are recorded as missing and skipped by walks.
   */
  addAll(nodes: { hash: string; parents: string[]; timeMs: number }[]): void {
    const first = this.hashes.length;
    for (const node of nodes) {
      if (this.index.has(node.hash)) throw new Error(`Duplicate commit ${node.hash}`);
      this.index.set(node.hash, this.hashes.length);
      this.hashes.push(node.hash);
      this.times.push(node.timeMs);
    }
    for (let i = 0; i < nodes.length; i++) {
      for (const p of nodes[i]!.parents) this.parentIdx.push(this.index.get(p) ?? -1);
      this.parentStart.push(this.parentIdx.length);
    }
    // Single appends keep the cached order (see fullOrder); bulk loads re-sort.
    if (nodes.length !== 1 || first === 0) this.order = null;
    this.sortedHashes = null;
  }

  /** Appends one new commit whose parents are already known (pushes). */
  append(hash: string, parents: string[], timeMs: number): number {
    this.addAll([{ hash, parents, timeMs }]);
    return this.hashes.length - 1;
  }

  has(hash: string): boolean {
    return this.index.has(hash);
  }

  idOf(hash: string): number | undefined {
    return this.index.get(hash);
  }

  hashOf(id: number): string {
    return this.hashes[id]!;
  }

  timeOf(id: number): number {
    return this.times[id]!;
  }

  parentsOf(id: number): number[] {
    const out: number[] = [];
    for (let k = this.parentStart[id]!; k < this.parentStart[id + 1]!; k++) {
      const p = this.parentIdx[k]!;
      if (p >= 0) out.push(p);
    }
    return out;
  }

  firstParentOf(id: number): number {
    return this.parentStart[id + 1]! > this.parentStart[id]! ? this.parentIdx[this.parentStart[id]!]! : -1;
  }

  /** Resolves a unique hash prefix (≥ 4 hex chars) the way git does; undefined if unknown/ambiguous. */
  resolvePrefix(prefix: string): number | undefined {
    const p = prefix.toLowerCase();
    if (!/^[0-9a-f]{4,40}$/.test(p)) return undefined;
    const exact = this.index.get(p);
    if (exact !== undefined) return exact;
    if (!this.sortedHashes) this.sortedHashes = [...this.hashes].sort();
    const sorted = this.sortedHashes;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < p) lo = mid + 1;
      else hi = mid;
    }
    const hit = sorted[lo];
    if (hit === undefined || !hit.startsWith(p)) return undefined;
    if (sorted[lo + 1]?.startsWith(p)) return undefined; // ambiguous
    return this.index.get(hit);
  }

  /** Marks every node reachable from `starts` (stopping at `stop`), like `git rev-list`. */
  reach(starts: number[], stop?: Uint8Array): Uint8Array {
    const seen = new Uint8Array(this.hashes.length);
    const stack: number[] = [];
    for (const s of starts) {
      if (s >= 0 && !seen[s] && !stop?.[s]) {
        seen[s] = 1;
        stack.push(s);
      }
    }
    while (stack.length > 0) {
      const id = stack.pop()!;
      for (let k = this.parentStart[id]!; k < this.parentStart[id + 1]!; k++) {
        const p = this.parentIdx[k]!;
        if (p >= 0 && !seen[p] && !stop?.[p]) {
          seen[p] = 1;
          stack.push(p);
        }
      }
    }
    return seen;
  }

  /** `git log <include…> ^<exclude…>`: newest first, every commit before its parents. */
  query(include: number[], exclude: number[]): Int32Array {
    const stop = exclude.length > 0 ? this.reach(exclude) : undefined;
    const keep = this.reach(include, stop);
    const order = this.fullOrder();
    let count = 0;
    for (let i = 0; i < order.length; i++) if (keep[order[i]!]) count++;
    const out = new Int32Array(count);
    let j = 0;
    for (let i = 0; i < order.length; i++) {
      const id = order[i]!;
      if (keep[id]) out[j++] = id;
    }
    return out;
  }

  /** True when `ancestor` is reachable from `descendant` (or equal). */
  isAncestor(ancestor: number, descendant: number): boolean {
    if (ancestor === descendant) return true;
    const seen = new Uint8Array(this.hashes.length);
    const stack = [descendant];
    seen[descendant] = 1;
    while (stack.length > 0) {
      const id = stack.pop()!;
      for (let k = this.parentStart[id]!; k < this.parentStart[id + 1]!; k++) {
        const p = this.parentIdx[k]!;
        if (p === ancestor) return true;
        if (p >= 0 && !seen[p]) {
          seen[p] = 1;
          stack.push(p);
        }
      }
    }
    return false;
  }

  /**
   * Date-ordered topological sort (git's `--date-order`): a commit is emitted only after all
   * its children; among ready commits the newest committer time wins. Commits appended after
   * the sort are prepended newest-appended first, which keeps the order topological.
   */
  fullOrder(): Int32Array {
    const n = this.hashes.length;
    if (this.order && this.orderedCount === n) return this.order;
    if (this.order && this.orderedCount < n) {
      const grown = new Int32Array(n);
      let j = 0;
      for (let id = n - 1; id >= this.orderedCount; id--) grown[j++] = id;
      grown.set(this.order, j);
      this.order = grown;
      this.orderedCount = n;
      return grown;
    }
    this.order = this.sortAll();
    this.orderedCount = n;
    return this.order;
  }

  private sortAll(): Int32Array {
    const n = this.hashes.length;
    const times = this.times;
    const childCount = new Int32Array(n);
    for (let k = 0; k < this.parentIdx.length; k++) {
      const p = this.parentIdx[k]!;
      if (p >= 0) childCount[p]!++;
    }
    const heap = new Int32Array(n);
    let size = 0;
    const before = (a: number, b: number): boolean =>
      times[a]! > times[b]! || (times[a] === times[b] && a < b);
    const push = (id: number): void => {
      let i = size++;
      heap[i] = id;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!before(heap[i]!, heap[parent]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    };
    const pop = (): number => {
      const top = heap[0]!;
      heap[0] = heap[--size]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < size && before(heap[l]!, heap[best]!)) best = l;
        if (r < size && before(heap[r]!, heap[best]!)) best = r;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
      return top;
    };
    for (let id = 0; id < n; id++) if (childCount[id] === 0) push(id);
    const out = new Int32Array(n);
    let j = 0;
    while (size > 0) {
      const id = pop();
      out[j++] = id;
      for (let k = this.parentStart[id]!; k < this.parentStart[id + 1]!; k++) {
        const p = this.parentIdx[k]!;
        if (p >= 0 && --childCount[p]! === 0) push(p);
      }
    }
    if (j < n) {
      // Only a cyclic (corrupt) input gets here; keep every node listed anyway.
      const listed = new Uint8Array(n);
      for (let i = 0; i < j; i++) listed[out[i]!] = 1;
      for (let id = 0; id < n; id++) if (!listed[id]) out[j++] = id;
    }
    return out;
  }
}
