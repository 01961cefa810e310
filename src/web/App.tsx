import {
  Component,
  lazy,
  Suspense,
  useEffect,
  useMemo,
  useState,
  type ComponentType,
  type LazyExoticComponent,
  type ReactNode,
} from 'react';
import type { ApiClient } from './api/client';
import { endpoints } from './api/endpoints';
import { formatDay } from './chart-data/dates';
import { AppContext } from './components/AppContext';
import { ErrorState, SessionExpired, Skeleton } from './components/States';

export type PageName = 'repository' | 'workspace' | 'configure' | 'profile';

// One chunk per page: a page loads only its own code (and recharts only where it draws charts).
export const PAGE_LOADERS: Record<PageName, () => Promise<{ default: ComponentType }>> = {
  repository: () => import('./pages/RepositoryPage'),
  workspace: () => import('./pages/WorkspacePage'),
  configure: () => import('./pages/ConfigurePage'),
  profile: () => import('./pages/ProfilePage'),
};

const PAGES = Object.fromEntries(
  Object.entries(PAGE_LOADERS).map(([name, load]) => [name, lazy(load)]),
) as Record<PageName, LazyExoticComponent<ComponentType>>;

class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (this.state.error)
      return <ErrorState error={this.state.error} onRetry={() => this.setState({ error: null })} />;
    return this.props.children;
  }
}

export function App({ page, client }: { page: PageName; client: ApiClient }) {
  const [expired, setExpired] = useState(false);
  useEffect(() => client.onSessionExpired(() => setExpired(true)), [client]);
  const value = useMemo(
    () => ({
      api: endpoints(client),
      params: new URLSearchParams(window.location.search),
      today: formatDay(new Date()),
    }),
    [client],
  );
  const Page = PAGES[page];
  return (
    <AppContext.Provider value={value}>
      {expired ? <SessionExpired /> : null}
      <ErrorBoundary>
        <Suspense fallback={<Skeleton height={400} label="Loading page" />}>
          <Page />
        </Suspense>
      </ErrorBoundary>
    </AppContext.Provider>
  );
}
