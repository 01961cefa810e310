import { request } from 'undici';
import { z } from 'zod';
import { TtlCache } from '../platform/ttl-cache';
import { BitbucketApiError } from './client';
import { disallowedReason, endpoints } from './endpoints';
import { paginated } from './schemas';

/**
 * What a Forge viewer may read, from Bitbucket itself: `GET /2.0/user/workspaces/{workspace}/permissions/repositories`
 * with the viewer's user token (`x-forge-oauth-user`, `Authorization: Bearer`). The OpenAPI document marks this
 * workspace-scoped form current and usable with Forge's OAuth tokens (`x-atlassian-auth-types: forge-oauth2`); the
 * older `/2.0/user/permissions/repositories` is deprecated and lists only API tokens. The answer names every
 * repository the user has a permission in, never a public one they merely may read (the caller adds those).
 */

const UUID = /^\{([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}$/;

const permissionSchema = z
  .object({
    permission: z.enum(['read', 'write', 'admin', 'none']),
    user: z
      .object({ account_id: z.string().max(128).optional() })
      .loose()
      .optional(),
    repository: z.object({ uuid: z.string().regex(UUID, 'expected a braced repository uuid') }).loose(),
  })
  .loose();

/** 100 pages of 100: as many repositories as a viewer scope may name (src/connect/session-scope.ts). */
export const MAX_PERMISSION_PAGES = 100;

export interface UserPermissionsQuery {
  /** The invocation token's `app.apiBaseUrl` (allowlisted already; a path prefix). */
  apiBaseUrl: string;
  /** Braced workspace uuid. */
  workspaceUuid: string;
  /** The user token; only ever sent to `apiBaseUrl`, never stored or logged. */
  userToken: string;
  /** The invocation token's `principal`: the answer must be about this account. */
  accountId: string;
}

/** The token's user is not the invocation's viewer: the user token belongs to someone else. */
export class UserTokenMismatchError extends Error {}

/**
 * The braced, lower-case uuids of the repositories the user has a permission in (`none` left out). Every page URL,
 * `next` links included, must be this endpoint under `apiBaseUrl`; 4xx and 5xx answers are BitbucketApiErrors
 * (one attempt each: the viewer is waiting, and the next page load asks again).
 */
export async function fetchUserRepositoryPermissions(
  query: UserPermissionsQuery,
  options: { timeoutMs?: number } = {},
): Promise<string[]> {
  const timeout = options.timeoutMs ?? 5_000;
  const readable = new Set<string>();
  let next: string | undefined = endpoints.userRepositoryPermissions(query.apiBaseUrl, query.workspaceUuid);
  for (let pages = 0; next !== undefined; pages++) {
    const url = new URL(next);
    const refused = disallowedReason(url, query.apiBaseUrl);
    if (refused || !url.pathname.endsWith('/permissions/repositories'))
      throw new BitbucketApiError(
        `refused to call ${url.pathname}: ${refused ?? 'not this endpoint'}`,
        0,
        '',
      );
    if (pages >= MAX_PERMISSION_PAGES)
      throw new BitbucketApiError(`more than ${MAX_PERMISSION_PAGES} pages of permissions`, 0, '');
    const res = await request(url, {
      headers: { authorization: `Bearer ${query.userToken}`, accept: 'application/json' },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const text = await res.body.text();
    // 403: "The requesting user does not have access to the workspace" (OpenAPI): no permission in it at all.
    if (res.statusCode === 403) return [];
    if (res.statusCode !== 200)
      throw new BitbucketApiError(`${url.pathname} answered ${res.statusCode}`, res.statusCode, '');
    const page = paginated(permissionSchema).safeParse(parseJson(text));
    if (!page.success) throw new BitbucketApiError(`${url.pathname}: malformed permissions page`, 0, '');
    for (const entry of page.data.values) {
      const owner = entry.user?.account_id;
      if (owner !== undefined && owner !== query.accountId)
        throw new UserTokenMismatchError('the user token belongs to another account than the viewer');
      if (entry.permission !== 'none') readable.add(entry.repository.uuid.toLowerCase());
    }
    next = page.data.next;
  }
  return [...readable];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** How long a viewer's permissions are trusted: Bitbucket's changes show within this (issue 16: at most 15 min). */
export const VIEWER_PERMISSIONS_TTL_MS = 15 * 60_000;

/**
 * After Bitbucket refuses a viewer's user token (401, or someone else's token), that viewer's lookups fall back to
 * public repositories without asking Bitbucket for this long: a flood of made-up tokens costs one call per viewer
 * per 30 s, not one per token. What a genuine token costs right after a refusal: public repositories only for up
 * to 30 s, then it is checked as usual.
 */
export const REFUSAL_COOLDOWN_MS = 30_000;

/**
 * Viewers' repository permissions, cached per viewer (tenant and account id) in this process for at most
 * VIEWER_PERMISSIONS_TTL_MS, 10,000 viewers at most (the least recently seen go first). Concurrent misses of one
 * viewer (a page's first burst of API calls) share one fetch; a failed fetch is not cached, but a refusal starts
 * the viewer's REFUSAL_COOLDOWN_MS (as bounded).
 */
export class ViewerPermissionsCache {
  private readonly cache: TtlCache<Promise<string[]>>;
  private readonly refusals: TtlCache<true>;

  constructor(
    private readonly fetcher: (query: UserPermissionsQuery) => Promise<string[]> = (query) =>
      fetchUserRepositoryPermissions(query),
    options: { ttlMs?: number; maxEntries?: number; now?: () => number; refusalCooldownMs?: number } = {},
  ) {
    this.cache = new TtlCache({
      ttlMs: options.ttlMs ?? VIEWER_PERMISSIONS_TTL_MS,
      maxEntries: options.maxEntries ?? 10_000,
      now: options.now,
    });
    this.refusals = new TtlCache({
      ttlMs: options.refusalCooldownMs ?? REFUSAL_COOLDOWN_MS,
      maxEntries: options.maxEntries ?? 10_000,
      now: options.now,
    });
  }

  /** The answer src/connect/forge-auth.ts needs: readable, refused (a 401, someone else's token) or unavailable. */
  async lookup(
    tenantId: string,
    query: UserPermissionsQuery,
  ): Promise<{ readable: string[] } | { refused: string } | { unavailable: string }> {
    const key = viewerKey(tenantId, query);
    // A cached answer still serves (it came from a token Bitbucket took); only a miss is held back.
    if (this.refusals.get(key) && !this.cache.get(key))
      return {
        unavailable: 'a user token of this viewer was refused moments ago; not asking Bitbucket again yet',
      };
    try {
      return { readable: await this.readable(tenantId, query) };
    } catch (error) {
      const refused =
        error instanceof UserTokenMismatchError
          ? error.message
          : error instanceof BitbucketApiError && error.status === 401
            ? 'Bitbucket refused it'
            : null;
      if (refused === null) return { unavailable: error instanceof Error ? error.message : String(error) };
      this.refusals.set(key, true);
      return { refused };
    }
  }

  readable(tenantId: string, query: UserPermissionsQuery): Promise<string[]> {
    const key = viewerKey(tenantId, query);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const fetched = this.fetcher(query);
    this.cache.set(key, fetched);
    fetched.catch(() => {
      if (this.cache.get(key) === fetched) this.cache.delete(key);
    });
    return fetched;
  }
}

const viewerKey = (tenantId: string, query: UserPermissionsQuery) => `${tenantId}\u0000${query.accountId}`;
