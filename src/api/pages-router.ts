import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { authenticate, type AuthDeps } from '../connect/auth';
import { createSessionToken, TokenError } from '../connect/jwt';
import { scopeForPage, type PageName, type ViewerScope } from '../connect/session-scope';
import { HttpError } from '../platform/errors';

export const PAGES: Record<PageName, string> = {
  repository: 'Graphs',
  workspace: 'Workspace analytics',
  configure: 'Configure Tally',
  profile: 'Contributions',
};

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface PageAssets {
  /** `<link>` and `<script>` tags of the built UI (empty before the first build). */
  styles: string;
  scripts: string;
}

/** The page shown when a page's (signed) query does not say what it shows: no token is minted. */
function badPage(reason: string, styles: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8" /><title>Tally · This page cannot be shown</title>${styles}</head>
<body><main id="root"><div class="banner warning" role="alert" data-testid="page-refused"><div><h1 style="font-size:16px;margin:0 0 4px">This page cannot be shown</h1><p>Open it from Bitbucket. (${escapeHtml(reason)})</p></div></div></main></body></html>`;
}

/** The page shown when Bitbucket's page token is refused: expired (the usual case) or not valid. */
function refusedPage(reason: string, styles: string): string {
  const expired = reason === 'token expired';
  const title = expired ? 'This page has expired — reload the page' : 'Tally could not verify this page';
  const detail = expired
    ? 'Bitbucket signs each Tally page for a few minutes only. Reload the page in your browser to open it again.'
    : `Reload the page in Bitbucket. If this keeps happening, ask a workspace admin to reinstall Tally. (${escapeHtml(reason)})`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8" /><title>Tally · ${escapeHtml(title)}</title>${styles}</head>
<body><main id="root"><div class="banner warning" role="alert" data-testid="page-refused"><div><h1 style="font-size:16px;margin:0 0 4px">${escapeHtml(title)}</h1><p>${detail}</p></div></div></main></body></html>`;
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

  // A person sees this page, not a program: a refused page token answers 401 with a readable explanation.
  const pageAuth: express.RequestHandler = (req, res, next) => {
    authenticate(deps, 'page', req).then(
      (viewer) => {
        res.locals.viewer = viewer;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof TokenError)) return next(error);
        res.status(401).type('html').send(refusedPage(error.message, deps.assets().styles));
      },
    );
  };

  router.get('/:page', pageAuth, async (req, res, next) => {
    try {
      const page = req.params.page as PageName;
      if (!Object.hasOwn(PAGES, page)) return void res.status(404).json({ error: 'no such page' });
      const viewer = res.locals.viewer!;
      // The scope comes from the page and its query, both under Bitbucket's qsh: nothing unsigned widens it.
      let scope: ViewerScope;
      try {
        scope = scopeForPage(page, req.query);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        return void res.status(400).type('html').send(badPage(error.message, deps.assets().styles));
      }
      const secret = await deps.tenants.sharedSecret(viewer.tenant.clientKey);
      const sessionToken = createSessionToken({
        appKey: deps.appKey,
        clientKey: viewer.tenant.clientKey,
        secret: secret!,
        viewer: viewer.accountId,
        page,
        scope,
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
