import {
  createQueryStringHash,
  decodeSymmetric,
  encodeSymmetric,
  fromMethodAndPathAndBody,
  fromMethodAndUrl,
  SymmetricAlgorithm,
} from 'atlassian-jwt';
import type { Account } from './accounts.js';
import type { Installation, UserToken, Workspace } from './store.js';

export type ApiAuth =
  { ok: true; installation: Installation } | { ok: false; message: string; detail: string };

/**
 * Who an authenticated REST call acts as: an app (Connect JWT: its installation, whose `/2.0/user` is the
 * workspace admin who installed it) or a user token (that account, reading what the account may read).
 */
export interface ApiCaller {
  workspace: Workspace;
  /** `/2.0/user`: the installer for an app, the token's account for a user token. */
  account: Account;
  /** Set for app credentials: its descriptor's scopes apply and it reads every repository of its workspace. */
  installation?: Installation;
  /** Rate-limit key: the clientKey, or `user:<account uuid>`. */
  key: string;
}

export const appCaller = (installation: Installation): ApiCaller => ({
  workspace: installation.workspace,
  account: installation.workspace.admin,
  installation,
  key: installation.clientKey,
});

/**
 * `Authorization: Bearer <user token>`: a token the simulator issued (Simulator.issueUserToken), unexpired. The
 * token is opaque: only the simulator's own table knows whom it stands for.
 */
export function verifyUserToken(
  authorization: string | undefined,
  nowMs: number,
  tokens: ReadonlyMap<string, UserToken>,
  /** The workspace uuid (unbraced) a gateway-style path prefix names, if any: it must be the token's. */
  gatewayWorkspace?: string,
): { ok: true; caller: ApiCaller } | { ok: false; message: string; detail: string } {
  const fail = (detail: string) => ({ ok: false as const, message: 'Unauthorized', detail });
  const match = /^Bearer\s+(\S+)$/.exec(authorization ?? '');
  if (!match) return fail('Authorization scheme must be "Bearer".');
  const token = tokens.get(match[1]!);
  if (!token) return fail('Invalid or revoked access token.');
  if (token.expiresMs <= nowMs) return fail('Access token expired.');
  if (gatewayWorkspace !== undefined && `{${gatewayWorkspace.toLowerCase()}}` !== token.workspace.uuid)
    return fail('The access token is for another workspace than the gateway path names.');
  return {
    ok: true,
    caller: { workspace: token.workspace, account: token.account, key: `user:${token.account.uuid}` },
  };
}

interface Claims {
  iss?: unknown;
  sub?: unknown;
  exp?: unknown;
  qsh?: unknown;
}

/**
 * Authenticates an app → Bitbucket REST call the way Bitbucket does for Connect apps:
 * `Authorization: JWT <HS256>` signed with the installation's sharedSecret, `iss` = app key,
 * `sub` = clientKey, `exp` in the future, `qsh` over method + path + sorted query.
 * A form-encoded POST body (POST …/commits) may also be covered by the qsh, as ACE accepts.
 */
export function verifyApiRequest(input: {
  authorization: string | undefined;
  method: string;
  originalUrl: string;
  body: unknown;
  nowSec: number;
  installationFor: (clientKey: string) => Installation | undefined;
}): ApiAuth {
  const fail = (detail: string): ApiAuth => ({ ok: false, message: 'Unauthorized', detail });
  const header = input.authorization ?? '';
  if (!header) return fail('No Authorization header: send "Authorization: JWT <token>".');
  const match = /^JWT\s+(\S+)$/.exec(header);
  if (!match) return fail('Authorization scheme must be "JWT" (case sensitive).');
  const token = match[1]!;
  let claims: Claims;
  try {
    claims = decodeSymmetric(token, '', SymmetricAlgorithm.HS256, true) as Claims;
  } catch (err) {
    return fail(`Malformed JWT: ${(err as Error).message}`);
  }
  if (typeof claims.sub !== 'string') return fail('JWT has no sub claim (the clientKey).');
  const installation = input.installationFor(claims.sub);
  if (!installation || !installation.active)
    return fail(`No active installation for clientKey ${claims.sub}.`);
  if (claims.iss !== installation.descriptor.key)
    return fail(`JWT iss must be the app key "${installation.descriptor.key}".`);
  try {
    decodeSymmetric(token, installation.sharedSecret, SymmetricAlgorithm.HS256, false);
  } catch {
    return fail('JWT signature does not verify with the shared secret.');
  }
  if (typeof claims.exp !== 'number') return fail('JWT has no exp claim.');
  if (claims.exp <= input.nowSec) return fail('JWT has expired.');
  if (typeof claims.qsh !== 'string') return fail('JWT has no qsh claim.');
  const expected = createQueryStringHash(fromMethodAndUrl(input.method, input.originalUrl));
  if (claims.qsh !== expected) {
    const body = input.body;
    const hasForm =
      input.method === 'POST' && body !== null && typeof body === 'object' && Object.keys(body).length > 0;
    const viaBody = hasForm
      ? createQueryStringHash(
          fromMethodAndPathAndBody('post', input.originalUrl, body as Record<string, unknown>),
          true,
        )
      : undefined;
    if (claims.qsh !== viaBody) return fail('JWT qsh does not match the request (method, path, query).');
  }
  return { ok: true, installation };
}

/**
 * Token Bitbucket puts on lifecycle callbacks and webhooks: `iss` = `aud` = clientKey,
 * exp = iat + 3600, qsh over `POST&<path>&`, no `sub`. The path is canonicalized relative to
 * the app's baseUrl, like ACE verifies it (whether Bitbucket strips a baseUrl path: UNCONFIRMED).
 */
export function signHostRequest(p: {
  clientKey: string;
  secret: string;
  method: string;
  url: string;
  baseUrl: string;
  nowSec: number;
}): string {
  const qsh = createQueryStringHash(fromMethodAndUrl(p.method, p.url), false, p.baseUrl);
  return encodeSymmetric(
    { iss: p.clientKey, aud: p.clientKey, iat: p.nowSec, exp: p.nowSec + 3600, qsh },
    p.secret,
    SymmetricAlgorithm.HS256,
  );
}

/** Lifetime of iframe tokens (Connect's usual 3 minutes; Bitbucket's exact value UNCONFIRMED). */
export const IFRAME_TOKEN_SECONDS = 180;

/** Token for an iframe page load: qsh over GET + path + the URL's query (minus jwt). */
export function signIframeUrl(p: {
  clientKey: string;
  secret: string;
  url: string;
  baseUrl: string;
  sub: string;
  nowSec: number;
}): string {
  const qsh = createQueryStringHash(fromMethodAndUrl('GET', p.url), false, p.baseUrl);
  return encodeSymmetric(
    {
      iss: p.clientKey,
      aud: p.clientKey,
      sub: p.sub,
      iat: p.nowSec,
      exp: p.nowSec + IFRAME_TOKEN_SECONDS,
      qsh,
    },
    p.secret,
    SymmetricAlgorithm.HS256,
  );
}
