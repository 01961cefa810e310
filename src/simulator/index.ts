import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { AccountRegistry, type Account, type AddUserInput } from './accounts.js';
import { createApiApp } from './api-server.js';
import { ForgeUiHost } from './forge-ui.js';
import { createWebApp, hostPagePath } from './host-page.js';
import { ForgeApps, type ForgeInstallation } from './forge-app.js';
import type { ForgeSimulator } from './forge.js';
import { findModule, signedIframeUrl } from './iframe.js';
import { loadHistory } from './history.js';
import { Lifecycle } from './lifecycle.js';
import { Mutations } from './mutations.js';
import { PullRequestMutations } from './pr-mutations.js';
import { Payloads } from './payloads.js';
import { synthesizePullRequests } from './pull-requests.js';
import { SlidingWindowLimiter } from './rate-limit.js';
import {
  Repository,
  SimState,
  type Installation,
  type Project,
  type RepositoryPermission,
  type Workspace,
} from './store.js';
import type {
  ApiRequestRecord,
  Delivery,
  HistorySource,
  InstallResult,
  ModuleContext,
  MutationResult,
  PullRequestResult,
  PushCommit,
  PushResult,
  SimulatorKnobs,
  SimulatorOptions,
} from './types.js';
import { braced, mulberry32, randomSecret, unitHash, uuidFrom } from './util.js';
import { WebhookSender } from './webhooks.js';

export type * from './types.js';
export type { Account, AddUserInput } from './accounts.js';
export type { Installation, PullRequest, RepositoryPermission, Workspace } from './store.js';
export { Repository } from './store.js';
export { AccountRegistry } from './accounts.js';
export { RATE_LIMIT_MESSAGE } from './api-server.js';

const knobsSchema = z.object({
  // zod 4 numbers reject Infinity, which here means "no limit".
  rateLimitPerHour: z
    .number()
    .positive()
    .or(z.custom<number>((v) => v === Infinity))
    .optional(),
  rateWindowMs: z.number().positive().finite().optional(),
  paidSeats: z.record(z.string().min(1).max(100), z.number().int().min(0).max(1_000_000)).optional(),
  announceToConnect: z.boolean().optional(),
  latencyMs: z.number().nonnegative().finite().optional(),
  faultRate: z.number().min(0).max(1).optional(),
  timeoutRate: z.number().min(0).max(1).optional(),
  hangMs: z.number().nonnegative().finite().optional(),
});

const DEFAULT_KNOBS: SimulatorKnobs = {
  rateLimitPerHour: 1000,
  rateWindowMs: 3_600_000,
  paidSeats: {},
  announceToConnect: false,
  latencyMs: 0,
  faultRate: 0,
  timeoutRate: 0,
  hangMs: 5000,
};

/** Seed of the email → account rule: fixed, so the same history maps the same way every run. */
const ACCOUNT_SEED = 'tally-simulator';
/** The Forge app the simulator hosts unless told otherwise: Tally's own manifest. */
const FORGE_MANIFEST = path.resolve(import.meta.dirname, '../../forge/manifest.yml');

/** The knob fields of an options object (SimulatorOptions carries other fields too). */
function pickKnobs(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([key]) => key in DEFAULT_KNOBS));
}

function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address() as AddressInfo;
      resolve(`http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** A running Bitbucket Cloud stand-in: bitbucket.org (webUrl) and api.bitbucket.org (apiUrl). */
export class Simulator {
  readonly users = new AccountRegistry(ACCOUNT_SEED);
  /** Every webhook and lifecycle call sent, in order. */
  readonly deliveries: Delivery[] = [];
  /** Every API request received (capped at `requestLogLimit`, oldest dropped). */
  readonly requestLog: ApiRequestRecord[] = [];
  readonly state = new SimState();
  readonly limiter = new SlidingWindowLimiter();
  /** The Forge app's installations, system tokens and events (src/simulator/forge-app.ts). */
  readonly forgeApps: ForgeApps;
  /** The Forge app's Custom UI pages on bitbucket.org (src/simulator/forge-ui.ts). */
  readonly forgeUi: ForgeUiHost;
  private readonly knobValues: SimulatorKnobs;
  private readonly now: () => Date;
  private readonly appKey: string;
  private readonly payloads: Payloads;
  private readonly sender: WebhookSender;
  private readonly lifecycle: Lifecycle;
  private readonly mutations: Mutations;
  private readonly prMutations: PullRequestMutations;
  private readonly hangTimers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly webUrl: string,
    readonly apiUrl: string,
    private readonly servers: Server[],
    private readonly opts: SimulatorOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
    this.appKey = opts.appKey ?? 'tally';
    this.knobValues = { ...DEFAULT_KNOBS };
    this.setKnobs(opts);
    this.payloads = new Payloads({
      apiUrl: opts.publicUrls?.api ?? apiUrl,
      webUrl: opts.publicUrls?.web ?? webUrl,
      users: this.users,
    });
    const timeoutMs = opts.webhookTimeoutMs ?? 10_000;
    this.sender = new WebhookSender({ deliveries: this.deliveries, now: this.now, timeoutMs });
    this.lifecycle = new Lifecycle({
      appKey: this.appKey,
      payloads: this.payloads,
      installations: this.state.installations,
      deliveries: this.deliveries,
      now: this.now,
      timeoutMs,
    });
    this.forgeApps = new ForgeApps({
      apiUrl: opts.publicUrls?.api ?? apiUrl,
      deliveries: this.deliveries,
      now: this.now,
    });
    this.forgeUi = new ForgeUiHost({
      state: this.state,
      users: this.users,
      now: this.now,
      manifestPath: opts.forgeManifestPath ?? FORGE_MANIFEST,
      installationOf: (ws) => this.forgeApps.installations.get(ws.uuid),
      systemToken: (installation) => {
        const known = this.forgeApps.installations.get(installation.workspace.uuid);
        return known ? this.forgeApps.issueSystemToken(known) : undefined;
      },
      userToken: (installation, viewer) => this.issueUserToken(installation.workspace.uuid, viewer.uuid),
    });
    const deps = {
      state: this.state,
      users: this.users,
      payloads: this.payloads,
      sender: this.sender,
      now: this.now,
      forge: this.forgeApps,
    };
    this.mutations = new Mutations(deps);
    this.prMutations = new PullRequestMutations(this.mutations, deps);
  }

  /** @internal Use startSimulator(). */
  static async start(opts: SimulatorOptions = {}): Promise<Simulator> {
    const host = opts.host ?? '127.0.0.1';
    knobsSchema.parse(pickKnobs(opts)); // fail before binding any port
    const web = createServer();
    const api = createServer();
    const webUrl = await listen(web, opts.webPort ?? 0, host);
    let apiUrl: string;
    try {
      apiUrl = await listen(api, opts.apiPort ?? 0, host);
    } catch (err) {
      await closeServer(web);
      throw err;
    }
    const sim = new Simulator(webUrl, apiUrl, [web, api], opts);
    api.on(
      'request',
      createApiApp({
        state: sim.state,
        users: sim.users,
        payloads: sim.payloads,
        knobs: sim.knobValues,
        limiter: sim.limiter,
        rng: mulberry32(opts.seed ?? 1),
        now: sim.now,
        requestLog: sim.requestLog,
        requestLogLimit: opts.requestLogLimit ?? 100_000,
        hangTimers: sim.hangTimers,
        forgeApps: sim.forgeApps,
      }),
    );
    web.on(
      'request',
      createWebApp({
        state: sim.state,
        users: sim.users,
        appKey: sim.appKey,
        now: sim.now,
        iframeSub: opts.iframeSub ?? 'account_id',
        install: (ws, url) => sim.install(ws, url),
        forgeUi: sim.forgeUi,
      }),
    );
    return sim;
  }

  get knobs(): Readonly<SimulatorKnobs> {
    return { ...this.knobValues };
  }

  setKnobs(k: Partial<SimulatorKnobs>): void {
    const parsed = knobsSchema.parse(pickKnobs(k)) as Partial<SimulatorKnobs>;
    for (const [key, value] of Object.entries(parsed)) {
      if (value !== undefined) (this.knobValues as unknown as Record<string, unknown>)[key] = value;
    }
  }

  /** Explicit account (overrides the email rule for its emails); same as `users.add`. */
  addUser(input: AddUserInput): Account {
    return this.users.add(input);
  }

  addWorkspace(input: {
    slug: string;
    name?: string;
    admin?: { display_name: string; emails: string[] };
  }): Workspace {
    if (this.state.workspaces.has(input.slug)) throw new Error(`Workspace ${input.slug} exists`);
    const name = input.name ?? input.slug;
    const admin = this.users.add(
      input.admin ?? { display_name: `${name} Admin`, emails: [`admin@${input.slug}.example.com`] },
    );
    const ws: Workspace = {
      uuid: braced(uuidFrom(`workspace:${input.slug}`)),
      slug: input.slug,
      name,
      createdMs:
        Date.UTC(2015, 0, 1) + Math.floor(unitHash(`ws-created:${input.slug}`) * 5 * 365) * 86_400_000,
      admin,
      project: {
        uuid: braced(uuidFrom(`project:${input.slug}`)),
        key:
          input.slug
            .replace(/[^a-z0-9]/gi, '')
            .slice(0, 4)
            .toUpperCase() || 'PROJ',
        name: `${name} projects`,
      },
    };
    this.state.workspaces.set(ws.slug, ws);
    this.state.repos.set(ws.uuid, new Map());
    return ws;
  }

  workspace(slug: string): Workspace {
    const ws = this.state.findWorkspace(slug);
    if (!ws) throw new Error(`Unknown workspace ${slug}`);
    return ws;
  }

  /** Seeds a repository (no webhook). Pull requests are synthesized from the history. */
  addRepository(
    workspace: string,
    input: {
      slug: string;
      name?: string;
      history?: HistorySource;
      mainbranch?: string;
      isPrivate?: boolean;
      /** Another project of the workspace (by key) than its first one. */
      project?: { key: string; name: string };
    },
  ): Repository {
    const ws = this.workspace(workspace);
    const repos = this.state.repos.get(ws.uuid)!;
    if (repos.has(input.slug)) throw new Error(`Repository ${ws.slug}/${input.slug} exists`);
    const history = input.history ? loadHistory(input.history) : undefined;
    let first = Infinity;
    let last = -Infinity;
    for (const m of history?.meta ?? []) {
      this.users.observe(m.authorName, m.authorEmail);
      if (m.timeMs < first) first = m.timeMs;
      if (m.timeMs > last) last = m.timeMs;
    }
    const nowMs = this.now().getTime();
    const repo = new Repository(
      ws,
      braced(uuidFrom(`repository:${ws.slug}/${input.slug}:${repos.size}`)),
      input.slug,
      input.name ?? input.slug,
      input.mainbranch ?? history?.refs.mainbranch ?? 'main',
      Number.isFinite(first) ? first - 86_400_000 : nowMs,
      Number.isFinite(last) ? last : nowMs,
      history,
    );
    repo.isPrivate = input.isPrivate ?? true;
    if (input.project) repo.project = this.projectOf(ws, input.project);
    synthesizePullRequests(repo, this.users);
    repos.set(repo.slug, repo);
    return repo;
  }

  /** A project of the workspace by key (its uuid derived from workspace and key, so stable across runs). */
  private projectOf(ws: Workspace, project: { key: string; name: string }): Project {
    if (project.key === ws.project.key) return ws.project;
    return {
      uuid: braced(uuidFrom(`project:${ws.slug}:${project.key}`)),
      key: project.key,
      name: project.name,
    };
  }

  repository(workspace: string, repo: string): Repository {
    return this.mutations.repo(workspace, repo);
  }

  /**
   * Gives an account a permission on a repository (Bitbucket's repository permissions: read, write, admin); null
   * takes it away. The workspace admin has admin everywhere without one.
   */
  setRepositoryPermission(
    workspace: string,
    repo: string,
    user: string,
    permission: RepositoryPermission | null,
  ): void {
    const repository = this.repository(workspace, repo);
    const account = this.users.get(user);
    if (!account) throw new Error(`Unknown user ${user}`);
    if (permission === null) repository.permissions.delete(account.uuid);
    else repository.permissions.set(account.uuid, permission);
  }

  /**
   * A user token for an account in a workspace, as Forge sends one in `x-forge-oauth-user`: an opaque bearer token
   * with which the REST API reads what that account may read in that workspace. Lifetime: UNCONFIRMED (Forge does
   * not publish it); an hour here.
   */
  issueUserToken(workspace: string, user: string, ttlMs = 3_600_000): string {
    const account = this.users.get(user);
    if (!account) throw new Error(`Unknown user ${user}`);
    const token = randomSecret(64);
    this.state.userTokens.set(token, {
      account,
      workspace: this.workspace(workspace),
      expiresMs: this.now().getTime() + ttlMs,
    });
    return token;
  }

  /** Revokes a user token (the next call with it is a 401). */
  revokeUserToken(token: string): void {
    this.state.userTokens.delete(token);
  }

  /** The installation of a workspace (kept after uninstall, with `active: false`). */
  installation(workspace: string): Installation | undefined {
    return this.state.installations.get(this.workspace(workspace).uuid);
  }

  install(workspace: string, descriptorUrl: string): Promise<InstallResult> {
    return this.lifecycle.install(this.workspace(workspace), descriptorUrl);
  }

  uninstall(workspace: string): Promise<{ status: number }> {
    return this.lifecycle.uninstall(this.workspace(workspace));
  }

  /**
   * Installs the Forge app (signed by `forge`) whose remote is `remoteUrl`: Forge posts `avi:forge:installed:app`
   * to `${remoteUrl}/forge/installed`, and from then on the workspace's changes also go to `/forge/events`.
   */
  installForge(
    workspace: string,
    input: { forge: ForgeSimulator; remoteUrl: string; wrapPayload?: boolean },
  ): Promise<{ installation: ForgeInstallation; delivery: Delivery }> {
    return this.forgeApps.install(this.workspace(workspace), input);
  }

  /** Uninstalls the Forge app: no event reaches the remote (Forge sends none); its system tokens stop working. */
  uninstallForge(workspace: string): void {
    this.forgeApps.uninstall(this.workspace(workspace));
  }

  /** Fires the Forge app's hourly scheduled trigger in a workspace (undefined when the app is not installed there). */
  fireForgeScheduledTrigger(workspace: string): Promise<Delivery | undefined> {
    return this.forgeApps.fireScheduledTrigger(this.workspace(workspace));
  }

  forgeInstallation(workspace: string): ForgeInstallation | undefined {
    return this.forgeApps.installations.get(this.workspace(workspace).uuid);
  }

  push(
    workspace: string,
    repo: string,
    input: { branch: string; commits: PushCommit[]; forced?: boolean; from?: string; actor?: string },
  ): Promise<PushResult> {
    return this.mutations.push(workspace, repo, input);
  }

  forcePush(
    workspace: string,
    repo: string,
    input: { branch: string; to: string; actor?: string },
  ): Promise<MutationResult> {
    return this.mutations.forcePush(workspace, repo, input);
  }

  createBranch(
    workspace: string,
    repo: string,
    input: { branch: string; from: string; actor?: string },
  ): Promise<MutationResult> {
    return this.mutations.createBranch(workspace, repo, input);
  }

  deleteBranch(
    workspace: string,
    repo: string,
    input: { branch: string; actor?: string },
  ): Promise<MutationResult> {
    return this.mutations.deleteBranch(workspace, repo, input);
  }

  createTag(
    workspace: string,
    repo: string,
    input: { tag: string; target: string; actor?: string },
  ): Promise<MutationResult> {
    return this.mutations.createTag(workspace, repo, input);
  }

  deleteTag(
    workspace: string,
    repo: string,
    input: { tag: string; actor?: string },
  ): Promise<MutationResult> {
    return this.mutations.deleteTag(workspace, repo, input);
  }

  renameRepository(workspace: string, repo: string, newName: string): Promise<MutationResult> {
    return this.mutations.renameRepository(workspace, repo, newName);
  }

  /** Moves a repository to another project of its workspace (repo:updated). */
  moveRepository(
    workspace: string,
    repo: string,
    project: { key: string; name: string },
  ): Promise<MutationResult> {
    return this.mutations.moveRepository(workspace, repo, this.projectOf(this.workspace(workspace), project));
  }

  deleteRepository(workspace: string, repo: string): Promise<MutationResult> {
    return this.mutations.deleteRepository(workspace, repo);
  }

  /** addRepository + the repo:created webhook. */
  async createRepository(
    workspace: string,
    input: { slug: string; name?: string; history?: HistorySource; mainbranch?: string },
  ): Promise<MutationResult & { repository: Repository }> {
    const repository = this.addRepository(workspace, input);
    return { ...(await this.mutations.announceCreated(repository)), repository };
  }

  openPullRequest(
    workspace: string,
    repo: string,
    input: {
      title: string;
      source: string;
      destination?: string;
      author?: string;
      reviewers?: string[];
      description?: string;
      closeSourceBranch?: boolean;
      draft?: boolean;
    },
  ): Promise<PullRequestResult> {
    return this.prMutations.openPullRequest(workspace, repo, input);
  }

  mergePullRequest(
    workspace: string,
    repo: string,
    id: number,
    input?: { strategy?: 'merge_commit' | 'squash' | 'fast_forward'; actor?: string; message?: string },
  ): Promise<PullRequestResult> {
    return this.prMutations.mergePullRequest(workspace, repo, id, input);
  }

  declinePullRequest(
    workspace: string,
    repo: string,
    id: number,
    input?: { actor?: string; reason?: string },
  ): Promise<PullRequestResult> {
    return this.prMutations.declinePullRequest(workspace, repo, id, input);
  }

  approvePullRequest(
    workspace: string,
    repo: string,
    id: number,
    input: { user: string },
  ): Promise<PullRequestResult> {
    return this.prMutations.approvePullRequest(workspace, repo, id, input);
  }

  /** Resends a webhook delivery: same X-Request-UUID, X-Attempt-Number + 1. */
  async redeliver(deliveryId: string): Promise<Delivery> {
    const delivery = this.deliveries.find((d) => d.id === deliveryId);
    if (!delivery) throw new Error(`Unknown delivery ${deliveryId}`);
    if (delivery.kind !== 'webhook') throw new Error('Only webhook deliveries can be redelivered');
    const inst = this.installation(delivery.workspace);
    if (!inst || !inst.active) throw new Error(`The app is not installed in ${delivery.workspace}`);
    return this.sender.redeliver(delivery, inst);
  }

  hostPageUrl(
    workspace: string,
    page: { moduleKey: string; repo?: string; targetUserUuid?: string; viewer?: string },
  ): string {
    return `${this.webUrl}${hostPagePath(this.workspace(workspace).slug, page)}`;
  }

  /** The exact signed iframe URL the host page uses for a module (fresh iat each call). */
  signedModuleUrl(workspace: string, moduleKey: string, context: ModuleContext = {}): string {
    const ws = this.workspace(workspace);
    const inst = this.state.installations.get(ws.uuid);
    if (!inst?.active) throw new Error(`The app is not installed in ${workspace}`);
    const module = findModule(inst, moduleKey);
    if (!module) throw new Error(`No module ${moduleKey} in the descriptor`);
    const viewer = context.viewer ? this.users.get(context.viewer) : ws.admin;
    if (!viewer) throw new Error(`Unknown viewer ${context.viewer}`);
    const targetUser = context.targetUserUuid ? this.users.get(context.targetUserUuid) : undefined;
    const repository = context.repo ? this.repository(workspace, context.repo) : undefined;
    return signedIframeUrl(
      inst,
      module,
      { viewer, ...(repository ? { repository } : {}), ...(targetUser ? { targetUser } : {}) },
      { nowSec: Math.floor(this.now().getTime() / 1000), sub: this.opts.iframeSub ?? 'account_id' },
    );
  }

  async close(): Promise<void> {
    for (const t of this.hangTimers) clearTimeout(t);
    this.hangTimers.clear();
    await Promise.all(this.servers.map(closeServer));
  }
}

export function startSimulator(opts?: SimulatorOptions): Promise<Simulator> {
  return Simulator.start(opts);
}
