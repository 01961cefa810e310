import { randomBytes, randomUUID } from 'node:crypto';
import * as atlassianJwt from 'atlassian-jwt';
import { startAfterInstall, verifyInstallation } from '../../src/ingest/install-verification';
import { createRequestBudget } from '../../src/ingest/tasks';
import { jobDeps } from '../../src/main/worker';
import type { TenantStore } from '../../src/db/tenant-store';
import type { Runtime } from '../../src/main/bootstrap';

/** Signs and sends what Bitbucket sends: lifecycle payloads and JWTs exactly as reference §2–§3 describe. */

export function newWorkspace(slug = `ws-${randomBytes(3).toString('hex')}`) {
  const uuid = `{${randomUUID()}}`;
  return {
    slug,
    uuid,
    clientKey: `ari:cloud:bitbucket::app/${uuid}/tally`,
    sharedSecret: randomBytes(32).toString('hex'),
  };
}

export type Workspace = ReturnType<typeof newWorkspace>;

export function installPayload(
  ws: Workspace,
  baseUrl = 'https://bitbucket.org',
  baseApiUrl = 'https://api.bitbucket.org',
) {
  return {
    productType: 'bitbucket',
    eventType: 'installed',
    key: 'tally',
    clientKey: ws.clientKey,
    sharedSecret: ws.sharedSecret,
    publicKey: 'MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC',
    baseUrl,
    baseApiUrl,
    principal: { type: 'team', username: ws.slug, display_name: ws.slug, uuid: ws.uuid },
    user: { type: 'team', username: ws.slug, display_name: ws.slug, uuid: ws.uuid },
    actor: { type: 'user', uuid: randomUUID(), account_id: '5f1234567890abcdef000001' },
  };
}

/** Bitbucket's signature on lifecycle calls and webhooks: iss = aud = clientKey, qsh over `POST&<path>&`. */
export function lifecycleJwt(
  clientKey: string,
  secret: string,
  path: string,
  overrides: Record<string, unknown> = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const qsh = atlassianJwt.createQueryStringHash(atlassianJwt.fromMethodAndUrl('POST', path));
  return atlassianJwt.encodeSymmetric(
    { iss: clientKey, aud: clientKey, iat: now, exp: now + 3600, qsh, ...overrides },
    secret,
  );
}

/** Bitbucket's signature on an iframe page load: `?jwt=` with qsh over the GET request. */
export function pageUrl(
  baseUrl: string,
  pathAndQuery: string,
  ws: Workspace,
  sub = '{viewer-uuid}',
  overrides: Record<string, unknown> = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const qsh = atlassianJwt.createQueryStringHash(atlassianJwt.fromMethodAndUrl('GET', pathAndQuery));
  const token = atlassianJwt.encodeSymmetric(
    { iss: ws.clientKey, aud: ws.clientKey, sub, iat: now, exp: now + 180, qsh, ...overrides },
    ws.sharedSecret,
  );
  return `${baseUrl}${pathAndQuery}${pathAndQuery.includes('?') ? '&' : '?'}jwt=${encodeURIComponent(token)}`;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers };
}

/** A Tally in this process whose registry a helper may reach: a test app or a bench stack. */
export interface LocalTally {
  url: string;
  runtime: Runtime;
}

/**
 * POSTs an install as Bitbucket does. Given a URL, that is all: a first install stays pending. Given a Tally in
 * this process, a 204 is followed by Bitbucket's confirmation (confirmAsBitbucket), so the tenant is usable.
 */
export async function install(app: string | LocalTally, ws: Workspace, signedWith?: string) {
  const headers: Record<string, string> = signedWith
    ? { authorization: `JWT ${lifecycleJwt(ws.clientKey, signedWith, '/installed')}` }
    : {};
  const url = typeof app === 'string' ? app : app.url;
  const res = await postJson(`${url}/installed`, installPayload(ws), headers);
  if (typeof app !== 'string' && res.status === 204)
    await confirmAsBitbucket(app.runtime.tenants, ws.clientKey);
  return res;
}

/**
 * Stands in for Bitbucket's 2xx to the install's verification request: these made-up workspaces exist in no
 * simulator, so the pending tenant is confirmed the way that answer confirms it (the real request is covered by
 * test/foundation/install-verification.test.ts). A tenant that is not pending is left as it is.
 */
export async function confirmAsBitbucket(tenants: TenantStore, clientKey: string): Promise<void> {
  const tenant = await tenants.findByClientKey(clientKey);
  if (tenant?.state !== 'pending') return;
  const pending = await tenants.pendingCredentials(tenant.id);
  if (pending)
    await tenants.confirmInstallation(
      tenant.id,
      { sharedSecret: pending.sharedSecret, baseApiUrl: tenant.baseApiUrl },
      startAfterInstall,
    );
}

/**
 * The install's verification job body, run now against a real Bitbucket stand-in (the simulator): one request
 * signed with the new credentials; a 2xx confirms the tenant and enqueues its backfill.
 */
export function verifyWithBitbucket(runtime: Runtime, tenantId: string) {
  const deps = jobDeps(runtime);
  return verifyInstallation(
    { tenants: deps.tenants, logger: deps.logger, budget: createRequestBudget(deps) },
    { tenantId },
  );
}
