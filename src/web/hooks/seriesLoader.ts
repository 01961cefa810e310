import type { PeriodPoint } from '../chart-data/series';

/**
 * Per-contributor series come one request each (`/stats/activity?contributor=`), so they are cached per filter
 * set and fetched at most `concurrency` at a time: the stack's top contributors first, then cards as they show.
 */
export interface SeriesLoader {
  load(key: string): Promise<PeriodPoint[]>;
}

export function createSeriesLoader(
  fetchSeries: (key: string) => Promise<PeriodPoint[]>,
  concurrency = 4,
): SeriesLoader {
  const cache = new Map<string, Promise<PeriodPoint[]>>();
  const waiting: (() => void)[] = [];
  let running = 0;
  const slot = async () => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
  };
  const release = () => {
    running--;
    waiting.shift()?.();
  };
  return {
    load(key) {
      let pending = cache.get(key);
      if (!pending) {
        pending = slot().then(() => fetchSeries(key).finally(release));
        // A failed load may be retried later.
        pending.catch(() => cache.delete(key));
        cache.set(key, pending);
      }
      return pending;
    },
  };
}
