import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { requireConnectJwt, type AuthDeps } from '../connect/auth';
import { createSessionToken } from '../connect/jwt';

export const PAGES = {
  repository: 'Graphs',
  workspace: 'Workspace analytics',
  configure: 'Configure Tally',
  profile: 'Contributions',
} as const;

export type PageName = keyof typeof PAGES;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface PageAssets {
  /** `<link>` and `<script>` tags of the built UI (empty before the first build). */
  styles: string;
  scripts: string;
}

export interface PagesDeps extends AuthDeps {
  viewsDir: string;
  assets: () => PageAssets;
}

/**
 * Iframe pages. Bitbucket loads them with `?jwt=` (real qsh); the page gets a 15-minute session token in a meta tag
 * (never in a URL) for its API calls.
 */
export function pagesRouter(deps: PagesDeps): Router {
  const router = express.Router();
  const template = readFileSync(path.join(deps.viewsDir, 'page.html'), 'utf8');

  router.get('/:page', requireConnectJwt(deps, 'page'), async (req, res, next) => {
    try {
      const page = req.params.page as PageName;
      if (!(page in PAGES)) return void res.status(404).json({ error: 'no such page' });
      const viewer = res.locals.viewer!;
      const secret = await deps.tenants.sharedSecret(viewer.tenant.clientKey);
      const sessionToken = createSessionToken({
        appKey: deps.appKey,
        clientKey: viewer.tenant.clientKey,
        secret: secret!,
        viewer: viewer.accountId,
      });
      const assets = deps.assets();
      const values: Record<string, string> = {
        page: escapeHtml(page),
        title: escapeHtml(PAGES[page]),
        sessionToken: escapeHtml(sessionToken),
        allJsUrl: escapeHtml(`${viewer.tenant.baseUrl}/atlassian-connect/all.js`),
        styles: assets.styles,
        scripts: assets.scripts,
      };
      res.type('html').send(template.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => values[key] ?? ''));
    } catch (error) {
      next(error);
    }
  });
  return router;
}
