import { createRoot } from 'react-dom/client';
import { createApiClient } from './api/client';
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
// Fetch the page's code while the theme loads, rather than after it (the same module promise serves lazy()).
if (PAGE_NAMES.includes(page)) void PAGE_LOADERS[page]();
void applyTheme(colorModeFrom(window.location.search)).finally(() => {
  if (!PAGE_NAMES.includes(page) || !token) {
    root.textContent = 'This page could not start: reload it from Bitbucket.';
    return;
  }
  createRoot(root).render(<App page={page} client={createApiClient(token)} />);
  startAutoResize();
});
