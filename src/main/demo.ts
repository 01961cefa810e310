/**
 * `npm run demo`: Tally end to end on one machine. Starts an embedded PostgreSQL (fresh, under .data/demo), the
 * Bitbucket simulator with the sample history (expressjs/express) or local git repositories (`--git <path>`,
 * repeatable), Tally's web and worker roles, installs Tally into the simulated workspace, waits until indexing
 * shows progress and prints the Bitbucket-like pages that frame every Tally page. With `--forge`, Tally is the
 * Forge app instead (docs/forge.md): FORGE_APP_ID set, installed the Forge way (lifecycle event, system token,
 * backfill through it) and its pages are the manifest's Custom UI pages.
 *
 * The only entry point allowed to import the simulator (see eslint.config.js).
 */
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../config/config';
import { pendingAnalyticsChanges } from '../analytics/change-queue';
import { listRepositories } from '../db/repository-store';
import { createLogger, type Logger } from '../platform/logger';
import { ForgeSimulator } from '../simulator/forge';
import { startSimulator, type Simulator } from '../simulator/index';
import { bootstrap, type Runtime } from './bootstrap';
import { handleShutdownSignals } from './signals';
import { createWebApp, listenWeb } from './web';
import { startWorker, type WorkerHandle } from './worker';

export const DEMO_WORKSPACE = 'acme';

export interface DemoOptions {
  /** Local git repositories to show instead of the sample history. */
  gitDirs?: string[];
  /** Preferred ports (a busy one falls back to any free port); 0 = any. */
  tallyPort?: number;
  simulatorWebPort?: number;
  simulatorApiPort?: number;
  dataDir?: string;
  /** An existing database (tests): skips the embedded PostgreSQL. */
  databaseUrl?: string;
  databaseAdminUrl?: string;
  logLevel?: string;
  /** Tally's hourly Bitbucket request budget; the demo raises it so line counts fill in within minutes. */
  requestsPerHour?: number;
  /** Install Tally as the Forge app (its Custom UI pages) rather than the Connect app. */
  forge?: boolean;
}

export interface Demo {
  sim: Simulator;
  runtime: Runtime;
  tallyUrl: string;
  tenantId: string;
  repositories: string[];
  /** Host pages (simulated bitbucket.org) that frame each Tally page (the Forge app's, with `forge`). */
  pages: { workspace: string; repository: string; configure: string; profile: string };
  /** The simulator's Forge (signing key, JWKS), with `forge`. */
  forge?: ForgeSimulator;
  stop(): Promise<void>;
}

const ROOT = process.cwd();
const SAMPLE = {
  exportFile: path.join(ROOT, 'data', 'express.jsonl.gz'),
  refsFile: path.join(ROOT, 'data', 'express.refs.json'),
};

/** The preferred port when it is free, else any free one. */
async function portOr(preferred: number): Promise<number> {
  if (preferred === 0) return 0;
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(0));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(preferred)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const slugOf = (dir: string) =>
  path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'repository';

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const logger: Logger = createLogger(options.logLevel ?? process.env.LOG_LEVEL ?? 'warn');
  const sim = await startSimulator({
    host: '127.0.0.1',
    webPort: await portOr(options.simulatorWebPort ?? 7990),
    apiPort: await portOr(options.simulatorApiPort ?? 7991),
    rateLimitPerHour: Infinity,
  });
  const simHosts = [sim.webUrl, sim.apiUrl].map((u) => new URL(u).host);

  const forge = options.forge ? await ForgeSimulator.start() : undefined;

  const tallyPort = (await portOr(options.tallyPort ?? 3000)) || (await freePort());
  const tallyUrl = `http://127.0.0.1:${tallyPort}`;
  // A fresh database every run: the simulator mints a new shared secret per run, and an old installation
  // would (rightly) refuse a reinstall signed with a secret it has never seen.
  const dataDir = path.resolve(options.dataDir ?? path.join(ROOT, '.data', 'demo'));
  if (!options.databaseUrl) rmSync(dataDir, { recursive: true, force: true });
  const parsed = parseConfig({
    NODE_ENV: 'development',
    PORT: String(tallyPort),
    BASE_URL: tallyUrl,
    BITBUCKET_ALLOWED_HOSTS: simHosts.join(','),
    FRAME_ANCESTORS: sim.webUrl,
    BITBUCKET_REQUESTS_PER_HOUR: String(options.requestsPerHour ?? 100_000),
    TALLY_DATA_DIR: dataDir,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(options.databaseAdminUrl ? { DATABASE_ADMIN_URL: options.databaseAdminUrl } : {}),
    LOG_LEVEL: options.logLevel ?? process.env.LOG_LEVEL ?? 'warn',
    ...(forge ? { FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl } : {}),
  });
  if (!parsed.ok) throw new Error(`demo configuration: ${parsed.problems.join('; ')}`);
  const runtime = await bootstrap(parsed.config, logger);

  const server = await listenWeb(await createWebApp(runtime), tallyPort, '127.0.0.1');
  const worker: WorkerHandle = await startWorker(runtime);

  sim.addWorkspace({ slug: DEMO_WORKSPACE, name: 'Acme' });
  const repositories: string[] = [];
  const gitDirs = options.gitDirs ?? [];
  if (gitDirs.length === 0) {
    if (!existsSync(SAMPLE.exportFile)) throw new Error(`sample history missing: ${SAMPLE.exportFile}`);
    // expressjs/express is public, as on bitbucket.org it would be: the profile tab shows public repositories only.
    sim.addRepository(DEMO_WORKSPACE, {
      slug: 'express',
      name: 'express',
      history: SAMPLE,
      isPrivate: false,
    });
    repositories.push('express');
  }
  for (const dir of gitDirs) {
    const slug = slugOf(dir);
    sim.addRepository(DEMO_WORKSPACE, { slug, name: slug, history: { gitDir: path.resolve(dir) } });
    repositories.push(slug);
  }

  const clientKey = forge ? await installForge(sim, forge, tallyUrl) : await installConnect(sim, tallyUrl);
  const tenant = await runtime.tenants.findByClientKey(clientKey);
  if (!tenant) throw new Error('the installation was not stored');
  // The worker's verification job asks the simulator about the new credentials; only then does the tenant work.
  const deadline = Date.now() + 60_000;
  while ((await runtime.tenants.findById(tenant.id))?.state !== 'installed') {
    if (Date.now() > deadline) throw new Error('the simulator did not confirm the installation');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const stop = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await worker.stop();
    await sim.close();
    await forge?.close();
    await runtime.stop();
  };

  const topAuthor = busiestAuthor(sim, repositories[0]!);
  return {
    sim,
    runtime,
    tallyUrl,
    tenantId: tenant.id,
    repositories,
    ...(forge ? { forge } : {}),
    pages: forge
      ? forgePages(sim, repositories[0]!, topAuthor)
      : {
          workspace: sim.hostPageUrl(DEMO_WORKSPACE, { moduleKey: 'tally-workspace' }),
          repository: sim.hostPageUrl(DEMO_WORKSPACE, { moduleKey: 'tally-graphs', repo: repositories[0]! }),
          configure: sim.hostPageUrl(DEMO_WORKSPACE, { moduleKey: 'tally-configure' }),
          profile: sim.hostPageUrl(DEMO_WORKSPACE, {
            moduleKey: 'tally-profile',
            ...(topAuthor ? { targetUserUuid: topAuthor } : {}),
          }),
        },
    stop,
  };
}

async function installConnect(sim: Simulator, tallyUrl: string): Promise<string> {
  const installed = await sim.install(DEMO_WORKSPACE, `${tallyUrl}/atlassian-connect.json`);
  if (installed.status < 200 || installed.status >= 300)
    throw new Error(`Tally refused the installation (HTTP ${installed.status})`);
  return installed.clientKey;
}

/** The Forge way: Forge posts `avi:forge:installed:app` (with a system token) to the remote's /forge/installed. */
async function installForge(sim: Simulator, forge: ForgeSimulator, tallyUrl: string): Promise<string> {
  const { installation, delivery } = await sim.installForge(DEMO_WORKSPACE, { forge, remoteUrl: tallyUrl });
  if (delivery.status === undefined || delivery.status < 200 || delivery.status >= 300)
    throw new Error(`Tally refused the Forge installation (HTTP ${String(delivery.status)})`);
  return installation.installationId;
}

/** The manifest's four Custom UI pages; "My contributions" is seen by the busiest author, as the viewer. */
function forgePages(sim: Simulator, repo: string, topAuthor: string | undefined): Demo['pages'] {
  const ws = sim.workspace(DEMO_WORKSPACE);
  const viewer = topAuthor ? sim.users.get(topAuthor) : undefined;
  const url = (key: string, options: Parameters<Simulator['forgeUi']['pagePath']>[2] = {}) => {
    const pagePath = sim.forgeUi.pagePath(ws, key, options);
    if (!pagePath) throw new Error(`the Forge app has no page ${key}`);
    return `${sim.webUrl}${pagePath}`;
  };
  return {
    workspace: url('tally-workspace'),
    repository: url('tally-repository', { repo: sim.repository(DEMO_WORKSPACE, repo) }),
    configure: url('tally-configure'),
    profile: url('tally-profile', viewer ? { viewer } : {}),
  };
}

/**
 * The profile tab to show: the author with the most commits in the last year (so the calendar has colour),
 * or of all time when the history is older than that.
 */
function busiestAuthor(sim: Simulator, repo: string): string | undefined {
  const repository = sim.repository(DEMO_WORKSPACE, repo);
  const yearAgo = Date.now() - 365 * 86_400_000;
  const recent = new Map<string, number>();
  const ever = new Map<string, number>();
  for (let id = 0; id < repository.graph.size; id++) {
    const commit = repository.commit(id);
    const account = sim.users.byEmail(commit.author.email);
    if (!account) continue;
    ever.set(account.uuid, (ever.get(account.uuid) ?? 0) + 1);
    if (Date.parse(commit.date) >= yearAgo) recent.set(account.uuid, (recent.get(account.uuid) ?? 0) + 1);
  }
  const top = (counts: Map<string, number>) => [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return top(recent) ?? top(ever);
}

export interface IndexingProgress {
  repositories: number;
  commitsKnown: number;
  commitsWithLines: number;
  ready: number;
  failed: number;
  /** Commits and pull requests whose analytics are still being brought up to date (src/analytics/change-queue.ts). */
  analyticsPending: number;
}

export async function indexingProgress(demo: Demo): Promise<IndexingProgress> {
  const { repos, analyticsPending } = await demo.runtime.db.withTenant(demo.tenantId, async (trx) => ({
    repos: await listRepositories(trx, demo.tenantId),
    analyticsPending: await pendingAnalyticsChanges(trx),
  }));
  return {
    analyticsPending,
    repositories: repos.length,
    commitsKnown: repos.reduce((n, r) => n + r.commitsKnown, 0),
    commitsWithLines: repos.reduce((n, r) => n + r.commitsWithLines, 0),
    ready: repos.filter((r) => r.syncState === 'ready').length,
    failed: repos.filter((r) => r.syncState === 'failed').length,
  };
}

/** Polls until `done(progress)` holds; throws after `timeoutMs`. */
export async function waitForIndexing(
  demo: Demo,
  done: (p: IndexingProgress) => boolean,
  timeoutMs: number,
  onProgress?: (p: IndexingProgress) => void,
): Promise<IndexingProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await indexingProgress(demo);
    onProgress?.(progress);
    if (done(progress)) return progress;
    if (progress.failed > 0 && progress.failed + progress.ready === progress.repositories)
      throw new Error('indexing failed for every repository');
    if (Date.now() > deadline) throw new Error(`indexing did not progress in ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function parseArgs(argv: string[]): DemoOptions {
  const gitDirs: string[] = [];
  let forge = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--git') {
      const dir = argv[++i];
      if (!dir) throw new Error('--git needs a path to a local git repository');
      gitDirs.push(dir);
    } else if (arg.startsWith('--git=')) {
      gitDirs.push(arg.slice('--git='.length));
    } else if (arg === '--forge') {
      forge = true;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write('npm run demo [-- [--forge] [--git <path-to-local-repository> ...]]\n');
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${arg} (try --forge or --git <path>)`);
    }
  }
  for (const dir of gitDirs) {
    if (
      !existsSync(path.join(path.resolve(dir), '.git')) &&
      !existsSync(path.join(path.resolve(dir), 'HEAD'))
    )
      throw new Error(`${dir} is not a git repository`);
  }
  return { gitDirs, forge };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  process.stdout.write('Starting PostgreSQL, the Bitbucket simulator and Tally…\n');
  const demo = await startDemo(options);
  process.stdout.write(
    `Tally installed into workspace "${DEMO_WORKSPACE}" ${demo.forge ? `as the Forge app ${demo.forge.appId}` : 'as the Connect app'} (${demo.repositories.join(', ')}).\n`,
  );
  const progress = await waitForIndexing(demo, (p) => p.commitsKnown > 0 && p.commitsWithLines > 0, 300_000);
  process.stdout.write(
    `Indexing: ${progress.commitsKnown} commits listed, line counts for ${progress.commitsWithLines} so far (newest first).\n\n` +
      `Open Tally inside the Bitbucket-like host page:\n\n` +
      `  ${demo.pages.workspace}\n\n` +
      `Other pages:\n` +
      `  Repository graphs   ${demo.pages.repository}\n` +
      `  ${demo.forge ? 'My contributions ' : 'Contributions tab'}   ${demo.pages.profile}\n` +
      `  Configure (admin)   ${demo.pages.configure}\n\n` +
      `Tally itself: ${demo.tallyUrl} · Simulator API: ${demo.sim.apiUrl} · Ctrl+C stops everything.\n`,
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    void demo.stop().finally(() => process.exit(0));
  };
  handleShutdownSignals(shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `The demo could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
