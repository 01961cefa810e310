import express, { type Request, type Response } from 'express';
import type { Account, AccountRegistry } from './accounts.js';
import { isRepoModule, pageModules, type PageModule } from './descriptor.js';
import type { ForgeUiHost } from './forge-ui.js';
import { ALL_JS, avatarSvg, HOST_JS, PAGE_CSS } from './host-assets.js';
import { signedIframeUrl, type IframeContext } from './iframe.js';
import type { Installation, Repository, SimState, Workspace } from './store.js';
import { escapeHtml as h } from './util.js';

export interface HostPageDeps {
  state: SimState;
  users: AccountRegistry;
  appKey: string;
  now: () => Date;
  iframeSub: 'account_id' | 'uuid';
  install: (workspace: string, descriptorUrl: string) => Promise<{ status: number; clientKey: string }>;
  /** The Forge app's Custom UI pages (src/simulator/forge-ui.ts), next to the Connect app's. */
  forgeUi?: ForgeUiHost;
}

/** URL path of a host page (relative to webUrl). */
export function hostPagePath(
  ws: string,
  page: { moduleKey: string; repo?: string; targetUserUuid?: string; viewer?: string },
): string {
  const base = page.repo ? `/${ws}/${page.repo}/addon/${page.moduleKey}` : `/${ws}/addon/${page.moduleKey}`;
  const q = new URLSearchParams();
  if (page.targetUserUuid) q.set('target_user', page.targetUserUuid);
  if (page.viewer) q.set('viewer', page.viewer);
  const qs = q.toString();
  return qs ? `${base}?${qs}` : base;
}

/** bitbucket.org stand-in: Bitbucket-like pages that frame the app's modules with signed URLs. */
export function createWebApp(deps: HostPageDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false }));

  const activeInstall = (ws: Workspace): Installation | undefined => {
    const inst = deps.state.installations.get(ws.uuid);
    return inst?.active ? inst : undefined;
  };

  const viewerOf = (req: Request, ws: Workspace): Account => {
    const id = typeof req.query.viewer === 'string' ? req.query.viewer : undefined;
    return (id && deps.users.get(id)) || ws.admin;
  };

  const page = (
    title: string,
    ws: Workspace | undefined,
    viewer: Account | undefined,
    nav: string,
    main: string,
  ): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${h(title)} — Bitbucket</title>
<style>${PAGE_CSS}</style></head><body>
<header><a href="/">Bitbucket</a><span class="sim">SIMULATOR</span>${ws ? `<a href="/${h(ws.slug)}">${h(ws.name)}</a>` : ''}
${viewer ? `<span class="muted" style="color:#deebff;margin-left:auto">Viewing as ${h(viewer.display_name)}</span>` : ''}</header>
<div class="layout"><nav>${nav}</nav><main>${main}</main></div>
<script src="/_sim/host.js"></script></body></html>`;

  const moduleLinks = (
    ws: Workspace,
    modules: PageModule[],
    repo: Repository | undefined,
    active: string | undefined,
    viewer: Account,
  ): string =>
    modules
      .map((m) => {
        const href = hostPagePath(ws.slug, {
          moduleKey: m.key,
          ...(repo ? { repo: repo.slug } : {}),
          ...(viewer !== ws.admin ? { viewer: viewer.account_id } : {}),
        });
        return `<a href="${h(href)}" class="${m.key === active ? 'active' : ''}">${h(m.name)}</a>`;
      })
      .join('');

  const frame = (inst: Installation, module: PageModule, ctx: IframeContext): string => {
    const src = signedIframeUrl(inst, module, ctx, {
      nowSec: Math.floor(deps.now().getTime() / 1000),
      sub: deps.iframeSub,
    });
    const context = JSON.stringify({
      workspace: { slug: inst.workspace.slug, uuid: inst.workspace.uuid },
      ...(ctx.repository
        ? { repository: { uuid: ctx.repository.uuid, full_name: ctx.repository.fullName } }
        : {}),
      user: { uuid: ctx.viewer.uuid, account_id: ctx.viewer.account_id },
    });
    return `<iframe data-ap-frame id="${h(`${deps.appKey}__${module.key}`)}" src="${h(src)}" data-context="${h(context)}"></iframe>`;
  };

  const notFound = (res: Response, what: string): void => {
    res
      .status(404)
      .type('html')
      .send(page('Not found', undefined, undefined, '', `<h1>${h(what)}</h1>`));
  };

  app.get('/_sim/host.js', (_req, res) => res.type('application/javascript').send(HOST_JS));
  app.get('/atlassian-connect/all.js', (_req, res) => res.type('application/javascript').send(ALL_JS));
  app.get('/_sim/avatar/:kind/:file', (req, res) => {
    const id = String(req.params.file).replace(/\.svg$/, '');
    const account = req.params.kind === 'user' ? deps.users.get(id) : undefined;
    res.type('image/svg+xml').send(avatarSvg(id, account?.display_name ?? id));
  });

  app.get('/', (_req, res) => {
    const list = [...deps.state.workspaces.values()]
      .map(
        (ws) =>
          `<li><a href="/${h(ws.slug)}">${h(ws.name)}</a> <span class="muted">${activeInstall(ws) ? 'app installed' : 'app not installed'}</span></li>`,
      )
      .join('');
    res
      .type('html')
      .send(page('Workspaces', undefined, undefined, '', `<h1>Workspaces</h1><ul>${list}</ul>`));
  });

  // Install flow: /site/addons/authorize?descriptor_uri=…&redirect_uri=… (redirect carries client_key).
  app.get('/site/addons/authorize', (req, res) => {
    const descriptorUri = String(req.query.descriptor_uri ?? '');
    const options = [...deps.state.workspaces.values()]
      .map((ws) => `<option value="${h(ws.slug)}">${h(ws.name)}</option>`)
      .join('');
    res.type('html').send(
      page(
        'Grant access',
        undefined,
        undefined,
        '',
        `<h1>Grant access</h1><p>Install the app described at <code>${h(descriptorUri)}</code>?</p>
<form method="post"><input type="hidden" name="descriptor_uri" value="${h(descriptorUri)}">
<input type="hidden" name="redirect_uri" value="${h(String(req.query.redirect_uri ?? ''))}">
<label>Workspace <select name="workspace">${options}</select></label> <button type="submit">Grant access</button></form>`,
      ),
    );
  });

  app.post('/site/addons/authorize', async (req, res) => {
    const body = req.body as Record<string, string>;
    try {
      const result = await deps.install(body.workspace ?? '', body.descriptor_uri ?? '');
      if (result.status < 200 || result.status >= 300)
        throw new Error(`installed callback answered ${result.status}`);
      const redirect = body.redirect_uri || `/${body.workspace}`;
      res.redirect(
        `${redirect}${redirect.includes('?') ? '&' : '?'}client_key=${encodeURIComponent(result.clientKey)}`,
      );
    } catch (err) {
      res
        .status(400)
        .type('html')
        .send(
          page(
            'Install failed',
            undefined,
            undefined,
            '',
            `<h1>Install failed</h1><pre>${h((err as Error).message)}</pre>`,
          ),
        );
    }
  });

  if (deps.forgeUi) app.use(deps.forgeUi.router({ viewerOf, render: (...args) => page(...args), notFound }));

  app.get('/:ws', (req, res) => {
    const ws = deps.state.findWorkspace(String(req.params.ws));
    if (!ws) return notFound(res, 'Workspace not found');
    const viewer = viewerOf(req, ws);
    const inst = activeInstall(ws);
    const wsModules = inst ? pageModules(inst.descriptor).filter((m) => !isRepoModule(m)) : [];
    // Each repository row links the app's repository pages for that repository.
    const repoModules = inst
      ? pageModules(inst.descriptor).filter((m) => isRepoModule(m) && m.kind !== 'webPanel')
      : [];
    const repos = deps.state
      .repositoriesOf(ws)
      .map(
        (r) =>
          `<tr><td><a href="/${h(ws.slug)}/${h(r.slug)}">${h(r.name)}</a></td><td class="muted">${r.graph.size} commits</td><td>${(moduleLinks(ws, repoModules, r, undefined, viewer) + (deps.forgeUi?.navLinks(ws, viewer, r) ?? '')).replace(/<a /g, '<a style="display:inline;margin-right:8px" ')}</td></tr>`,
      )
      .join('');
    const apps =
      moduleLinks(ws, wsModules, undefined, undefined, viewer) + (deps.forgeUi?.navLinks(ws, viewer) ?? '');
    const nav = `<h2>Workspace</h2><a href="/${h(ws.slug)}" class="active">Repositories</a>${apps ? `<h2>Apps</h2>${apps}` : ''}`;
    res
      .type('html')
      .send(
        page(
          ws.name,
          ws,
          viewer,
          nav,
          `<h1>Repositories</h1><table>${repos}</table>${inst || apps ? '' : '<p class="muted">The app is not installed in this workspace.</p>'}`,
        ),
      );
  });

  const renderModule = (
    req: Request,
    res: Response,
    repoSlug: string | undefined,
    moduleKey: string,
  ): void => {
    const ws = deps.state.findWorkspace(String(req.params.ws));
    if (!ws) return notFound(res, 'Workspace not found');
    const repo = repoSlug === undefined ? undefined : deps.state.findRepository(ws, repoSlug);
    if (repoSlug !== undefined && !repo) return notFound(res, 'Repository not found');
    const inst = activeInstall(ws);
    if (!inst) return notFound(res, 'The app is not installed in this workspace');
    const module = pageModules(inst.descriptor).find((m) => m.key === moduleKey);
    if (!module) return notFound(res, `No module "${moduleKey}"`);
    const viewer = viewerOf(req, ws);
    const target =
      typeof req.query.target_user === 'string'
        ? deps.users.get(req.query.target_user)
        : module.kind === 'profileTab'
          ? viewer // a profile tab opened from the sidebar shows the viewer's own profile
          : undefined;
    const ctx: IframeContext = {
      viewer,
      ...(repo ? { repository: repo } : {}),
      ...(target ? { targetUser: target } : {}),
    };
    const modules = pageModules(inst.descriptor).filter((m) => (repo ? isRepoModule(m) : !isRepoModule(m)));
    const nav = repo
      ? `<h2>${h(repo.name)}</h2><a href="/${h(ws.slug)}/${h(repo.slug)}">Source</a><h2>Apps</h2>${moduleLinks(ws, modules, repo, module.key, viewer)}`
      : `<h2>Workspace</h2><a href="/${h(ws.slug)}">Repositories</a><h2>Apps</h2>${moduleLinks(ws, modules, undefined, module.key, viewer)}`;
    res
      .type('html')
      .send(page(module.name, ws, viewer, nav, `<h1>${h(module.name)}</h1>${frame(inst, module, ctx)}`));
  };

  app.get('/:ws/addon/:moduleKey', (req, res) =>
    renderModule(req, res, undefined, String(req.params.moduleKey)),
  );
  app.get('/:ws/:repo/addon/:moduleKey', (req, res) =>
    renderModule(req, res, String(req.params.repo), String(req.params.moduleKey)),
  );
  app.get('/:ws/:repo/addon/:appKey/:moduleKey', (req, res) =>
    renderModule(req, res, String(req.params.repo), String(req.params.moduleKey)),
  );

  app.get('/:ws/:repo', (req, res) => {
    const ws = deps.state.findWorkspace(String(req.params.ws));
    const repo = ws && deps.state.findRepository(ws, String(req.params.repo));
    if (!ws || !repo) return notFound(res, 'Repository not found');
    const viewer = viewerOf(req, ws);
    const inst = activeInstall(ws);
    const modules = inst ? pageModules(inst.descriptor).filter(isRepoModule) : [];
    const apps =
      moduleLinks(
        ws,
        modules.filter((m) => m.kind !== 'webPanel'),
        repo,
        undefined,
        viewer,
      ) + (deps.forgeUi?.navLinks(ws, viewer, repo) ?? '');
    const nav = `<h2>${h(repo.name)}</h2><a href="/${h(ws.slug)}/${h(repo.slug)}" class="active">Source</a>${
      apps ? `<h2>Apps</h2>${apps}` : ''
    }`;
    const panels = inst
      ? modules
          .filter((m) => m.kind === 'webPanel')
          .map((m) => `<h2>${h(m.name)}</h2>${frame(inst, m, { viewer, repository: repo })}`)
          .join('')
      : '';
    const branches = [...repo.branches.keys()]
      .sort()
      .map((b) => `<li>${h(b)}${b === repo.mainbranch ? ' <span class="muted">(main)</span>' : ''}</li>`)
      .join('');
    res
      .type('html')
      .send(
        page(
          repo.fullName,
          ws,
          viewer,
          nav,
          `<h1>${h(repo.name)}</h1><p class="muted">${repo.graph.size} commits · ${repo.pullRequests.size} pull requests</p>${panels}<h2>Branches</h2><ul>${branches}</ul>`,
        ),
      );
  });

  return app;
}
