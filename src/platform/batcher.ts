/**
 * Group commit for writes that arrive one by one (webhook deliveries): a submitted item waits while `maxInFlight`
 * writes are running, and everything that waits goes into the next write together. Each caller gets its own item's
 * result once the write holding it has finished (so "stored before answering" still holds per item), or that
 * write's error. Under load the per-write cost (a transaction and its commit) is shared by many items; with
 * nothing else in flight an item is written at once, alone. When a batch of several fails, each of its items is
 * written again on its own, so an item the write cannot take fails alone and the others still go through.
 */

interface Waiting<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
}

export class Batcher<I, O> {
  private readonly waiting: Waiting<I, O>[] = [];
  private inFlight = 0;

  constructor(
    /** Writes the items and returns one result per item, in order. */
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly options: { maxBatch: number; maxInFlight: number },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
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
