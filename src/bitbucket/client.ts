import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';
import { request } from 'undici';
import type { z } from 'zod';
import type { Logger } from '../platform/logger';
import { BudgetExhaustedError, type RequestBudget, type RequestPriority } from './budget';
import { disallowedReason } from './endpoints';
import { parseRateLimitHeaders, type RateLimitHeaders } from './rate-limit-headers';
import { paginated, type Page } from './schemas';

/** A Connect installation: every call is signed with its shared secret (a JWT per request). */
export interface ConnectCredentials {
  tenantId: string;
  clientKey: string;
  sharedSecret: string;
  baseApiUrl: string;
}

/**
 * A Forge installation: every call carries the newest system token Forge sent (`x-forge-oauth-system`) as
 * `Authorization: Bearer`, under the invocation token's `app.apiBaseUrl` (a path prefix). Null when Tally holds no
 * usable token: the call waits for the next invocation to bring one (CredentialsUnavailableError).
 */
export interface ForgeCredentials {
  tenantId: string;
  baseApiUrl: string;
  systemToken: string | null;
  /** When the token says it expires (null: it does not say). */
  systemTokenExpiresAt: Date | null;
}

/** What Tally knows about one installation to call its API: one client, two ways of authenticating. */
export type TenantCredentials = ConnectCredentials | ForgeCredentials;

const isForge = (c: TenantCredentials): c is ForgeCredentials => 'systemToken' in c;

export interface RetryPolicy {
  /** Attempts per call before the error goes to the caller (whose job is retried later by the queue). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** First delay after a 429 (the window is full: waiting a little longer pays). */
  throttledDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 8,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  throttledDelayMs: 2_000,
};

export interface ClientOptions {
  /** The descriptor key: the `iss` of every token. */
  appKey: string;
  credentials: TenantCredentials;
  budget: RequestBudget;
  priority: RequestPriority;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  /** Per attempt; a hung connection counts as a failed attempt. */
  timeoutMs?: number;
  /** Budget waits up to this long happen in place; longer ones throw BudgetExhaustedError. */
  maxBudgetWaitMs?: number;
  /** The most budget taken ahead of use (what is not used is spent anyway); 32 unless set. */
  maxPrepaid?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Forge: Bitbucket refused the system token (401); called once per refusal, before the error is thrown. */
  onTokenRefused?: () => Promise<void>;
  /** Forge: how long a call without a usable system token waits before it is tried again; 5 minutes unless set. */
  credentialsRetryMs?: number;
}

/**
 * A Forge tenant's calls cannot be authenticated now: no system token stored, the stored one expired, or Bitbucket
 * refused it (401). Only the next invocation from Forge brings a new one, so the job waits and tries again at
 * `retryAt`, exactly as it does for a spent request budget (every job already reschedules itself on that error),
 * instead of failing its repository.
 */
export class CredentialsUnavailableError extends BudgetExhaustedError {
  constructor(
    readonly reason: 'missing' | 'expired' | 'refused',
    retryAt: Date,
  ) {
    super(retryAt);
    this.message = `no usable Forge system token (${reason}); tried again at ${retryAt.toISOString()}`;
    this.name = 'CredentialsUnavailableError';
  }
}

const DEFAULT_CREDENTIALS_RETRY_MS = 5 * 60_000;

/** A non-retryable answer (4xx other than 429), or retries exhausted. */
export class BitbucketApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
  ) {
    super(message);
    this.name = 'BitbucketApiError';
  }
}

/** Counters of one client's life; jobs turn `requests` into the repository's `requests_used`. */
export interface ClientStats {
  /** HTTP requests sent, retries included: each one spent budget. */
  requests: number;
  retries: number;
  throttled: number;
  serverErrors: number;
  networkErrors: number;
  rejectedPayloads: number;
}

const TOKEN_SECONDS = 180;
const DEFAULT_MAX_PREPAID = 32;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The URL a log line may show: path only (queries may carry cursors, never secrets, but stay short). */
const pathOf = (url: URL) => url.pathname;

class RetryableError extends Error {
  constructor(
    message: string,
    readonly kind: 'throttled' | 'server' | 'network' | 'payload',
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function zodReason(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Bitbucket Cloud REST client for one tenant. Each request is signed with the tenant's shared secret against
 * its `baseApiUrl` (ACE's httpClient only signs for `baseUrl`, reference §3), or for a Forge tenant carries its
 * system token as a Bearer token under its `apiBaseUrl` (docs/forge.md); either way it spends the tenant's request
 * budget, and is validated with zod. 429, 5xx, timeouts, network errors and malformed payloads are retried with
 * exponential backoff and jitter; nothing is returned that did not validate. Connections are kept alive by
 * undici's connection pool.
 */
export class BitbucketClient {
  readonly stats: ClientStats = {
    requests: 0,
    retries: 0,
    throttled: 0,
    serverErrors: 0,
    networkErrors: 0,
    rejectedPayloads: 0,
  };
  private readonly retry: RetryPolicy;
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private prepaid = 0;
  private planned = 0;
  private budgetLock: Promise<unknown> = Promise.resolve();
  private reportedBadHeader = false;

  constructor(private readonly options: ClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? defaultSleep;
  }

  get credentials(): TenantCredentials {
    return this.options.credentials;
  }

  /**
   * Tells the client how many requests the caller is about to make, so that it takes budget in chunks
   * (one budget round trip per chunk instead of per request).
   */
  expectRequests(count: number): void {
    this.planned = Math.max(0, count);
  }

  /** GET one resource and validate it. */
  async get<S extends z.ZodType>(url: string, schema: S): Promise<z.infer<S>> {
    return this.request(url, schema);
  }

  /** GET one page of a list. */
  async getPage<S extends z.ZodType>(url: string, item: S): Promise<Page<z.infer<S>>> {
    const page = await this.request(url, paginated(item));
    return { values: page.values as z.infer<S>[], next: page.next };
  }

  /** Every page of a list, following `next`. */
  async *pages<S extends z.ZodType>(url: string, item: S): AsyncGenerator<Page<z.infer<S>>> {
    let next: string | undefined = url;
    while (next) {
      const page: Page<z.infer<S>> = await this.getPage(next, item);
      yield page;
      next = page.next;
    }
  }

  /** Every value of a list (for lists that are small by nature: a commit's diffstat, a workspace's repositories). */
  async getAll<S extends z.ZodType>(url: string, item: S): Promise<z.infer<S>[]> {
    const values: z.infer<S>[] = [];
    for await (const page of this.pages(url, item)) values.push(...page.values);
    return values;
  }

  private async request<S extends z.ZodType>(rawUrl: string, schema: S): Promise<z.infer<S>> {
    return this.withRetries(rawUrl, (url) => this.attempt(url, schema));
  }

  /**
   * GET a text body (a patch series) as a stream: each chunk goes to `onChunk` as it arrives and is not kept.
   * Past `maxBytes` the body is abandoned (`complete: false`), as it is when the connection fails mid-body:
   * retries happen only before the first byte, so no chunk is ever delivered twice. 555 (Bitbucket's "too large,
   * timed out") is not retried: the caller asks for less instead.
   */
  async streamText(
    rawUrl: string,
    onChunk: (chunk: Buffer) => void,
    maxBytes: number,
  ): Promise<{ complete: boolean; bytes: number }> {
    return this.withRetries(rawUrl, (url) => this.attemptText(url, onChunk, maxBytes));
  }

  private async withRetries<T>(rawUrl: string, attempt: (url: URL) => Promise<T>): Promise<T> {
    const url = new URL(rawUrl);
    const refused = disallowedReason(url, this.options.credentials.baseApiUrl);
    if (refused) throw new BitbucketApiError(`refused to call ${url.pathname}: ${refused}`, 0, url.href);
    let delay = this.retry.baseDelayMs;
    for (let tries = 1; ; tries++) {
      try {
        return await attempt(url);
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        if (tries >= this.retry.attempts) {
          throw new BitbucketApiError(
            `${pathOf(url)} failed ${tries} times, last: ${error.message}`,
            error.kind === 'throttled' ? 429 : 503,
            url.href,
          );
        }
        this.stats.retries++;
        const base = error.kind === 'throttled' ? Math.max(delay, this.retry.throttledDelayMs) : delay;
        // Full jitter keeps many workers from retrying in lockstep.
        const wait = error.retryAfterMs ?? Math.round(base / 2 + (Math.random() * base) / 2);
        this.options.logger.debug(
          { path: pathOf(url), attempt: tries, kind: error.kind, waitMs: wait, reason: error.message },
          'bitbucket request retried',
        );
        await this.sleep(Math.min(wait, this.retry.maxDelayMs));
        delay = Math.min(base * 2, this.retry.maxDelayMs);
      }
    }
  }

  private async attemptText(
    url: URL,
    onChunk: (chunk: Buffer) => void,
    maxBytes: number,
  ): Promise<{ complete: boolean; bytes: number }> {
    const authorization = this.authorization(url);
    await this.takeBudget();
    this.stats.requests++;
    const timeout = this.options.timeoutMs ?? 30_000;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        headers: { authorization, accept: 'text/plain' },
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (error) {
      this.stats.networkErrors++;
      throw new RetryableError(error instanceof Error ? error.message : String(error), 'network');
    }
    const status = res.statusCode;
    await this.noteAnnouncedLimit(url, res.headers);
    if (status < 200 || status >= 300) {
      const retryAfter = res.headers['retry-after'];
      await res.body.dump().catch(() => undefined);
      await this.refusedToken(status);
      this.checkStatus(url, status, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, [555]);
    }
    let bytes = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          res.body.destroy();
          return { complete: false, bytes };
        }
        onChunk(chunk);
      }
    } catch (error) {
      this.stats.networkErrors++;
      this.options.logger.debug(
        { path: pathOf(url), bytes, reason: error instanceof Error ? error.message : String(error) },
        'bitbucket text body cut off',
      );
      return { complete: false, bytes };
    }
    return { complete: true, bytes };
  }

  /** Forge: a 401 means Bitbucket refused the system token; recorded, and the job waits for a new one. */
  private async refusedToken(status: number): Promise<void> {
    if (status !== 401 || !isForge(this.options.credentials)) return;
    await this.options
      .onTokenRefused?.()
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error }, 'forge token refusal not recorded'),
      );
    throw this.credentialsUnavailable('refused');
  }

  /** Throws the error a non-2xx status means: retryable (429, 5xx but `final`) or final. */
  private checkStatus(url: URL, status: number, retryAfter: string | undefined, final: number[] = []): never {
    if (status === 429) {
      this.stats.throttled++;
      throw new RetryableError('429 rate limited', 'throttled', retryAfterMs(retryAfter ?? null, Date.now()));
    }
    // 555 is Bitbucket's diffstat timeout (reference §4): a server error like the rest of 5xx.
    if (status >= 500 && !final.includes(status)) {
      this.stats.serverErrors++;
      throw new RetryableError(`${status}`, 'server');
    }
    throw new BitbucketApiError(`${pathOf(url)} answered ${status}`, status, url.href);
  }

  private async attempt<S extends z.ZodType>(url: URL, schema: S): Promise<z.infer<S>> {
    // Checked before any budget is spent: a call that cannot be authenticated is not made.
    const authorization = this.authorization(url);
    await this.takeBudget();
    this.stats.requests++;
    const timeout = this.options.timeoutMs ?? 30_000;
    let status: number;
    let retryAfter: string | string[] | undefined;
    let headers: RateLimitHeaders;
    let text: string;
    try {
      // undici's request API: the HTTP client under Node's fetch without fetch's web-stream layers (a third of
      // the client's CPU per request), on a keep-alive connection pool. A hung connection times out per phase.
      const res = await request(url, {
        headers: { authorization, accept: 'application/json' },
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      headers = res.headers;
      text = await res.body.text();
    } catch (error) {
      this.stats.networkErrors++;
      throw new RetryableError(error instanceof Error ? error.message : String(error), 'network');
    }
    await this.noteAnnouncedLimit(url, headers);
    if (status < 200 || status >= 300) {
      await this.refusedToken(status);
      this.checkStatus(url, status, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.rejectPayload(url, 'body is not JSON');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) return this.rejectPayload(url, zodReason(parsed.error));
    return parsed.data;
  }

  /**
   * Hands a limit Bitbucket announced to the budget, which follows it from the next grant on. Headers that do not
   * validate are ignored and reported once per client (a hostile upstream must not flood the log either); a
   * failure to record an announcement never fails the request that carried it.
   */
  private async noteAnnouncedLimit(url: URL, headers: RateLimitHeaders): Promise<void> {
    const parsed = parseRateLimitHeaders(headers);
    if (parsed.rejected !== undefined) {
      if (!this.reportedBadHeader) {
        this.reportedBadHeader = true;
        this.options.logger.warn(
          {
            path: pathOf(url),
            reason: parsed.rejected,
            limit: JSON.stringify(headers['x-ratelimit-limit'] ?? null).slice(0, 80),
          },
          'bitbucket rate-limit headers ignored',
        );
      }
      return;
    }
    const { budget, credentials } = this.options;
    if (!parsed.announced || !budget.announce) return;
    try {
      await budget.announce(credentials.tenantId, parsed.announced);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'announced rate limit not recorded');
    }
  }

  private rejectPayload(url: URL, reason: string): never {
    this.stats.rejectedPayloads++;
    this.options.logger.warn({ path: pathOf(url), reason }, 'bitbucket payload rejected');
    throw new RetryableError(`malformed payload: ${reason}`, 'payload');
  }

  /** The Authorization header of one call: Forge's system token as it is, or a fresh Connect JWT. */
  private authorization(url: URL): string {
    const credentials = this.options.credentials;
    if (!isForge(credentials)) return `JWT ${this.sign(url, credentials)}`;
    if (credentials.systemToken === null) throw this.credentialsUnavailable('missing');
    if (credentials.systemTokenExpiresAt && credentials.systemTokenExpiresAt <= this.now())
      throw this.credentialsUnavailable('expired');
    return `Bearer ${credentials.systemToken}`;
  }

  private credentialsUnavailable(reason: CredentialsUnavailableError['reason']): CredentialsUnavailableError {
    const retryAt = new Date(
      this.now().getTime() + (this.options.credentialsRetryMs ?? DEFAULT_CREDENTIALS_RETRY_MS),
    );
    this.options.logger.info({ reason, retryAt }, 'forge system token unusable; the job waits');
    return new CredentialsUnavailableError(reason, retryAt);
  }

  /** Connect JWT for an app → Bitbucket call: iss = app key, sub = clientKey, qsh over GET + path + query. */
  private sign(url: URL, credentials: ConnectCredentials): string {
    const iat = Math.floor(Date.now() / 1000);
    const qsh = createQueryStringHash(fromMethodAndUrl('GET', `${url.pathname}${url.search}`));
    const { clientKey, sharedSecret } = credentials;
    return encodeSymmetric(
      { iss: this.options.appKey, sub: clientKey, iat, exp: iat + TOKEN_SECONDS, qsh },
      sharedSecret,
      SymmetricAlgorithm.HS256,
    );
  }

  /** One request's worth of budget; budget calls are serialised so parallel requests share one chunk. */
  private takeBudget(): Promise<void> {
    const next = this.budgetLock.then(() => this.takeBudgetLocked());
    this.budgetLock = next.catch(() => undefined);
    return next;
  }

  private async takeBudgetLocked(): Promise<void> {
    if (this.prepaid > 0) {
      this.prepaid--;
      return;
    }
    const { budget, credentials, priority } = this.options;
    for (;;) {
      const wanted = Math.min(this.options.maxPrepaid ?? DEFAULT_MAX_PREPAID, Math.max(1, this.planned));
      const grant = await budget.tryAcquire(credentials.tenantId, priority, wanted);
      if (grant.granted > 0) {
        this.planned = Math.max(0, this.planned - grant.granted);
        this.prepaid = grant.granted - 1;
        return;
      }
      const retryAt = grant.retryAt ?? this.now();
      const wait = retryAt.getTime() - this.now().getTime();
      if (wait > (this.options.maxBudgetWaitMs ?? 1000)) throw new BudgetExhaustedError(retryAt);
      await this.sleep(Math.max(1, wait));
    }
  }
}
