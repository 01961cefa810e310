import type { StatsQuery } from '../api/endpoints';
import { requestInterval, resolveRange, type Filters } from './url-filters';

/** The API query for a set of filters and repositories (empty = the whole workspace), ending today. */
export function buildStatsQuery(filters: Filters, repos: string[], today: string): StatsQuery {
  const range = resolveRange(filters, today);
  return {
    repos,
    projects: filters.projects,
    from: range.from,
    to: range.to,
    interval: requestInterval(range, filters.interval),
    merges: filters.merges,
    bots: filters.bots,
  };
}
