import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response } from 'express';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Account, AccountRegistry } from './accounts.js';
import type { ForgeInstallation } from './forge-app.js';
import type { Repository, SimState, Workspace } from './store.js';
import { escapeHtml as h, unbraced } from './util.js';

/**
 * Bitbucket's side of a Forge app's Custom UI, for the demo and the browser tests: the four Bitbucket page modules
 * at Bitbucket's own page URLs, each framing the app's Custom UI resource (read from forge/manifest.yml and served
 * from its `resources` path), with a bridge stand-in that the real, unmodified `@forge/bridge` talks to.
 *
 * How @forge/bridge reaches its host (its published source, out/bridge.js): every call is
 * `globalThis.__bridge.callBridge(name, payload)` returning a promise; Forge's hosting puts `__bridge` into the
 * frame before the app's scripts. Here `/_forge/bridge.js`, added to the resource's index.html the same way, posts
 * each call to the host page (`/_forge/host.js`), which answers `getContext` with the module's context and
 * `invoke` (`invokeRemote`, payload `{ path, method, headers, body, invokeType: 'ui-remote-fetch' }`) by asking
 * this server to call the remote: an invocation token signed by the simulator's Forge key, plus
 * `x-forge-oauth-system` and `x-forge-oauth-user`, as Forge Remote sends them. The answer is the bridge's
 * `{ success, payload: { status, headers, body } }`.
 *
 * Page URLs (developer.atlassian.com, Forge manifest reference, Bitbucket modules):
 * - bitbucket:repoMainMenuPage           /{workspace}/{repository}/forge/{appId}/{environment}/{moduleKey}
 * - bitbucket:workspaceGlobalPage        /{workspace}/workspace/forge/{appId}/{environment}/{moduleKey}
 * - bitbucket:workspaceSettingsMenuPage  /{workspace}/workspace/settings/forge/{appId}/{environment}/{moduleKey}
 * - bitbucket:workspacePersonalSettingsPage /{workspace}/workspace/personal-settings/forge/{appId}/{environment}/{moduleKey}
 * The extension context of a repository page carries `repository.uuid` (documented); the module's `type` is
 * documented for every page. UNCONFIRMED: the other context fields' exact values (FullContext in @forge/bridge
 * names them: accountId, workspaceId, moduleKey, localId, environmentType, locale, timezone, siteUrl).
 */

/** A Forge installation as the UI host needs it (src/simulator/forge-app.ts keeps them). */
export type ForgeUiInstallation = Pick<
  ForgeInstallation,
  'installationId' | 'workspace' | 'remoteUrl' | 'apiBaseUrl' | 'forge' | 'active'
>;

export interface ForgeUiDeps {
  state: SimState;
  users: AccountRegistry;
  /** forge/manifest.yml: its page modules and Custom UI resources. */
  manifestPath: string;
  installationOf: (workspace: Workspace) => ForgeUiInstallation | undefined;
  /** `x-forge-oauth-system` for an invocation (omitted when undefined). */
  systemToken: (installation: ForgeUiInstallation) => string | undefined;
  /** `x-forge-oauth-user` for an invocation by `viewer` (omitted when undefined). */
  userToken: (installation: ForgeUiInstallation, viewer: Account) => string | undefined;
  now: () => Date;
  /** Forge's UI invocation timeout. */
  timeoutMs?: number;
}

/**
 * How long a token handed to the remote is handed again: Forge does not mint a token per invocation (the remote
 * may cache what it learns per token). UNCONFIRMED: Forge's reuse period; the simulator's tokens live an hour.
 */
const TOKEN_REUSE_MS = 30 * 60_000;

export type ForgePageType =
  | 'bitbucket:repoMainMenuPage'
  | 'bitbucket:workspaceGlobalPage'
  | 'bitbucket:workspaceSettingsMenuPage'
  | 'bitbucket:workspacePersonalSettingsPage';

/** Where each page type lives under a workspace (the repository page: under the repository). */
const PAGE_PLACES: Record<ForgePageType, string> = {
  'bitbucket:repoMainMenuPage': 'forge',
  'bitbucket:workspaceGlobalPage': 'workspace/forge',
  'bitbucket:workspaceSettingsMenuPage': 'workspace/settings/forge',
  'bitbucket:workspacePersonalSettingsPage': 'workspace/personal-settings/forge',
};

export interface ForgePage {
  type: ForgePageType;
  key: string;
  title: string;
  /** Absolute folder of the page's Custom UI resource. */
  resourceDir: string;
}

/** Forge's UI invocation timeout (forge-remote-invocation-contract: 25 s). */
export const FORGE_UI_TIMEOUT_MS = 25_000;
const ENVIRONMENT = 'development';
const FRAME_LIMIT = 10_000;

const manifestSchema = z.object({
  modules: z.record(z.string(), z.array(z.looseObject({ key: z.string(), title: z.string().optional() }))),
  resources: z.array(z.object({ key: z.string(), path: z.string() })).default([]),
});

/** The manifest's page modules this host can show, with their resources' folders. */
export function forgePages(manifestPath: string): ForgePage[] {
  const manifest = manifestSchema.parse(parseYaml(readFileSync(manifestPath, 'utf8')));
  const resources = new Map(manifest.resources.map((r) => [r.key, r.path]));
  return Object.entries(manifest.modules).flatMap(([type, modules]) =>
    type in PAGE_PLACES
      ? modules.map((m) => ({
          type: type as ForgePageType,
          key: m.key,
          title: m.title ?? m.key,
          resourceDir: path.resolve(path.dirname(manifestPath), resources.get(String(m.resource)) ?? ''),
        }))
      : [],
  );
}

/** The app id's uuid, as Bitbucket's Forge page URLs carry it. */
const appUuid = (installation: ForgeUiInstallation) => installation.forge.appId.replace(/^.*\//, '');

interface Frame {
  installation: ForgeUiInstallation;
  page: ForgePage;
  viewer: Account;
  repository?: Repository;
  context: Record<string, unknown>;
}

const invokeBody = z.object({
  frame: z.string().max(64),
  payload: z.object({
    path: z.string().startsWith('/').max(4096),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
  }),
});

/** The in-frame half of the bridge stand-in: `window.__bridge.callBridge` over postMessage, and frame sizing. */
export const FORGE_BRIDGE_JS = `(function () {
  'use strict';
  var pending = {};
  var seq = 0;
  window.addEventListener('message', function (e) {
    var m = e.data;
    if (e.source !== window.parent || !m || !m.__simForge || !m.reply || !pending[m.reply]) return;
    var p = pending[m.reply]; delete pending[m.reply];
    if (m.error) p.reject(new Error(m.error)); else p.resolve(m.data);
  });
  window.__bridge = {
    callBridge: function (name, payload) {
      return new Promise(function (resolve, reject) {
        var id = 'b' + (++seq);
        pending[id] = { resolve: resolve, reject: reject };
        window.parent.postMessage({ __simForge: true, id: id, name: name, payload: payload === undefined ? null : payload }, '*');
      });
    }
  };
  // Forge sizes Custom UI frames to their content (iframe-resizer); so does this stand-in.
  var lastHeight = -1;
  function report() {
    var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (h !== lastHeight) { lastHeight = h; window.parent.postMessage({ __simForge: true, size: h }, '*'); }
  }
  window.addEventListener('load', function () {
    if (typeof ResizeObserver !== 'undefined') {
      var ro = new ResizeObserver(report); ro.observe(document.documentElement); ro.observe(document.body);
    }
    report();
  });
})();
`;

/** The host page's half: answers the frame's bridge calls. */
export const FORGE_HOST_JS = `(function () {
  'use strict';
  window.addEventListener('message', function (e) {
    var m = e.data;
    if (!m || !m.__simForge) return;
    var frames = document.querySelectorAll('iframe[data-forge-frame]');
    var frame = null;
    for (var i = 0; i < frames.length; i++) if (frames[i].contentWindow === e.source) frame = frames[i];
    if (!frame) return;
    if (typeof m.size === 'number') { frame.style.height = m.size + 'px'; return; }
    function reply(data, error) { e.source.postMessage({ __simForge: true, reply: m.id, data: data, error: error }, '*'); }
    switch (m.name) {
      case 'getContext': reply(JSON.parse(frame.getAttribute('data-context') || '{}')); break;
      case 'invoke':
        fetch('/_forge/invoke', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ frame: frame.getAttribute('data-forge-frame'), payload: m.payload })
        }).then(function (r) { return r.json(); }).then(function (answer) { reply(answer); }, function (err) {
          reply({ success: false, error: { message: String(err) } });
        });
        break;
      default: reply(undefined);
    }
  });
})();
`;

export class ForgeUiHost {
  private readonly frames = new Map<string, Frame>();
  private readonly tokens = new Map<string, { token: string | undefined; untilMs: number }>();
  private pagesCache: ForgePage[] | null = null;

  constructor(private readonly deps: ForgeUiDeps) {}

  /** The manifest's pages (read once). */
  pages(): ForgePage[] {
    this.pagesCache ??= forgePages(this.deps.manifestPath);
    return this.pagesCache;
  }

  private activeInstallation(ws: Workspace): ForgeUiInstallation | undefined {
    const installation = this.deps.installationOf(ws);
    return installation?.active ? installation : undefined;
  }

  /** The path of a Forge page in a workspace (or repository), or undefined when the app is not installed there. */
  pagePath(
    ws: Workspace,
    moduleKey: string,
    options: { repo?: Repository; viewer?: Account } = {},
  ): string | undefined {
    const installation = this.activeInstallation(ws);
    const page = this.pages().find((p) => p.key === moduleKey);
    if (!installation || !page) return undefined;
    const where = page.type === 'bitbucket:repoMainMenuPage' ? `${ws.slug}/${options.repo?.slug}` : ws.slug;
    const base = `/${where}/${PAGE_PLACES[page.type]}/${appUuid(installation)}/${ENVIRONMENT}/${page.key}`;
    return options.viewer && options.viewer !== ws.admin
      ? `${base}?viewer=${encodeURIComponent(options.viewer.account_id)}`
      : base;
  }

  /** Navigation links to the app's pages: the workspace's (no repo) or the repository's. */
  navLinks(ws: Workspace, viewer: Account, repo?: Repository, active?: string): string {
    return this.pages()
      .filter((p) => (p.type === 'bitbucket:repoMainMenuPage') === (repo !== undefined))
      .filter((p) => p.type !== 'bitbucket:workspaceSettingsMenuPage' || viewer === ws.admin)
      .map((p) => {
        const href = this.pagePath(ws, p.key, { ...(repo ? { repo } : {}), viewer });
        return href
          ? `<a href="${h(href)}" class="${p.key === active ? 'active' : ''}" data-forge-page="${h(p.type)}">${h(p.title)}</a>`
          : '';
      })
      .join('');
  }

  /** The module's context, as getContext answers it (FullContext in @forge/bridge). */
  private contextOf(frameId: string, frame: Omit<Frame, 'context'>): Record<string, unknown> {
    const { installation, page, viewer, repository } = frame;
    return {
      accountId: viewer.account_id,
      workspaceId: installation.workspace.uuid,
      moduleKey: page.key,
      localId: frameId,
      environmentId: `ari:cloud:ecosystem::environment/${unbraced(installation.workspace.uuid)}`,
      environmentType: 'DEVELOPMENT',
      locale: 'en-US',
      timezone: 'UTC',
      siteUrl: '',
      theme: null,
      extension: {
        type: page.type,
        ...(repository ? { repository: { uuid: repository.uuid } } : {}),
      },
    };
  }

  /** Routes of bitbucket.org's Forge pages, the resources and the bridge; `layout` draws the host page. */
  router(layout: {
    viewerOf: (req: Request, ws: Workspace) => Account;
    render: (title: string, ws: Workspace, viewer: Account, nav: string, main: string) => string;
    notFound: (res: Response, what: string) => void;
  }): express.Router {
    const router = express.Router();
    router.get('/_forge/bridge.js', (_req, res) => res.type('application/javascript').send(FORGE_BRIDGE_JS));
    router.get('/_forge/host.js', (_req, res) => res.type('application/javascript').send(FORGE_HOST_JS));

    const showPage = (req: Request, res: Response, type: ForgePageType, repoSlug?: string) => {
      const ws = this.deps.state.findWorkspace(String(req.params.ws));
      if (!ws) return layout.notFound(res, 'Workspace not found');
      const repo = repoSlug === undefined ? undefined : this.deps.state.findRepository(ws, repoSlug);
      if (repoSlug !== undefined && !repo) return layout.notFound(res, 'Repository not found');
      const installation = this.activeInstallation(ws);
      if (!installation || req.params.appId !== appUuid(installation))
        return layout.notFound(res, 'The app is not installed in this workspace');
      const page = this.pages().find((p) => p.key === req.params.moduleKey && p.type === type);
      if (!page) return layout.notFound(res, `No module "${String(req.params.moduleKey)}"`);
      const viewer = layout.viewerOf(req, ws);
      // Bitbucket shows workspace settings to workspace admins only.
      if (type === 'bitbucket:workspaceSettingsMenuPage' && viewer !== ws.admin)
        return layout.notFound(res, 'Only workspace admins see workspace settings');
      const frameId = randomBytes(16).toString('hex');
      const frame = { installation, page, viewer, ...(repo ? { repository: repo } : {}) };
      const context = this.contextOf(frameId, frame);
      if (this.frames.size >= FRAME_LIMIT) this.frames.delete(this.frames.keys().next().value!);
      this.frames.set(frameId, { ...frame, context });
      const nav = repo
        ? `<h2>${h(repo.name)}</h2><a href="/${h(ws.slug)}/${h(repo.slug)}">Source</a><h2>Apps</h2>${this.navLinks(ws, viewer, repo, page.key)}`
        : `<h2>Workspace</h2><a href="/${h(ws.slug)}">Repositories</a><h2>Apps</h2>${this.navLinks(ws, viewer, undefined, page.key)}`;
      const iframe = `<iframe data-forge-frame="${frameId}" data-module="${h(page.type)}" src="/_forge/frames/${frameId}/index.html" data-context="${h(JSON.stringify(context))}" style="width:100%;border:0;min-height:150px;display:block"></iframe>`;
      res
        .type('html')
        .send(
          layout
            .render(page.title, ws, viewer, nav, `<h1>${h(page.title)}</h1>${iframe}`)
            .replace('</body>', '<script src="/_forge/host.js"></script></body>'),
        );
    };

    const pageRoute = ':appId/:env/:moduleKey';
    router.get(`/:ws/workspace/forge/${pageRoute}`, (req, res) =>
      showPage(req, res, 'bitbucket:workspaceGlobalPage'),
    );
    router.get(`/:ws/workspace/settings/forge/${pageRoute}`, (req, res) =>
      showPage(req, res, 'bitbucket:workspaceSettingsMenuPage'),
    );
    router.get(`/:ws/workspace/personal-settings/forge/${pageRoute}`, (req, res) =>
      showPage(req, res, 'bitbucket:workspacePersonalSettingsPage'),
    );
    router.get(`/:ws/:repo/forge/${pageRoute}`, (req, res) =>
      showPage(req, res, 'bitbucket:repoMainMenuPage', String(req.params.repo)),
    );

    // The Custom UI resource, served per frame (its assets are relative to index.html). index.html gets the bridge
    // stand-in before the app's own scripts, as Forge's hosting adds its bridge.
    router.get('/_forge/frames/:frame/*', (req, res) => {
      const frame = this.frames.get(String(req.params.frame));
      if (!frame) return void res.status(404).end();
      const dir = frame.page.resourceDir;
      const file = path.resolve(dir, String((req.params as Record<string, string>)[0]));
      if (!file.startsWith(`${dir}${path.sep}`) || !existsSync(file)) return void res.status(404).end();
      if (path.basename(file) !== 'index.html') return void res.sendFile(file);
      const html = readFileSync(file, 'utf8').replace(
        /<head>/i,
        '<head><script src="/_forge/bridge.js"></script>',
      );
      res.type('html').send(html);
    });

    router.post('/_forge/invoke', express.json({ limit: '1mb' }), async (req, res) => {
      const parsed = invokeBody.safeParse(req.body);
      const frame = parsed.success ? this.frames.get(parsed.data.frame) : undefined;
      if (!parsed.success || !frame)
        return void res.status(400).json({ success: false, error: { message: 'unknown frame or bad call' } });
      res.json(await this.invokeRemote(frame, parsed.data.payload));
    });
    return router;
  }

  private reused(key: string, issue: () => string | undefined): string | undefined {
    const nowMs = this.deps.now().getTime();
    const held = this.tokens.get(key);
    if (held && held.untilMs > nowMs) return held.token;
    const token = issue();
    this.tokens.set(key, { token, untilMs: nowMs + TOKEN_REUSE_MS });
    return token;
  }

  /** What Forge does for `invokeRemote`: the call to the remote with an invocation token and the two tokens. */
  private async invokeRemote(frame: Frame, call: z.infer<typeof invokeBody>['payload']) {
    const { installation, viewer } = frame;
    if (!installation.active) return { success: false, error: { message: 'The app is not installed.' } };
    const token = await installation.forge.invocationToken({
      installationId: installation.installationId,
      workspaceUuid: installation.workspace.uuid,
      apiBaseUrl: installation.apiBaseUrl,
      context: frame.context,
      principal: viewer.account_id,
      moduleType: frame.page.type,
    });
    const headers: Record<string, string> = { ...call.headers, authorization: `Bearer ${token}` };
    const system = this.reused(`system ${installation.installationId}`, () =>
      this.deps.systemToken(installation),
    );
    if (system) headers['x-forge-oauth-system'] = system;
    const user = this.reused(`user ${installation.installationId} ${viewer.uuid}`, () =>
      this.deps.userToken(installation, viewer),
    );
    if (user) headers['x-forge-oauth-user'] = user;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(`${installation.remoteUrl}${call.path}`, {
        method: call.method,
        headers,
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        signal: AbortSignal.timeout(this.deps.timeoutMs ?? FORGE_UI_TIMEOUT_MS),
      });
      const text = await res.text();
      const answerHeaders: Record<string, string[]> = {};
      res.headers.forEach((value, name) => (answerHeaders[name] = [value]));
      const json = (res.headers.get('content-type') ?? '').includes('application/json');
      return {
        success: true,
        payload: { status: res.status, headers: answerHeaders, body: json && text ? JSON.parse(text) : text },
      };
    } catch (err) {
      return { success: false, error: { message: `the remote did not answer: ${(err as Error).message}` } };
    }
  }
}
