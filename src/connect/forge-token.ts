import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { HttpError } from '../platform/errors';
import { noControlText } from '../platform/validation';
import { TokenError } from './jwt';
import { isAllowedHost } from './lifecycle';
import { bracedUuid } from './session-scope';

/**
 * Forge Remote's invocation token (FIT): what Forge sends, as `Authorization: Bearer <FIT>`, with every call to a
 * remote (UI remote calls, lifecycle and product events). Claim names and their sources: docs/forge.md.
 */
export const FIT_ISSUER = 'forge/invocation-token';

/** The claims Tally reads, once the signature, issuer, audience and expiry have been checked. */
export interface ForgeInvocation {
  /** `app.installationId`, as an ARI (`ari:cloud:ecosystem::installation/<uuid>`): the tenant's key. */
  installationId: string;
  /** `app.apiBaseUrl`: Bitbucket REST calls go to `${apiBaseUrl}/2.0/...` (a path prefix, no trailing slash). */
  apiBaseUrl: string;
  /** The Bitbucket workspace the installation belongs to (braced uuid), when the token names it. */
  workspaceUuid: string | null;
  /** `principal`: the account that is looking (UI invocations only). */
  accountId: string | null;
  /** The module that called: `context.extension.type`, else `app.module.type`. */
  moduleType: string | null;
  /** `context.extension.repository.uuid` (braced): the repository a repository page shows. */
  repositoryUuid: string | null;
  /** Whether the token carries a module context at all (UI invocations do; events and backend calls do not). */
  hasContext: boolean;
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const INSTALLATION = new RegExp(`^(?:ari:cloud:ecosystem::installation/)?(${UUID})$`);
const WORKSPACE_ARI = new RegExp(`^ari:cloud:bitbucket::workspace/\\{?(${UUID})\\}?$`);

const text = (max: number) => noControlText.min(1).max(max);

/** `ari:cloud:ecosystem::installation/<uuid>` (or the bare uuid lifecycle events carry), as one canonical ARI. */
export const installationIdSchema = text(128)
  .regex(INSTALLATION, 'expected ari:cloud:ecosystem::installation/<uuid>')
  .transform((v) => `ari:cloud:ecosystem::installation/${INSTALLATION.exec(v)![1]!.toLowerCase()}`);

/** An installation context: Bitbucket's workspace ARI, as a string or in an object's `ari`/`id`/`workspaceId`. */
const installationContext = z.union([
  text(512),
  z
    .object({ ari: text(512).optional(), id: text(512).optional(), workspaceId: text(512).optional() })
    .loose(),
]);

const fitClaims = z
  .object({
    iss: z.literal(FIT_ISSUER),
    app: z
      .object({
        id: text(128),
        installationId: installationIdSchema,
        apiBaseUrl: text(2048),
        installation: z
          .object({ contexts: z.array(installationContext).max(100).optional() })
          .loose()
          .optional(),
        module: z
          .object({ type: text(128).optional(), key: text(256).optional() })
          .loose()
          .optional(),
      })
      .loose(),
    context: z
      .object({
        installContext: text(512).optional(),
        workspaceId: text(512).optional(),
        extension: z
          .object({
            type: text(128).optional(),
            repository: z
              .object({ uuid: bracedUuid('expected the repository uuid') })
              .loose()
              .optional(),
          })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
    principal: text(256).optional(),
  })
  .loose();

type FitClaims = z.infer<typeof fitClaims>;

/** A workspace uuid (braced, lower-case) from an ARI or a plain (braced) uuid; null for anything else. */
export function workspaceOf(value: string | undefined): string | null {
  if (value === undefined) return null;
  const ari = WORKSPACE_ARI.exec(value);
  if (ari) return `{${ari[1]!.toLowerCase()}}`;
  const plain = bracedUuid('').safeParse(value);
  return plain.success ? plain.data : null;
}

/** Every workspace the token names; they must agree, or the token is refused. */
function workspaceFrom(claims: FitClaims): string | null {
  const named = new Set<string>();
  const add = (value: string | undefined) => {
    const ws = workspaceOf(value);
    if (ws) named.add(ws);
  };
  for (const context of claims.app.installation?.contexts ?? []) {
    if (typeof context === 'string') add(context);
    else [context.ari, context.id, context.workspaceId].forEach(add);
  }
  add(claims.context?.installContext);
  add(claims.context?.workspaceId);
  if (named.size > 1) throw new TokenError('invocation token names more than one workspace');
  return [...named][0] ?? null;
}

export interface ForgeVerifierOptions {
  appId: string;
  jwksUrl: string;
  allowedHosts: string[];
  requireHttps: boolean;
  /** Keys to use instead of fetching `jwksUrl` (tests of the verifier alone). */
  keys?: JWTVerifyGetKey;
}

/** Forge's API gateway: product REST calls of a Forge app go through it (docs/forge.md). */
export const FORGE_API_HOSTS = ['api.atlassian.com'];

/**
 * Verifies invocation tokens. Keys come from the JWKS URL through jose's remote key set: cached (10 minutes), and a
 * token whose `kid` is not in the cache refetches the set at most once every 30 s (its cooldown), so a rotated key
 * is picked up without a restart and forged key ids cannot make Tally hammer the key server.
 */
export class ForgeVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly options: ForgeVerifierOptions) {
    this.keys =
      options.keys ??
      createRemoteJWKSet(new URL(options.jwksUrl), {
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
        timeoutDuration: 5_000,
      });
  }

  /** The token's claims, or a TokenError (401) naming what is wrong. */
  async verify(token: string): Promise<ForgeInvocation> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: ['RS256'],
        issuer: FIT_ISSUER,
        audience: this.options.appId,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw new TokenError(
        reasonOf(error),
        error instanceof joseErrors.JWTExpired ? 'token_expired' : undefined,
      );
    }
    const parsed = fitClaims.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TokenError(
        `invocation token: ${issue?.path.join('.') || 'claims'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const claims = parsed.data;
    if (claims.app.id !== this.options.appId) throw new TokenError('invocation token is for another app');
    const apiBaseUrl = claims.app.apiBaseUrl.replace(/\/+$/, '');
    // No request ever goes to a host that is not Bitbucket's (or Atlassian's gateway, or the simulator's).
    if (
      !isAllowedHost(
        apiBaseUrl,
        [...this.options.allowedHosts, ...FORGE_API_HOSTS],
        this.options.requireHttps,
      )
    )
      throw new TokenError('invocation token: app.apiBaseUrl is not a Bitbucket host');
    const extension = claims.context?.extension;
    return {
      installationId: claims.app.installationId,
      apiBaseUrl,
      workspaceUuid: workspaceFrom(claims),
      accountId: claims.principal ?? null,
      moduleType: extension?.type ?? claims.app.module?.type ?? null,
      repositoryUuid: extension?.repository?.uuid ?? null,
      hasContext: claims.context !== undefined,
    };
  }
}

/** A short reason for a refused token; never the token itself. */
function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'invocation token expired';
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return 'invocation token: algorithm not allowed (RS256 only)';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'invocation token: unknown key id';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'invocation token: bad signature';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `invocation token: ${error.claim} claim is wrong`;
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JOSEError)
    return 'invocation token cannot be verified';
  return 'invocation token cannot be verified';
}

/** The Bearer token of a request's Authorization header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match ? match[1]! : null;
}

/** Forge's system token for Bitbucket REST calls, as `x-forge-oauth-system` carries it, with its expiry if known. */
export interface SystemToken {
  token: string;
  expiresAt: Date | null;
}

/** A bearer token: visible ASCII, no spaces, bounded (it goes into an Authorization header as it is). */
const systemTokenSchema = z.string().regex(/^[\x21-\x7e]{1,8192}$/, 'expected a bearer token');
const jwtExpiry = z.object({ exp: z.number().int().positive().max(1e11) }).loose();

/**
 * The request's `x-forge-oauth-system` token, or null when Forge sent none (the manifest's remote asks for it with
 * `auth.appSystemToken`). Atlassian does not document the token's form; when it is a JWT, its `exp` is its expiry
 * (read, not verified: the token is Bitbucket's to check), otherwise the expiry is unknown. A malformed header is a
 * 400 (the invocation token itself passed).
 */
export function systemTokenOf(header: string | undefined): SystemToken | null {
  if (header === undefined || header === '') return null;
  const parsed = systemTokenSchema.safeParse(header);
  if (!parsed.success)
    throw new HttpError('invalid_request', 'x-forge-oauth-system: expected a bearer token');
  const token = parsed.data;
  const parts = token.split('.');
  let expiresAt: Date | null = null;
  if (parts.length === 3) {
    try {
      const claims = jwtExpiry.safeParse(JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')));
      if (claims.success) expiresAt = new Date(claims.data.exp * 1000);
    } catch {
      // Not a JWT after all: its expiry is unknown.
    }
  }
  return { token, expiresAt };
}

/**
 * An event body as Forge posts it to a remote: the event at the top level (`eventType`, `repository`, …) or wrapped
 * under `payload`, since Atlassian's documentation shows both. Anything else is returned as it is (zod refuses it).
 */
export function unwrapForgeEvent(body: unknown): unknown {
  if (body && typeof body === 'object' && !Array.isArray(body) && !('eventType' in body) && 'payload' in body)
    return (body as { payload: unknown }).payload;
  return body;
}
