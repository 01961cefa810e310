import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { apiRouter } from '../api/api-router';
import { errorHandler, notFoundHandler } from '../api/http-errors';
import { pagesRouter, type PageAssets } from '../api/pages-router';
import { requestLog } from '../api/request-log';
import { mountAddon } from '../connect/addon';
import { readDescriptor } from '../connect/descriptor';
import { ViewerPermissionsCache } from '../bitbucket/user-permissions';
import { ForgeVerifier } from '../connect/forge-token';
import { forgeLifecycleRouter } from '../connect/forge-lifecycle';
import { lifecycleRouter } from '../connect/lifecycle';
import { HOUR_MS } from '../db/request-budget-store';
import { startAfterInstall } from '../ingest/install-verification';
import { forgeEventsRouter } from '../ingest/forge-events';
import { createDeliveryStore, createIntakeAdmission, webhookRouter } from '../ingest/webhook-router';
import type { Runtime } from './bootstrap';

const ROOT = process.cwd();

/** The built UI's tags, read from Vite's manifest when present. */
function readAssets(): PageAssets {
  const manifestFile = path.join(ROOT, 'public', '.vite', 'manifest.json');
  if (!existsSync(manifestFile)) return { styles: '', scripts: '' };
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<
    string,
    { file: string; css?: string[]; isEntry?: boolean }
  >;
  const entry = Object.values(manifest).find((m) => m.isEntry);
  if (!entry) return { styles: '', scripts: '' };
  return {
    styles: (entry.css ?? []).map((href) => `<link rel="stylesheet" href="/${href}" />`).join(''),
    scripts: `<script type="module" src="/${entry.file}"></script>`,
  };
}

/** The web role: descriptor, lifecycle, webhook intake, iframe pages, JSON/CSV API. */
export async function createWebApp(runtime: Runtime): Promise<Express> {
  const { config, logger, tenants } = runtime;
  const app = express();
  app.set('env', config.env === 'production' ? 'production' : 'development');
  app.set('trust proxy', config.env === 'production' ? 1 : false);
  app.disable('x-powered-by');

  app.use(requestLog(logger));

  const descriptor = readDescriptor(ROOT);
  const authDeps = { tenants, appKey: descriptor.key };
  // Tally's own webhook routes go first so that ACE's auto-registered ones (emit-and-204) are never reached, and
  // before helmet: Bitbucket's servers, not browsers, call them, and a 204 has no use for browser security headers.
  // One intake per process: Connect's webhooks and Forge's events share its store, batches and admission.
  const intake = {
    deliveries: createDeliveryStore(runtime.db),
    admission: createIntakeAdmission(config.webhookQueueLimit),
  };
  app.use(webhookRouter({ ...authDeps, ...intake, logger }, descriptor.modules.webhooks ?? []));

  const bitbucketOrigins = ['https://bitbucket.org', ...config.frameAncestors];
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'", ...bitbucketOrigins],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'blob:', 'https:'],
          connectSrc: ["'self'"],
          frameAncestors: ["'self'", ...bitbucketOrigins],
          upgradeInsecureRequests: config.env === 'production' ? [] : null,
        },
      },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
      // Pages live in Bitbucket's iframe: framing is governed by CSP frame-ancestors, not X-Frame-Options.
      frameguard: false,
      crossOriginEmbedderPolicy: false,
      crossOriginResourcePolicy: { policy: 'cross-origin' },
    }),
  );

  app.get('/healthz', async (_req, res) => {
    try {
      await runtime.db.knex.raw('select 1');
      res.json({ status: 'ok' });
    } catch {
      res.status(503).json({ status: 'database unavailable' });
    }
  });

  const noStore: express.RequestHandler = (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  };
  // The Forge door (docs/forge.md): closed, its routes do not exist (404) and Bearer tokens are not accepted.
  const forge = config.forge.appId
    ? {
        tenants,
        afterInstall: startAfterInstall,
        verifier: new ForgeVerifier({
          appId: config.forge.appId,
          jwksUrl: config.forge.jwksUrl,
          allowedHosts: config.bitbucketAllowedHosts,
          requireHttps: config.env === 'production',
        }),
        userPermissions: { db: runtime.db, source: new ViewerPermissionsCache(), logger },
      }
    : undefined;
  if (forge) {
    app.use('/forge', noStore, forgeLifecycleRouter({ ...forge, logger }));
    app.use('/forge', noStore, forgeEventsRouter({ ...forge, ...intake, logger }));
  }
  app.use(
    lifecycleRouter({
      ...authDeps,
      allowedHosts: config.bitbucketAllowedHosts,
      requireHttps: config.env === 'production',
      logger,
      installsPerMinute: config.installsPerMinute,
      afterInstall: startAfterInstall,
    }),
  );
  await mountAddon(app, {
    env: app.get('env') as string,
    baseUrl: config.baseUrl,
    allowedHosts: config.bitbucketAllowedHosts,
    tenants,
    logger,
  });

  app.use(
    '/api/v1',
    noStore,
    apiRouter({
      ...authDeps,
      db: runtime.db,
      now: runtime.now,
      forge,
      requestBudget: { limit: config.requestsPerHour, windowMs: HOUR_MS },
    }),
  );
  app.use(
    '/pages',
    noStore,
    pagesRouter({ ...authDeps, viewsDir: path.join(ROOT, 'views'), assets: readAssets }),
  );
  app.use(express.static(path.join(ROOT, 'public'), { index: false, maxAge: '1h' }));
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}

/**
 * Idle keep-alive connections are closed by the client or the proxy in front, never first by us: when a server
 * closes an idle connection just as a client sends on it, the client gets a reset instead of an answer. 65 s is past
 * every client's idle timeout and the usual 60 s of load balancers.
 */
const KEEP_ALIVE_MS = 65_000;

/** Serves the web role on a port (0: any free one); resolves once it listens. */
export function listenWeb(app: Express, port: number, host?: string): Promise<Server> {
  const server = createServer(app);
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // Node's advice: headers may take longer than an idle connection lives, so a late request is not cut short.
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
