import { useMemo } from 'react';
import type { StatsQuery } from '../api/endpoints';
import { useApp } from '../components/AppContext';
import { requestInterval, resolveRange, type Filters } from '../state/url-filters';

/** The API query for the current filters, stable while they do not change (a memo key for useApi). */
export function useStatsQuery(filters: Filters, repos: string[]): { query: StatsQuery; key: string } {
  const { today } = useApp();
  return useMemo(() => {
    const range = resolveRange(filters, today);
    const query: StatsQuery = {
      repos,
      from: range.from,
      to: range.to,
      interval: requestInterval(range),
      merges: filters.merges,
      bots: filters.bots,
    };
    return { query, key: JSON.stringify(query) };
  }, [filters.range, filters.from, filters.to, filters.merges, filters.bots, repos.join(','), today]);
}
