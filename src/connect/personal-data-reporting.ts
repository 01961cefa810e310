import * as atlassianJwt from 'atlassian-jwt';
import { z } from 'zod';

/**
 * Atlassian's personal data reporting API (an Atlassian platform API, not Bitbucket's):
 * `POST {host}/app/report-accounts/` with `{ accounts: [{ accountId, updatedAt }] }`, at most 90 accounts a request.
 * 204: nothing to do. 200: `{ accounts: [{ accountId, status: 'closed' | 'updated' }] }`. Either may carry
 * `Cycle-Period` (how often each account may be reported). 429 carries `Retry-After`.
 * A Connect app authenticates with a JWT signed with the installation's shared secret (iss = app key,
 * sub = clientKey, qsh over the request), as for every app → product call.
 */

export const REPORT_PATH = '/app/report-accounts/';
export const MAX_ACCOUNTS_PER_REPORT = 90;
const TOKEN_SECONDS = 180;

export interface ReportedAccount {
  accountId: string;
  /** When Tally last retrieved this account's personal data. */
  updatedAt: Date;
}

export interface AccountStatus {
  accountId: string;
  status: 'closed' | 'updated';
}

export type ReportOutcome =
  | { kind: 'answered'; accounts: AccountStatus[]; cyclePeriodSeconds: number | null }
  | { kind: 'rate-limited'; retryAfterSeconds: number; cyclePeriodSeconds: number | null };

export class PersonalDataReportingError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PersonalDataReportingError';
  }
}

const answer = z.object({
  accounts: z.array(z.object({ accountId: z.string().min(1), status: z.enum(['closed', 'updated']) })),
});

export interface ReportingInstallation {
  clientKey: string;
  sharedSecret: string;
}

export interface PersonalDataReportingOptions {
  /** `https://api.atlassian.com` in production (PERSONAL_DATA_REPORTING_URL). */
  baseUrl: string;
  appKey: string;
  fetch?: typeof fetch;
}

export class PersonalDataReportingClient {
  private readonly fetch: typeof fetch;

  // The wall clock, not an injected one: token lifetimes and HTTP dates are agreed with the remote side.
  constructor(private readonly options: PersonalDataReportingOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  async report(installation: ReportingInstallation, accounts: ReportedAccount[]): Promise<ReportOutcome> {
    if (accounts.length === 0 || accounts.length > MAX_ACCOUNTS_PER_REPORT)
      throw new RangeError(`a report carries 1..${MAX_ACCOUNTS_PER_REPORT} accounts, not ${accounts.length}`);
    const url = `${this.options.baseUrl.replace(/\/+$/, '')}${REPORT_PATH}`;
    const res = await this.fetch(url, {
      method: 'POST',
      headers: {
        authorization: `JWT ${this.token(installation, url)}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({
        accounts: accounts.map((a) => ({ accountId: a.accountId, updatedAt: a.updatedAt.toISOString() })),
      }),
    });
    const cyclePeriodSeconds = parseDurationSeconds(res.headers.get('cycle-period'));
    if (res.status === 204) return { kind: 'answered', accounts: [], cyclePeriodSeconds };
    if (res.status === 429) {
      const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'), new Date()) ?? 60;
      return { kind: 'rate-limited', retryAfterSeconds, cyclePeriodSeconds };
    }
    if (res.status !== 200) {
      throw new PersonalDataReportingError(res.status, `personal data report answered HTTP ${res.status}`);
    }
    const parsed = answer.safeParse(await res.json().catch(() => null));
    if (!parsed.success)
      throw new PersonalDataReportingError(res.status, 'personal data report: unexpected body');
    return { kind: 'answered', accounts: parsed.data.accounts, cyclePeriodSeconds };
  }

  private token(installation: ReportingInstallation, url: string): string {
    const iat = Math.floor(Date.now() / 1000);
    const qsh = atlassianJwt.createQueryStringHash(
      atlassianJwt.fromMethodAndUrl('POST', new URL(url).pathname),
    );
    return atlassianJwt.encodeSymmetric(
      { iss: this.options.appKey, sub: installation.clientKey, iat, exp: iat + TOKEN_SECONDS, qsh },
      installation.sharedSecret,
    );
  }
}

/** `Cycle-Period` in seconds (`604800`), or as an ISO-8601 duration (`P7D`, `PT12H`) as some answers show. */
export function parseDurationSeconds(header: string | null): number | null {
  if (!header) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) > 0 ? Number(text) : null;
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(text);
  if (!iso || text.toUpperCase() === 'P' || text.toUpperCase().endsWith('T')) return null;
  const [, d, h, m, s] = iso.map((v) => Number(v ?? 0));
  const seconds = d! * 86_400 + h! * 3600 + m! * 60 + s!;
  return seconds > 0 ? seconds : null;
}

/** `Retry-After` as delay-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now: Date): number | null {
  if (!header) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}
