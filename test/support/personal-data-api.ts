import type { Server } from 'node:http';
import * as atlassianJwt from 'atlassian-jwt';
import express from 'express';
import jsonwebtoken from 'jsonwebtoken';

/**
 * A stand-in for Atlassian's personal data reporting API (`POST /app/report-accounts/`), for tests: it verifies the
 * Connect JWT (HS256 with the installation's shared secret, iss = app key, sub = clientKey, qsh), enforces the
 * 90-account limit, answers 204 or 200 with the statuses it was told, sends `Cycle-Period`, and can answer 429.
 */
export interface PersonalDataApi {
  url: string;
  /** Every accepted request: the clientKey that signed it and the accounts it carried. */
  requests: { clientKey: string; accounts: { accountId: string; updatedAt: string }[] }[];
  /** Accounts to answer with a status; others are left out (nothing to do). */
  statuses: Map<string, 'closed' | 'updated'>;
  /** Installations the stand-in knows: clientKey → shared secret. */
  secrets: Map<string, string>;
  /** Answer the next N requests with 429 and this Retry-After. */
  rateLimit: { remaining: number; retryAfter: string };
  cyclePeriod: string | null;
  /** Installations answered with this status instead (after the JWT checks out): a failure of one tenant. */
  failing: Map<string, number>;
  rejected: { status: number; reason: string }[];
  close(): Promise<void>;
}

export async function startPersonalDataApi(appKey = 'tally'): Promise<PersonalDataApi> {
  const app = express();
  const api: Omit<PersonalDataApi, 'url' | 'close'> = {
    requests: [],
    statuses: new Map(),
    secrets: new Map(),
    rateLimit: { remaining: 0, retryAfter: '60' },
    cyclePeriod: '604800',
    failing: new Map(),
    rejected: [],
  };
  const reject = (res: express.Response, status: number, reason: string) => {
    api.rejected.push({ status, reason });
    res.status(status).json({ message: reason });
  };
  app.post('/app/report-accounts/', express.json(), (req, res) => {
    const token = /^JWT (\S+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (!token) return reject(res, 401, 'missing JWT');
    const claims = jsonwebtoken.decode(token) as { sub?: string } | null;
    const secret = claims?.sub ? api.secrets.get(claims.sub) : undefined;
    if (!secret) return reject(res, 401, 'unknown installation');
    let verified: { iss?: string; sub?: string; qsh?: string };
    try {
      verified = jsonwebtoken.verify(token, secret, { algorithms: ['HS256'] }) as typeof verified;
    } catch {
      return reject(res, 401, 'bad signature');
    }
    const qsh = atlassianJwt.createQueryStringHash(atlassianJwt.fromMethodAndUrl('POST', req.path));
    if (verified.iss !== appKey || verified.qsh !== qsh) return reject(res, 401, 'bad claims');
    const accounts = (req.body as { accounts?: { accountId: string; updatedAt: string }[] }).accounts;
    if (!Array.isArray(accounts) || accounts.length === 0 || accounts.length > 90)
      return reject(res, 400, 'accounts must hold 1..90 entries');
    if (accounts.some((a) => typeof a.accountId !== 'string' || Number.isNaN(Date.parse(a.updatedAt))))
      return reject(res, 400, 'bad account entry');
    const failure = api.failing.get(verified.sub!);
    if (failure) return void res.status(failure).json({ message: 'failing on purpose' });
    if (api.cyclePeriod) res.set('Cycle-Period', api.cyclePeriod);
    if (api.rateLimit.remaining > 0) {
      api.rateLimit.remaining--;
      return void res.status(429).set('Retry-After', api.rateLimit.retryAfter).end();
    }
    api.requests.push({ clientKey: verified.sub!, accounts });
    const answered = accounts.flatMap((a) => {
      const status = api.statuses.get(a.accountId);
      return status ? [{ accountId: a.accountId, status }] : [];
    });
    if (answered.length === 0) return void res.status(204).end();
    res.json({ accounts: answered });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(api, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
