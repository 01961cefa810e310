import { z } from 'zod';

const pageModule = z.looseObject({
  key: z
    .string()
    .regex(/^[a-zA-Z0-9-]+$/)
    .max(128),
  name: z.object({ value: z.string() }).optional(),
  url: z.string().max(2048),
  location: z.string().optional(),
});

const webhookModule = z.object({ event: z.string().min(1), url: z.string().min(1) });

/** The parts of an atlassian-connect.json that Bitbucket acts on. Extra fields are kept. */
export const descriptorSchema = z.looseObject({
  key: z.string().min(1),
  name: z.string().optional(),
  baseUrl: z.url(),
  authentication: z.object({ type: z.enum(['jwt', 'none']) }).optional(),
  lifecycle: z.object({ installed: z.string().optional(), uninstalled: z.string().optional() }).optional(),
  scopes: z.array(z.string()).default([]),
  contexts: z.array(z.string()).optional(),
  modules: z
    .looseObject({
      repoPages: z.array(pageModule).optional(),
      webItems: z.array(pageModule).optional(),
      webPanels: z.array(pageModule).optional(),
      adminPages: z.array(pageModule).optional(),
      profileTabs: z.array(pageModule).optional(),
      // Only one is allowed; public examples use a one-element array, the docs an object.
      configurePage: z.union([pageModule, z.array(pageModule).max(1)]).optional(),
      webhooks: z.array(webhookModule).optional(),
    })
    .default({}),
});

export type Descriptor = z.infer<typeof descriptorSchema>;

export type PageKind = 'repoPage' | 'webItem' | 'webPanel' | 'adminPage' | 'profileTab' | 'configurePage';

export interface PageModule {
  kind: PageKind;
  key: string;
  name: string;
  url: string;
  location?: string;
}

/** Every module that renders an iframe page, in descriptor order. */
export function pageModules(d: Descriptor): PageModule[] {
  const m = d.modules;
  const configure =
    m.configurePage === undefined ? [] : Array.isArray(m.configurePage) ? m.configurePage : [m.configurePage];
  const groups: [PageKind, z.infer<typeof pageModule>[] | undefined][] = [
    ['repoPage', m.repoPages],
    ['webItem', m.webItems],
    ['webPanel', m.webPanels],
    ['adminPage', m.adminPages],
    ['profileTab', m.profileTabs],
    ['configurePage', configure],
  ];
  return groups.flatMap(([kind, list]) =>
    (list ?? []).map((mod) => {
      const page: PageModule = { kind, key: mod.key, name: mod.name?.value ?? mod.key, url: mod.url };
      if (mod.location !== undefined) page.location = mod.location;
      return page;
    }),
  );
}

/** Repository-level pages appear in the repository sidebar; the rest at workspace level. */
export function isRepoModule(m: PageModule): boolean {
  return (
    m.kind === 'repoPage' ||
    m.kind === 'webPanel' ||
    (m.kind === 'webItem' && (m.location ?? '').includes('repository'))
  );
}

/** Lifecycle and module URLs may be absolute or relative to the descriptor's baseUrl. */
export function resolveAppUrl(baseUrl: string, url: string): string {
  if (/^https?:\/\//i.test(url)) return url;
  return `${baseUrl.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
}

/** Scopes a context parameter needs before Bitbucket substitutes it. */
export function scopeForContextParam(param: string): string | undefined {
  const head = param.split('.')[0];
  if (head === 'user' || head === 'target_user' || head === 'workspace' || head === 'principal')
    return 'account';
  if (head === 'repository' || head === 'branch' || head === 'commit' || head === 'file') return 'repository';
  if (head === 'pullrequest') return 'pullrequest';
  return undefined;
}
