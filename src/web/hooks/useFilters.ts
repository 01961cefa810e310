import { useCallback, useState } from 'react';
import { hostState, writeUrlQuery } from '../host/host';
import { parseFilters, serializeFilters, type Filters } from '../state/url-filters';

/** The filters a page starts with: its own URL's, else those the host kept for it (AP.history). */
export function initialFilters(): Filters {
  const own = window.location.search;
  const saved = hostState();
  return parseFilters(
    saved && !/[?&](range|from|metric|merges|bots|repos|interval)=/.test(own) ? saved : own,
  );
}

/** Filters from the URL (or the host's saved state), written back on every change. */
export function useFilters(): [Filters, (change: Partial<Filters>) => void] {
  const [filters, setFilters] = useState<Filters>(initialFilters);
  const update = useCallback((change: Partial<Filters>) => {
    setFilters((current) => {
      const next = { ...current, ...change };
      if (change.range && change.range !== 'custom') {
        next.from = null;
        next.to = null;
      }
      // Days over all time could be more than the server's ten years of buckets.
      if (next.range === 'all' && next.interval === 'day') next.interval = 'auto';
      writeUrlQuery(serializeFilters(next, window.location.search));
      return next;
    });
  }, []);
  return [filters, update];
}
