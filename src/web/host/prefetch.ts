import type { Endpoints } from '../api/endpoints';
import { addDays } from '../chart-data/dates';
import { buildStatsQuery } from '../state/stats-query';
import type { Filters } from '../state/url-filters';
import type { PageName } from '../App';

/**
 * The first API calls of each page, started by the entry script before the page's code has loaded (through
 * ApiClient.prefetch). They must be exactly the calls the page makes first, or they are simply wasted.
 */
export function prefetchPage(
  page: PageName,
  api: Endpoints,
  params: URLSearchParams,
  filters: Filters,
  today: string,
) {
  switch (page) {
    case 'repository': {
      const query = buildStatsQuery(filters, [params.get('repoUuid') ?? ''], today);
      return Promise.all([api.activity(query), api.contributors(query), api.punchCard(query)]);
    }
    case 'workspace': {
      const query = buildStatsQuery(filters, filters.repos, today);
      return Promise.all([
        api.repositories(),
        api.activity(query),
        api.contributors(query),
        api.punchCard(query),
        api.topRepositories(query),
        api.pullRequests(query),
      ]);
    }
    case 'profile':
      return Promise.all([
        api.calendar(params.get('user') ?? '', addDays(today, -364), today, filters.merges),
        api.repositories(),
      ]);
    case 'configure':
      return Promise.all([api.repositories(), api.settings(), api.me()]);
  }
}
