/**
 * Group commit for writes that arrive one by one (webhook deliveries): a submitted item waits while `maxInFlight`
 * writes are running, and everything that waits goes into the next write together. Each caller gets its own item's
 * result once the write holding it has finished (so "stored before answering" still holds per item), or that
 * write's error. Under load the per-write cost (a transaction and its commit) is shared by many items; with
 * nothing else in flight an item is written at once, alone. When a batch of several fails, each of its items is
 * written again on its own, so an item the write cannot take fails alone and the others still go through.
 *
 * Batches are fair across keys (tenants): a batch takes one item from each waiting key in turn, so an item of a
 * quiet key goes into the next write however many items a busy key has waiting. A batch holds at most `maxBatch`
 * items and `maxBytes` bytes (a single larger item goes alone). The waiting items are bounded by the caller (see
 * FairAdmission), not here.
 */

interface Waiting<I, O> {
  item: I;
  bytes: number;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
}

export interface BatcherOptions {
  maxBatch: number;
  maxBytes: number;
  maxInFlight: number;
}

export class Batcher<I, O> {
  /** Waiting items per key; the Map's order is the order of turns (a key that had its turn moves to the end). */
  private readonly waiting = new Map<string, Waiting<I, O>[]>();
  private inFlight = 0;

  constructor(
    /** Writes the items and returns one result per item, in order. */
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions,
  ) {}

  /** `bytes`: the item's size, counted against the batch's byte cap. */
  submit(item: I, key = '', bytes = 0): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const queue = this.waiting.get(key);
      if (queue) queue.push({ item, bytes, resolve, reject });
      else this.waiting.set(key, [{ item, bytes, resolve, reject }]);
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.size > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  /** The next batch: one item per key in turn, until the batch is full by count or by bytes. */
  private take(): Waiting<I, O>[] {
    const batch: Waiting<I, O>[] = [];
    let bytes = 0;
    for (const [key, queue] of this.waiting) {
      if (batch.length >= this.options.maxBatch) break;
      const next = queue[0]!;
      if (batch.length > 0 && bytes + next.bytes > this.options.maxBytes) break;
      batch.push(queue.shift()!);
      bytes += next.bytes;
      // Deleting and setting again moves the key to the end of the turns (a Map iterator visits keys set
      // during the iteration, so the loop goes round again until the batch is full or nothing waits).
      this.waiting.delete(key);
      if (queue.length > 0) this.waiting.set(key, queue);
    }
    return batch;
  }

  private async run(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const results = await this.write(batch.map((w) => w.item));
      if (results.length !== batch.length) throw new Error('a batch write returned the wrong count');
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      for (const waiting of batch) await this.run([waiting]);
    }
  }
}
