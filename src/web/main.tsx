import { createRoot } from 'react-dom/client';
import { createApiClient } from './api/client';
import { endpoints } from './api/endpoints';
import { formatDay } from './chart-data/dates';
import { initialFilters } from './hooks/useFilters';
import { prefetchPage } from './host/prefetch';
import { App, PAGE_LOADERS, type PageName } from './App';
import { startAutoResize, writeUrlQuery } from './host/ap';
import { applyTheme, colorModeFrom } from './host/theme';
import { serializeFilters, parseFilters } from './state/url-filters';
import './styles/app.css';

/**
 * Entry of every Tally iframe page. The server rendered `views/page.html` with the page name and a 15-minute
 * session token in meta tags; Bitbucket's one-time `jwt` is dropped from the address at once so it is never
 * copied or re-used.
 */
const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
const PAGE_NAMES: PageName[] = ['repository', 'workspace', 'configure', 'profile'];

const page = meta('tally-page') as PageName;
const token = meta('tally-token');
writeUrlQuery(serializeFilters(parseFilters(window.location.search), window.location.search));

const root = document.getElementById('root')!;
const client = createApiClient(token);
const api = endpoints(client);
const today = formatDay(new Date());
if (!PAGE_NAMES.includes(page) || !token) {
  root.textContent = 'This page could not start: reload it from Bitbucket.';
} else {
  // The page's code, the theme and the page's first data all load at once rather than one after the other;
  // the page's first GETs take the prefetched answers.
  const params = new URLSearchParams(window.location.search);
  client.prefetch(() => prefetchPage(page, api, params, initialFilters(), today));
  void Promise.all([PAGE_LOADERS[page](), applyTheme(colorModeFrom(window.location.search))]).then(
    ([{ default: Page }]) => {
      createRoot(root).render(<App Page={Page} client={client} api={api} today={today} />);
      startAutoResize();
    },
    () => {
      root.textContent = 'This page could not load: reload it from Bitbucket.';
    },
  );
}
