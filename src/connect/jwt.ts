import { createSecretKey, type KeyObject } from 'node:crypto';
import * as atlassianJwt from 'atlassian-jwt';
import jsonwebtoken from 'jsonwebtoken';
import { z } from 'zod';
import { HttpError } from '../platform/errors';
import { noControlText } from '../platform/validation';
import type { ViewerScope } from './session-scope';

/** Claims of the Connect JWTs Tally accepts (lifecycle, webhook, iframe page, session). */
export interface ConnectClaims {
  iss: string;
  sub?: string;
  aud?: string | string[];
  iat?: number;
  exp?: number;
  qsh?: string;
  /** Tally's session tokens only: the page that minted it. */
  tally_page?: string;
  /** Tally's session tokens only: what the viewer may read (session-scope.ts), checked when the token is used. */
  tally_scope?: unknown;
}

/** A refused token: always a 401, with `token_expired` when only the clock is against it. */
export class TokenError extends HttpError {
  constructor(
    message: string,
    code: 'unauthenticated' | 'token_expired' | 'not_installed' = 'unauthenticated',
  ) {
    super(code, message);
    this.name = 'TokenError';
  }
}

/**
 * The claims Tally reads, checked before any of them reaches the database (a clientKey with a NUL in it would
 * fail there): strings of sane length without control characters. Other claims pass through unchecked.
 */
const claim = noControlText.max(1024);
const claimsShape = z
  .object({
    iss: claim,
    sub: claim.optional(),
    aud: z.union([claim, z.array(claim).max(16)]).optional(),
    qsh: claim.optional(),
    tally_page: claim.optional(),
  })
  .loose();

/** The header and claims without verification, or null when the token is not a JWT at all or its claims are odd. */
export function peek(token: string): { alg: string; claims: ConnectClaims } | null {
  const decoded = jsonwebtoken.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null) return null;
  const claims = claimsShape.safeParse(decoded.payload);
  if (!claims.success) return null;
  return { alg: decoded.header.alg, claims: claims.data as ConnectClaims };
}

/** The qsh of a request, exactly as atlassian-jwt (and so Bitbucket) computes it: jwt param dropped, query sorted. */
export function qshOf(method: string, pathAndQuery: string): string {
  return atlassianJwt.createQueryStringHash(atlassianJwt.fromMethodAndUrl(method, pathAndQuery));
}

/**
 * Shared secrets as KeyObjects, made once per secret: given a string, jsonwebtoken first tries (and fails) to parse
 * it as a public key, which costs more than the whole rest of a webhook delivery. Bounded: cleared when full.
 */
const secretKeys = new Map<string, KeyObject>();

function secretKey(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (!key) {
    if (secretKeys.size >= 10_000) secretKeys.clear();
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    secretKeys.set(secret, key);
  }
  return key;
}

/**
 * Verifies signature (HS256 only: `alg: none` and RS256 are refused), expiry, and, unless expectedQsh is null,
 * the query string hash.
 */
export function verifyConnectToken(token: string, secret: string, expectedQsh: string | null): ConnectClaims {
  let claims: ConnectClaims;
  try {
    claims = jsonwebtoken.verify(token, secretKey(secret), {
      algorithms: ['HS256'],
    }) as ConnectClaims;
  } catch (error) {
    if (error instanceof jsonwebtoken.TokenExpiredError)
      throw new TokenError('token expired', 'token_expired');
    throw new TokenError('invalid token');
  }
  if (expectedQsh !== null && claims.qsh !== expectedQsh)
    throw new TokenError('query string hash does not match');
  return claims;
}

export const SESSION_TOKEN_SECONDS = 15 * 60;

/**
 * The session token Tally hands to its iframe pages for API calls, shaped like ACE's:
 * iss = app key, aud = [clientKey], sub = the viewer, HS256 with the tenant's shared secret, 15 minutes.
 */
export function createSessionToken(input: {
  appKey: string;
  clientKey: string;
  secret: string;
  viewer?: string;
  /** The iframe page that minted the token: admin-only actions require the configure page. */
  page?: string;
  /** What the viewer may read: every session token carries one. */
  scope: ViewerScope;
  now?: Date;
}): string {
  const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
  return jsonwebtoken.sign(
    {
      iss: input.appKey,
      sub: input.viewer,
      aud: [input.clientKey],
      iat,
      exp: iat + SESSION_TOKEN_SECONDS,
      tally_page: input.page,
      tally_scope: input.scope,
    },
    input.secret,
    { algorithm: 'HS256' },
  );
}
