import { Component, useEffect, useMemo, useState, type ComponentType, type ReactNode } from 'react';
import type { ApiClient } from './api/client';
import type { Endpoints } from './api/endpoints';
import { AppContext } from './components/AppContext';
import { DrillDownProvider } from './components/DrillDown';
import { ErrorState, FreshnessStatus, SessionExpired } from './components/States';

export type PageName = 'repository' | 'workspace' | 'configure' | 'profile';

// One chunk per page: a page loads only its own code (and recharts only where it draws charts).
export const PAGE_LOADERS: Record<PageName, () => Promise<{ default: ComponentType }>> = {
  repository: () => import('./pages/RepositoryPage'),
  workspace: () => import('./pages/WorkspacePage'),
  configure: () => import('./pages/ConfigurePage'),
  profile: () => import('./pages/ProfilePage'),
};

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

/**
 * The page is loaded before the first render (not React.lazy): a Suspense fallback would hold the first paint
 * back by React's fallback throttle.
 */
export function App({
  Page,
  client,
  api,
  params,
  today,
}: {
  Page: ComponentType;
  client: ApiClient;
  api: Endpoints;
  params: URLSearchParams;
  today: string;
}) {
  const [expired, setExpired] = useState(false);
  useEffect(() => client.onSessionExpired(() => setExpired(true)), [client]);
  const value = useMemo(() => ({ api, params, today }), [api, params, today]);
  return (
    <AppContext.Provider value={value}>
      {expired ? <SessionExpired /> : null}
      <FreshnessStatus freshness={api.freshness} />
      <ErrorBoundary>
        <DrillDownProvider>
          <Page />
        </DrillDownProvider>
      </ErrorBoundary>
    </AppContext.Provider>
  );
}
