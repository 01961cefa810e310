import { useMemo } from 'react';
import type { StatsQuery } from '../api/endpoints';
import { useApp } from '../components/AppContext';
import { buildStatsQuery } from '../state/stats-query';
import type { Filters } from '../state/url-filters';

/** The API query for the current filters, stable while they do not change (a memo key for useApi). */
export function useStatsQuery(filters: Filters, repos: string[]): { query: StatsQuery; key: string } {
  const { today } = useApp();
  return useMemo(() => {
    const query = buildStatsQuery(filters, repos, today);
    return { query, key: JSON.stringify(query) };
  }, [filters, repos, today]);
}
