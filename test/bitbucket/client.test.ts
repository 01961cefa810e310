import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createQueryStringHash, decodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';
import {
  BudgetExhaustedError,
  unlimitedBudget,
  type AnnouncedLimit,
  type RequestBudget,
} from '../../src/bitbucket/budget';
import { BitbucketApiError, BitbucketClient } from '../../src/bitbucket/client';
import { endpoints } from '../../src/bitbucket/endpoints';
import { commitSchema, diffstatSchema, repositorySchema } from '../../src/bitbucket/schemas';
import { createLogger } from '../../src/platform/logger';

const SECRET = 's'.repeat(64);
const CLIENT_KEY = 'ari:cloud:bitbucket::app/{ws}/tally';
const HASH = 'a'.repeat(40);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A local Bitbucket stand-in whose answers each test scripts. */
describe('BitbucketClient', () => {
  let server: Server;
  let base = '';
  let handler: Handler;
  const seen: { url: string; authorization: string }[] = [];
  let logs: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url!, authorization: req.headers.authorization ?? '' });
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
    logs = [];
  });

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const client = (
    budget: RequestBudget = unlimitedBudget,
    extra: { attempts?: number; timeoutMs?: number } = {},
  ) =>
    new BitbucketClient({
      appKey: 'tally',
      credentials: { tenantId: 'tenant-1', clientKey: CLIENT_KEY, sharedSecret: SECRET, baseApiUrl: base },
      budget,
      priority: 'low',
      logger: createLogger(
        'debug',
        new Writable({
          write(chunk, _enc, done) {
            logs.push(String(chunk));
            done();
          },
        }),
      ),
      retry: { attempts: extra.attempts ?? 4, baseDelayMs: 1, maxDelayMs: 5, throttledDelayMs: 1 },
      timeoutMs: extra.timeoutMs ?? 10_000,
    });

  const diffstat = (lines: number) => ({
    status: 'modified',
    lines_added: lines,
    lines_removed: 1,
    old: { path: 'a.js' },
    new: { path: 'a.js' },
  });

  it('signs every call with a Connect JWT: iss app key, sub clientKey, qsh over GET, path and sorted query', async () => {
    handler = (_req, res) => json(res, 200, { values: [diffstat(3)] });
    const url = endpoints.diffstat(base, '{ws}', '{repo}', HASH);
    await client().getAll(url, diffstatSchema);
    const [request] = seen;
    assert.match(request!.url, /^\/2\.0\/repositories\/%7Bws%7D\/%7Brepo%7D\/diffstat\/a{40}\?pagelen=5000$/);
    const token = request!.authorization.replace(/^JWT /, '');
    const claims = decodeSymmetric(token, SECRET, SymmetricAlgorithm.HS256) as Record<
      string,
      number | string
    >;
    assert.equal(claims.iss, 'tally');
    assert.equal(claims.sub, CLIENT_KEY);
    assert.equal(claims.qsh, createQueryStringHash(fromMethodAndUrl('GET', request!.url)));
    const lifetime = Number(claims.exp) - Number(claims.iat);
    assert.ok(lifetime > 0 && lifetime <= 900);
  });

  it('follows next links to the last page', async () => {
    handler = (req, res) => {
      const page = Number(new URL(req.url!, base).searchParams.get('page') ?? '1');
      const next = page < 3 ? `${base}/2.0/repositories/ws?pagelen=100&page=${page + 1}` : undefined;
      json(res, 200, {
        values: [{ uuid: `{r${page}}`, full_name: `ws/r${page}`, name: `r${page}`, slug: `r${page}` }],
        next,
      });
    };
    const repos = await client().getAll(endpoints.repositories(base, 'ws'), repositorySchema);
    assert.deepEqual(
      repos.map((r) => r.slug),
      ['r1', 'r2', 'r3'],
    );
    assert.equal(seen.length, 3);
  });

  it('retries 429, 5xx, 555 and hung connections, then returns the answer', async () => {
    const script = [429, 500, 555, 'hang', 503, 200];
    handler = (_req, res) => {
      const step = script.shift();
      if (step === 'hang') return; // never answered: the client's timeout gives up on it
      if (step === 200) return json(res, 200, { values: [diffstat(7)] });
      json(res, step as number, { type: 'error', error: { message: 'no' } });
    };
    const c = client(unlimitedBudget, { attempts: 10, timeoutMs: 1000 });
    const values = await c.getAll(endpoints.diffstat(base, 'ws', 'repo', HASH), diffstatSchema);
    assert.equal(values[0]!.lines_added, 7);
    assert.equal(seen.length, 6);
    assert.deepEqual(
      { ...c.stats },
      { requests: 6, retries: 5, throttled: 1, serverErrors: 3, networkErrors: 1, rejectedPayloads: 0 },
    );
  });

  it('rejects a malformed payload with a logged reason and retries it; nothing invalid is returned', async () => {
    const answers = [
      { values: [{ ...diffstat(1), lines_added: -1 }] },
      '{"values": [',
      { values: [diffstat(2)] },
    ];
    handler = (_req, res) => {
      const answer = answers.shift();
      if (typeof answer === 'string') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(answer);
      }
      json(res, 200, answer);
    };
    const c = client();
    const values = await c.getAll(endpoints.diffstat(base, 'ws', 'repo', HASH), diffstatSchema);
    assert.equal(values[0]!.lines_added, 2);
    assert.equal(c.stats.rejectedPayloads, 2);
    const rejected = logs.filter((l) => l.includes('bitbucket payload rejected'));
    assert.equal(rejected.length, 2);
    assert.match(rejected[0]!, /values\.0\.lines_added/);
    assert.match(rejected[1]!, /not JSON/);
  });

  it('gives up after its attempts with an error that names the call (the job is retried later)', async () => {
    handler = (_req, res) => json(res, 502, { type: 'error', error: { message: 'Bad Gateway' } });
    await assert.rejects(
      client().get(endpoints.commit(base, 'ws', 'repo', HASH), commitSchema),
      (error: unknown) =>
        error instanceof BitbucketApiError && error.status === 503 && /failed 4 times/.test(error.message),
    );
    assert.equal(seen.length, 4);
  });

  it('does not retry a 404', async () => {
    handler = (_req, res) => json(res, 404, { type: 'error', error: { message: 'Commit not found' } });
    await assert.rejects(
      client().get(endpoints.commit(base, 'ws', 'repo', HASH), commitSchema),
      (error: unknown) => error instanceof BitbucketApiError && error.status === 404,
    );
    assert.equal(seen.length, 1);
  });

  it('refuses, without sending anything, endpoints DESIGN.md does not allow and next links to other hosts', async () => {
    handler = (_req, res) =>
      json(res, 200, { values: [], next: 'https://evil.example/2.0/repositories/ws?page=2' });
    const c = client();
    for (const path of [
      '/2.0/repositories/ws/repo/src/main/README.md',
      '/2.0/repositories/ws/repo/hooks',
      '/2.0/workspaces/ws/members',
      '/2.0/repositories/ws/repo/commits/main',
    ]) {
      await assert.rejects(c.get(`${base}${path}`, commitSchema), /refused to call/);
    }
    await assert.rejects(
      c.get(`https://api.bitbucket.org/2.0/user`, commitSchema),
      /not the tenant's API host/,
    );
    assert.equal(seen.length, 0);
    await assert.rejects(
      c.getAll(endpoints.repositories(base, 'ws'), repositorySchema),
      /not the tenant's API host/,
    );
    assert.equal(seen.length, 1);
  });

  it('spends budget before each request, in chunks when told how many requests are coming', async () => {
    handler = (_req, res) => json(res, 200, { values: [diffstat(1)] });
    const asked: number[] = [];
    const counting: RequestBudget = {
      async tryAcquire(_tenant, priority, wanted) {
        assert.equal(priority, 'low');
        asked.push(wanted);
        return { granted: wanted };
      },
    };
    const c = client(counting);
    c.expectRequests(40);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        c.getAll(endpoints.diffstat(base, 'ws', 'repo', i.toString(16).padStart(40, '0')), diffstatSchema),
      ),
    );
    // A retry (none expected, but a loaded machine may drop a connection) takes one more, singly.
    assert.deepEqual(asked, [32, 8, ...Array<number>(c.stats.retries).fill(1)]);
    assert.equal(seen.length, 40 + c.stats.retries);
  });

  it('waits briefly for budget in place, and throws BudgetExhaustedError when the wait is long', async () => {
    handler = (_req, res) => json(res, 200, { values: [diffstat(1)] });
    let calls = 0;
    const soon: RequestBudget = {
      async tryAcquire() {
        calls++;
        return calls === 1 ? { granted: 0, retryAt: new Date(Date.now() + 20) } : { granted: 1 };
      },
    };
    await client(soon).getAll(endpoints.diffstat(base, 'ws', 'repo', HASH), diffstatSchema);
    assert.equal(calls, 2);
    const later = new Date(Date.now() + 3_600_000);
    const spent: RequestBudget = { tryAcquire: async () => ({ granted: 0, retryAt: later }) };
    seen.length = 0;
    await assert.rejects(
      client(spent).getAll(endpoints.diffstat(base, 'ws', 'repo', HASH), diffstatSchema),
      (error: unknown) =>
        error instanceof BudgetExhaustedError && error.retryAt.getTime() === later.getTime(),
    );
    assert.equal(seen.length, 0);
  });

  describe('rate-limit headers Bitbucket sends to access tokens and Forge apps', () => {
    const recording = () => {
      const announced: AnnouncedLimit[] = [];
      const budget: RequestBudget = {
        tryAcquire: unlimitedBudget.tryAcquire,
        async announce(tenantId, a) {
          assert.equal(tenantId, 'tenant-1');
          announced.push(a);
        },
      };
      return { announced, budget };
    };
    const answerWith = (headers: Record<string, string>, status = 200) => {
      handler = (_req, res) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(status === 200 ? { values: [diffstat(1)] } : { type: 'error' }));
      };
    };
    const get = (c: BitbucketClient) =>
      c.getAll(endpoints.diffstat(base, 'ws', 'repo', HASH), diffstatSchema);

    it('hands the announced limit, its resource and NearLimit to the budget, from 2xx and 429 answers alike', async () => {
      const { announced, budget } = recording();
      const c = client(budget);
      answerWith({
        'X-RateLimit-Limit': '2500',
        'X-RateLimit-Resource': 'api',
        'X-RateLimit-NearLimit': 'false',
      });
      await get(c);
      answerWith({
        'X-RateLimit-Limit': ' 2500 ',
        'X-RateLimit-Resource': 'api',
        'X-RateLimit-NearLimit': 'True',
      });
      await get(c);
      let calls = 0;
      handler = (_req, res) => {
        calls++;
        const headers = { 'x-ratelimit-limit': '1200', 'x-ratelimit-resource': 'api' };
        if (calls === 1) res.writeHead(429, headers).end('{}');
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ values: [] }));
      };
      await get(c);
      assert.deepEqual(announced, [
        { resource: 'api', requestsPerHour: 2500, nearLimit: false },
        { resource: 'api', requestsPerHour: 2500, nearLimit: true },
        { resource: 'api', requestsPerHour: 1200, nearLimit: false },
      ]);
      // Connect JWT answers carry none: nothing is announced, the configured budget stays.
      answerWith({});
      await get(c);
      assert.equal(announced.length, 3);
    });

    it('ignores hostile or absurd headers (negative, huge, non-numeric, odd resource names), logging it once', async () => {
      const { announced, budget } = recording();
      const c = client(budget);
      const hostile: Record<string, string>[] = [
        { 'X-RateLimit-Limit': '-5' },
        { 'X-RateLimit-Limit': '10001' },
        { 'X-RateLimit-Limit': '99999999999999999999' },
        { 'X-RateLimit-Limit': '1e4' },
        { 'X-RateLimit-Limit': '0x2710' },
        { 'X-RateLimit-Limit': 'lots' },
        { 'X-RateLimit-Limit': '0' },
        { 'X-RateLimit-Limit': '2500', 'X-RateLimit-Resource': 'api; drop table' },
        { 'X-RateLimit-Limit': '2500', 'X-RateLimit-Resource': 'r'.repeat(65) },
        { 'X-RateLimit-Limit': '2500', 'X-RateLimit-NearLimit': 'maybe' },
      ];
      for (const headers of hostile) {
        answerWith(headers);
        assert.equal((await get(c)).length, 1, 'the answer itself is still used');
      }
      assert.deepEqual(announced, []);
      const warnings = logs.filter((line) => line.includes('rate-limit headers ignored'));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /X-RateLimit-Limit/);
      // The documented cap itself is accepted.
      answerWith({ 'X-RateLimit-Limit': '10000' });
      await get(c);
      assert.deepEqual(announced, [{ resource: 'api', requestsPerHour: 10_000, nearLimit: false }]);
    });

    it('never fails a request because its announcement could not be recorded', async () => {
      const failing: RequestBudget = {
        tryAcquire: unlimitedBudget.tryAcquire,
        announce: () => Promise.reject(new Error('database away')),
      };
      answerWith({ 'X-RateLimit-Limit': '2500', 'X-RateLimit-Resource': 'api' });
      assert.equal((await get(client(failing))).length, 1);
      assert.ok(logs.some((line) => line.includes('announced rate limit not recorded')));
    });
  });
});
