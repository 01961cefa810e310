import { randomBytes, randomUUID } from 'node:crypto';
import type { ForgeSimulator } from './forge.js';
import type { Json } from './payloads.js';
import type { Installation, Workspace } from './store.js';
import type { Delivery } from './types.js';
import { unbraced } from './util.js';
import { postJson } from './webhooks.js';

/**
 * Bitbucket's side of a Forge Remote app, for the demo and the tests (docs/forge.md): installations of the Forge
 * app, the system tokens Forge hands the remote (`x-forge-oauth-system`), which the REST API checks as
 * `Authorization: Bearer`, and the lifecycle and product events Forge posts to the remote, each signed as an
 * invocation token by the simulator's Forge (src/simulator/forge.ts).
 *
 * Event shapes follow Atlassian's "Bitbucket events" reference (developer.atlassian.com/platform/forge/
 * events-reference/bitbucket/): `eventType`, `actor`, `repository` (`uuid`, `slug`), `project`, `workspace`, and
 * for pushes one `push` per ref (`ref`, `before`, `after`, `created`, `closed`, `forced`, `truncated`, `commits`).
 * Delivery follows the Forge Remote invocation contract: POST, 5 s timeout, up to 4 retries.
 */

/** Forge's event timeout and retries (forge-remote-invocation-contract). */
export const FORGE_EVENT_TIMEOUT_MS = 5_000;
export const FORGE_EVENT_RETRIES = 4;
/** How long a system token lives in the simulator (Atlassian does not publish the real lifetime). */
export const SYSTEM_TOKEN_SECONDS = 3600;

/** The read scopes the manifest asks for; the REST routes check them as they check a Connect descriptor's. */
const FORGE_SCOPES = ['account', 'email', 'repository', 'pullrequest'];

export interface ForgeInstallation {
  /** `ari:cloud:ecosystem::installation/<uuid>`. */
  installationId: string;
  workspace: Workspace;
  /** The remote's base URL (the manifest's `remotes[].baseUrl`: Tally's BASE_URL). */
  remoteUrl: string;
  /** `app.apiBaseUrl` in the tokens: the simulator's API under a gateway-style path prefix. */
  apiBaseUrl: string;
  forge: ForgeSimulator;
  active: boolean;
  /** Events posted at the top level (false) or wrapped under `payload` (true). */
  wrapPayload: boolean;
  /** What the REST routes see: the installation's workspace and read scopes. */
  asInstallation: Installation;
}

interface SystemTokenGrant {
  installation: ForgeInstallation;
  expiresAtMs: number;
}

/** The gateway-style prefix of a Forge installation's apiBaseUrl: `/ex/bitbucket/<workspace uuid>`. */
export const GATEWAY_PREFIX = /^\/ex\/bitbucket\/([0-9a-f-]{36})(\/.*)$/i;

/** Connect event key → Forge event type. */
const FORGE_EVENT: Record<string, string> = {
  'repo:push': 'avi:bitbucket:push:repository',
  'repo:created': 'avi:bitbucket:created:repository',
  'repo:updated': 'avi:bitbucket:updated:repository',
  'repo:deleted': 'avi:bitbucket:deleted:repository',
  'pullrequest:created': 'avi:bitbucket:created:pullrequest',
  'pullrequest:updated': 'avi:bitbucket:updated:pullrequest',
  'pullrequest:fulfilled': 'avi:bitbucket:fulfilled:pullrequest',
  'pullrequest:rejected': 'avi:bitbucket:rejected:pullrequest',
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});

export class ForgeApps {
  /** workspace uuid → installation (kept after uninstall, inactive). */
  readonly installations = new Map<string, ForgeInstallation>();
  private readonly tokens = new Map<string, SystemTokenGrant>();

  constructor(
    private readonly deps: { apiUrl: string; deliveries: Delivery[]; now: () => Date; timeoutMs?: number },
  ) {}

  /** Installs the Forge app in a workspace and posts `avi:forge:installed:app` to the remote. */
  async install(
    workspace: Workspace,
    input: { forge: ForgeSimulator; remoteUrl: string; wrapPayload?: boolean },
  ): Promise<{ installation: ForgeInstallation; delivery: Delivery }> {
    const existing = this.installations.get(workspace.uuid);
    const installationId = existing?.installationId ?? `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const installation: ForgeInstallation = {
      installationId,
      workspace,
      remoteUrl: input.remoteUrl.replace(/\/+$/, ''),
      apiBaseUrl: `${this.deps.apiUrl}/ex/bitbucket/${unbraced(workspace.uuid)}`,
      forge: input.forge,
      active: true,
      wrapPayload: input.wrapPayload ?? false,
      asInstallation: {
        workspace,
        clientKey: installationId,
        sharedSecret: '',
        descriptor: { key: 'forge', baseUrl: input.remoteUrl, scopes: FORGE_SCOPES, modules: {} },
        baseUrl: input.remoteUrl,
        active: true,
        hookUuids: [],
      },
    };
    this.installations.set(workspace.uuid, installation);
    const delivery = await this.deliver(installation, '/forge/installed', {
      eventType: existing ? 'avi:forge:upgraded:app' : 'avi:forge:installed:app',
      id: installationId,
      installerAccountId: workspace.admin.account_id,
      app: { id: input.forge.appId, version: '1' },
      context: { installContext: `ari:cloud:bitbucket::workspace/${unbraced(workspace.uuid)}` },
    });
    return { installation, delivery };
  }

  /** Uninstalls: Forge tells the remote nothing (no uninstall event); the app's tokens stop working. */
  uninstall(workspace: Workspace): void {
    const installation = this.installations.get(workspace.uuid);
    if (!installation) return;
    installation.active = false;
    installation.asInstallation.active = false;
    for (const [token, grant] of this.tokens)
      if (grant.installation === installation) this.tokens.delete(token);
  }

  /** A new system token for an installation (Forge sends one with every invocation). */
  issueSystemToken(installation: ForgeInstallation, seconds = SYSTEM_TOKEN_SECONDS): string {
    // Opaque, and never a JWT: nothing outside the simulator can read anything into it.
    const token = `sim-forge-system-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { installation, expiresAtMs: this.deps.now().getTime() + seconds * 1000 });
    return token;
  }

  /** Every token of the installation expires now (a remote holding one must wait for the next invocation). */
  expireTokens(installation: ForgeInstallation): void {
    for (const grant of this.tokens.values())
      if (grant.installation === installation) grant.expiresAtMs = this.deps.now().getTime();
  }

  /**
   * `Authorization: Bearer <token>` on a REST call: undefined when it is no system token (a user token, maybe),
   * else the installation or why not. Under a gateway prefix the prefix must name the token's workspace.
   */
  verifyBearer(
    token: string,
    prefixWorkspace: string | undefined,
  ): { ok: true; installation: Installation } | { ok: false; detail: string } | undefined {
    const grant = this.tokens.get(token);
    if (!grant) return undefined;
    if (grant.expiresAtMs <= this.deps.now().getTime()) return { ok: false, detail: 'Access token expired.' };
    if (!grant.installation.active) return { ok: false, detail: 'The app is not installed.' };
    if (
      prefixWorkspace !== undefined &&
      prefixWorkspace.toLowerCase() !== unbraced(grant.installation.workspace.uuid)
    )
      return { ok: false, detail: 'The token is not for this workspace.' };
    return { ok: true, installation: grant.installation.asInstallation };
  }

  /**
   * The Forge events for a Connect webhook event the simulator just produced (pushes: one event per changed ref),
   * posted to the remote's `/forge/events` when the workspace has the Forge app installed.
   */
  async emit(workspace: Workspace, event: string, data: Json): Promise<Delivery[]> {
    const installation = this.installations.get(workspace.uuid);
    const eventType = FORGE_EVENT[event];
    if (!installation?.active || !eventType) return [];
    const out: Delivery[] = [];
    for (const body of forgeEvents(eventType, obj(data), workspace))
      out.push(await this.deliver(installation, '/forge/events', body));
    return out;
  }

  /**
   * One run of the manifest's scheduledTrigger (`tally-keepalive`, hourly) in an installed workspace: Forge posts
   * the trigger's request (its `context` names the cloud and the module key) to the remote's `/forge/scheduled`,
   * with an invocation token and a fresh system token, and the same timeout and retries as events.
   */
  async fireScheduledTrigger(workspace: Workspace): Promise<Delivery | undefined> {
    const installation = this.installations.get(workspace.uuid);
    if (!installation?.active) return undefined;
    const request = {
      context: { cloudId: unbraced(workspace.uuid), moduleKey: 'tally-keepalive' },
      contextToken: randomBytes(32).toString('base64url'),
    };
    return this.deliver(installation, '/forge/scheduled', request, 'scheduledTrigger');
  }

  /** One POST per attempt, each with a fresh invocation token and system token, as Forge invokes. */
  private async deliver(
    installation: ForgeInstallation,
    path: string,
    event: Obj,
    name = String(event.eventType),
  ): Promise<Delivery> {
    const body = installation.wrapPayload && event.eventType !== undefined ? { payload: event } : event;
    const delivery: Delivery = {
      id: randomUUID(),
      kind: 'forge',
      event: name,
      url: `${installation.remoteUrl}${path}`,
      workspace: installation.workspace.slug,
      body,
      status: 0,
      attempts: 0,
      attemptLog: [],
    };
    this.deps.deliveries.push(delivery);
    do {
      delivery.attempts++;
      const at = this.deps.now().toISOString();
      const fit = await installation.forge.invocationToken({
        installationId: installation.installationId,
        workspaceUuid: installation.workspace.uuid,
        apiBaseUrl: installation.apiBaseUrl,
      });
      const result = await postJson(
        delivery.url,
        JSON.stringify(body),
        { Authorization: `Bearer ${fit}`, 'x-forge-oauth-system': this.issueSystemToken(installation) },
        this.deps.timeoutMs ?? FORGE_EVENT_TIMEOUT_MS,
      );
      delivery.status = result.status;
      delivery.attemptLog.push(
        result.error === undefined
          ? { attempt: delivery.attempts, status: result.status, at }
          : { attempt: delivery.attempts, status: result.status, at, error: result.error },
      );
    } while (
      (delivery.status === 0 || delivery.status === 429 || delivery.status >= 500) &&
      delivery.attempts <= FORGE_EVENT_RETRIES
    );
    return delivery;
  }
}

/** Forge's `Actor` from a Connect account reference. */
function actorOf(actor: Obj): Obj {
  return { type: 'user', accountId: actor.account_id ?? null, uuid: actor.uuid ?? null };
}

/** Forge's `Repository` (`uuid`, `slug`) from a Connect repository object. */
function repositoryOf(repository: Obj): Obj {
  const fullName = typeof repository.full_name === 'string' ? repository.full_name : '';
  const slug = fullName.includes('/') ? fullName.slice(fullName.indexOf('/') + 1) : undefined;
  return { uuid: repository.uuid, ...(slug ? { slug } : {}) };
}

const truncatedValue = (value: unknown) => ({
  value: typeof value === 'string' ? value : '',
  truncated: false,
});

/** The Forge events of one Connect event (a push: one per change, since a Forge push names one ref). */
function forgeEvents(eventType: string, data: Obj, workspace: Workspace): Obj[] {
  const repository = obj(data.repository);
  const base = {
    eventType,
    timestamp: new Date().toISOString(),
    actor: actorOf(obj(data.actor)),
    repository: repositoryOf(repository),
    project: { uuid: obj(repository.project).uuid ?? workspace.project.uuid },
    workspace: { uuid: workspace.uuid },
  };
  if (eventType === 'avi:bitbucket:push:repository') {
    const changes = (obj(data.push).changes as Obj[] | undefined) ?? [];
    return changes.map((change) => {
      const ref = obj(change.new ?? change.old);
      const before = obj(obj(change.old).target).hash;
      const after = obj(obj(change.new).target).hash;
      const flags = {
        ref: ref.name,
        ...(before ? { before } : {}),
        ...(after ? { after } : {}),
        created: change.created,
        closed: change.closed,
        forced: change.forced,
      };
      const push =
        ref.type === 'tag'
          ? flags
          : {
              ...flags,
              mainbranch: false,
              truncated: change.truncated ?? false,
              commits: ((change.commits as Obj[] | undefined) ?? []).map((c) => ({
                hash: c.hash,
                message: truncatedValue(c.message),
                date: c.date,
                author: { user: actorOf(obj(obj(c.author).user)) },
              })),
            };
      return { ...base, push };
    });
  }
  if (eventType.endsWith(':pullrequest')) {
    const pr = obj(data.pullrequest);
    const side = (s: unknown) => ({
      branch: obj(obj(s).branch).name,
      commit: { hash: obj(obj(s).commit).hash },
    });
    return [
      {
        ...base,
        pullrequest: {
          id: pr.id,
          state: pr.state,
          source: side(pr.source),
          destination: side(pr.destination),
          title: truncatedValue(pr.title),
          ...(pr.merge_commit ? { mergeCommit: { hash: obj(pr.merge_commit).hash } } : {}),
        },
      },
    ];
  }
  if (eventType === 'avi:bitbucket:updated:repository') return [{ ...base, changes: data.changes ?? {} }];
  return [base];
}
