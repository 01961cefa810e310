import { createContext, useContext } from 'react';
import type { Endpoints } from '../api/endpoints';

export interface AppContextValue {
  api: Endpoints;
  /** The page's parameters (repoUuid, repoPath, workspace, user): the page URL's (Connect) or the module context's (Forge). */
  params: URLSearchParams;
  /** Today as `YYYY-MM-DD`: ranges end here. */
  today: string;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside AppContext');
  return value;
}
