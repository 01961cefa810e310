import { createRoot } from 'react-dom/client';
import { createApiClient } from './api/client';
import { endpoints } from './api/endpoints';
import { formatDay } from './chart-data/dates';
import { initialFilters } from './hooks/useFilters';
import { prefetchPage } from './host/prefetch';
import { App, PAGE_LOADERS } from './App';
import { setHost, startAutoResize, writeUrlQuery, type Host } from './host/host';
import { applyTheme, colorModeFrom } from './host/theme';
import { serializeFilters, parseFilters } from './state/url-filters';
import './styles/app.css';

/** Starts a page in whichever host the entry script found (src/web/main.tsx: Connect; src/web/forge: Forge). */
export function start(host: Host | null): void {
  const root = document.getElementById('root')!;
  if (!host?.page) {
    root.textContent = 'This page could not start: reload it from Bitbucket.';
    return;
  }
  setHost(host);
  const page = host.page;
  writeUrlQuery(serializeFilters(parseFilters(window.location.search), window.location.search));
  const client = createApiClient(host.transport);
  const api = endpoints(client);
  const today = formatDay(new Date());
  // The page's code, the theme and the page's first data all load at once rather than one after the other;
  // the page's first GETs take the prefetched answers.
  client.prefetch(() => prefetchPage(page, api, host.params, initialFilters(), today));
  void Promise.all([PAGE_LOADERS[page](), applyTheme(colorModeFrom(window.location.search))]).then(
    ([{ default: Page }]) => {
      createRoot(root).render(
        <App Page={Page} client={client} api={api} params={host.params} today={today} />,
      );
      startAutoResize(host);
    },
    () => {
      root.textContent = 'This page could not load: reload it from Bitbucket.';
    },
  );
}
