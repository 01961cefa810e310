import { createRequire } from 'node:module';
import type { Express } from 'express';
import type { Logger } from '../platform/logger';
import type { TenantStore } from '../db/tenant-store';
import { AceTenantStore } from './ace-store';

const require = createRequire(import.meta.url);
// ACE is CommonJS without ESM typings worth importing; this is the small surface Tally uses.
const ace = require('atlassian-connect-express') as AceFactory;

interface AceFactory {
  (app: Express, opts: object, logger: object, fileNames: object, callback: () => void): Addon;
  store: { register(name: string, factory: (logger: unknown, opts: unknown) => unknown): void };
}

export interface Addon {
  key: string;
  descriptor: {
    key: string;
    modules: { webhooks?: { event: string; url: string }[] } & Record<string, unknown>;
  };
}

export interface AddonOptions {
  env: string;
  baseUrl: string;
  allowedHosts: string[];
  tenants: TenantStore;
  logger: Logger;
}

/**
 * Mounts atlassian-connect-express on the app (product bitbucket): it serves `/atlassian-connect.json` with
 * `baseUrl` filled in and reads installations from the tenants table.
 * Resolves once ACE has registered its routes.
 */
export function mountAddon(app: Express, options: AddonOptions): Promise<Addon> {
  const store = new AceTenantStore(options.tenants);
  ace.store.register('tally-tenants', () => store);
  const modeConfig = {
    localBaseUrl: options.baseUrl,
    store: { adapter: 'tally-tenants' },
    // ACE matches hostnames (no port) against this list.
    whitelist: [...new Set(options.allowedHosts.map((h) => h.replace(/:\d+$/, '')))],
    watch: false,
    // Tally's lifecycle route owns POST /installed (src/connect/lifecycle.ts).
    setupInstallRoute: false,
    validateDescriptor: false,
    maxTokenAge: 15 * 60,
  };
  const aceLogger = {
    info: (...args: unknown[]) => options.logger.debug({ ace: args.map(String).join(' ') }, 'ace'),
    warn: (...args: unknown[]) => options.logger.warn({ ace: args.map(String).join(' ') }, 'ace'),
    error: (...args: unknown[]) => options.logger.warn({ ace: args.map(String).join(' ') }, 'ace'),
    debug: () => undefined,
  };
  return new Promise((resolve) => {
    const addon: Addon = ace(
      app,
      { config: { product: 'bitbucket', [options.env]: modeConfig, development: modeConfig } },
      aceLogger,
      {},
      () => resolve(addon),
    );
  });
}
