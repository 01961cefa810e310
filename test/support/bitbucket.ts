import { randomBytes, randomUUID } from 'node:crypto';
import * as atlassianJwt from 'atlassian-jwt';

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

export async function install(appUrl: string, ws: Workspace, signedWith?: string) {
  const headers: Record<string, string> = signedWith
    ? { authorization: `JWT ${lifecycleJwt(ws.clientKey, signedWith, '/installed')}` }
    : {};
  return postJson(`${appUrl}/installed`, installPayload(ws), headers);
}
