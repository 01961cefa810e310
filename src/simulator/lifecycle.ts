import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { signHostRequest } from './auth.js';
import { descriptorSchema, resolveAppUrl, type Descriptor } from './descriptor.js';
import { link, type Json, type Payloads } from './payloads.js';
import type { Installation, Workspace } from './store.js';
import type { Delivery, InstallResult } from './types.js';
import { isoMicros, randomSecret, unbraced } from './util.js';
import { postJson } from './webhooks.js';

export interface LifecycleDeps {
  appKey: string;
  payloads: Payloads;
  installations: Map<string, Installation>;
  deliveries: Delivery[];
  now: () => Date;
  timeoutMs: number;
}

/** Bitbucket sends an RSA public key in the install payload; apps do not use it for HS256. */
function makePublicKey(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

export async function fetchDescriptor(url: string, timeoutMs: number): Promise<Descriptor> {
  const res = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { Accept: 'application/json' },
  });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  const parsed = descriptorSchema.safeParse(await res.json());
  if (!parsed.success) throw new Error(`Invalid descriptor at ${url}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Installs and uninstalls Connect apps the way bitbucket.org does. */
export class Lifecycle {
  private readonly publicKey = makePublicKey();

  constructor(private readonly deps: LifecycleDeps) {}

  /**
   * Fetches the descriptor, then POSTs `installed`. The first install is unsigned (trust on
   * first use); a reinstall, or an install after an uninstall, is signed with the previously
   * stored sharedSecret. The new secret takes effect only if the app answers 2xx.
   */
  async install(ws: Workspace, descriptorUrl: string): Promise<InstallResult> {
    const descriptor = await fetchDescriptor(descriptorUrl, this.deps.timeoutMs);
    if (descriptor.key !== this.deps.appKey) {
      throw new Error(
        `Descriptor key "${descriptor.key}" differs from the simulator's appKey "${this.deps.appKey}"`,
      );
    }
    const installedPath = descriptor.lifecycle?.installed;
    if (!installedPath) throw new Error('Descriptor has no lifecycle.installed URL');
    const clientKey = `ari:cloud:bitbucket::app/${ws.uuid}/${descriptor.key}`;
    const sharedSecret = randomSecret(64);
    const previous = this.deps.installations.get(ws.uuid);
    const body = { ...this.payload(ws, descriptor, clientKey, 'installed'), sharedSecret };
    const url = resolveAppUrl(descriptor.baseUrl, installedPath);
    const status = await this.post(
      ws,
      'installed',
      url,
      body,
      previous ? { inst: previous, baseUrl: descriptor.baseUrl } : undefined,
    );
    if (status >= 200 && status < 300) {
      const hooks = descriptor.modules.webhooks ?? [];
      this.deps.installations.set(ws.uuid, {
        workspace: ws,
        clientKey,
        sharedSecret,
        descriptor,
        baseUrl: descriptor.baseUrl.replace(/\/+$/, ''),
        active: true,
        hookUuids: hooks.map((_, i) => previous?.hookUuids[i] ?? randomUUID()),
      });
    }
    return { status, clientKey, sharedSecret };
  }

  /** POSTs `uninstalled` signed with the current secret; the installation stops working either way. */
  async uninstall(ws: Workspace): Promise<{ status: number }> {
    const inst = this.deps.installations.get(ws.uuid);
    if (!inst || !inst.active) throw new Error(`No active installation in workspace ${ws.slug}`);
    inst.active = false;
    const path = inst.descriptor.lifecycle?.uninstalled;
    if (!path) return { status: 0 };
    const body = this.payload(ws, inst.descriptor, inst.clientKey, 'uninstalled');
    const status = await this.post(ws, 'uninstalled', resolveAppUrl(inst.baseUrl, path), body, {
      inst,
      baseUrl: inst.baseUrl,
    });
    return { status };
  }

  private payload(ws: Workspace, d: Descriptor, clientKey: string, eventType: string): Json {
    const p = this.deps.payloads;
    const id = encodeURIComponent(ws.uuid);
    const principal = {
      type: 'team',
      username: ws.slug,
      display_name: ws.name,
      uuid: ws.uuid,
      is_active: true,
      created_on: isoMicros(ws.createdMs, ws.uuid),
      links: {
        self: link(`${p.apiUrl}/2.0/teams/${id}`),
        html: link(`${p.webUrl}/${id}/`),
        avatar: p.avatar('team', ws.slug),
      },
    };
    return {
      productType: 'bitbucket',
      eventType,
      key: d.key,
      clientKey,
      publicKey: this.publicKey,
      baseUrl: p.webUrl,
      baseApiUrl: p.apiUrl,
      principal,
      // In the real team-install capture `user` is the same object as `principal`.
      user: principal,
      // The captured actor's uuid has no braces.
      actor: { type: 'user', uuid: unbraced(ws.admin.uuid), account_id: ws.admin.account_id },
    };
  }

  private async post(
    ws: Workspace,
    event: string,
    url: string,
    body: Json,
    signer?: { inst: Installation; baseUrl: string },
  ): Promise<number> {
    const now = this.deps.now();
    const headers: Record<string, string> = {};
    if (signer) {
      const token = signHostRequest({
        clientKey: signer.inst.clientKey,
        secret: signer.inst.sharedSecret,
        method: 'POST',
        url,
        baseUrl: signer.baseUrl,
        nowSec: Math.floor(now.getTime() / 1000),
      });
      headers.Authorization = `JWT ${token}`;
    }
    const result = await postJson(url, JSON.stringify(body), headers, this.deps.timeoutMs);
    const at = now.toISOString();
    this.deps.deliveries.push({
      id: randomUUID(),
      kind: 'lifecycle',
      event,
      url,
      workspace: ws.slug,
      body,
      status: result.status,
      attempts: 1,
      attemptLog: [
        result.error === undefined
          ? { attempt: 1, status: result.status, at }
          : { attempt: 1, status: result.status, at, error: result.error },
      ],
    });
    return result.status;
  }
}
