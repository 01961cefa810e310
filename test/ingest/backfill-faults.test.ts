import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  exportTotals,
  FAST_RETRY,
  repositoryStatus,
  startBackfill,
  startIngestWorker,
  storedTotals,
  waitFor,
  waitForReady,
} from './backfill-harness';

const expected = exportTotals();

async function assertExact(admin: Parameters<typeof storedTotals>[0], tenantId: string) {
  const stored = await storedTotals(admin, tenantId);
  assert.equal(stored.commits, expected.commits);
  assert.equal(stored.files, expected.files);
  assert.deepEqual(stored.withoutMerges, expected.withoutMerges);
  assert.deepEqual(stored.withMerges, expected.withMerges);
}

describe('backfill under faults', () => {
  it('stays exact with 20% injected 5xx and timeouts and a 429 storm: nothing lost, nothing failed', async () => {
    const b = await startBackfill({ sim: { faultRate: 0.1, timeoutRate: 0.1, hangMs: 50, seed: 7 } });
    const worker = await startIngestWorker(b.app, { bitbucket: FAST_RETRY });
    try {
      // Halfway through the diffstats, Bitbucket starts refusing nearly everything for a while.
      await waitFor(async () => ((await repositoryStatus(b))[0]?.commits_with_lines ?? 0) > 2000, 'progress');
      b.sim.setKnobs({ rateLimitPerHour: 5, rateWindowMs: 1000 });
      const stormStart = b.sim.requestLog.length;
      await waitFor(async () => b.sim.requestLog.length - stormStart > 200, 'the storm to be felt');
      b.sim.setKnobs({ rateLimitPerHour: Infinity });
      const [repo] = await waitForReady(b);
      await assertExact(b.admin, b.tenantId);
      const statuses = b.sim.requestLog.map((r) => r.status);
      assert.ok(statuses.filter((s) => s === 429).length > 100, 'the storm answered 429s');
      assert.ok(statuses.filter((s) => s >= 500).length > 100, 'faults were injected');
      assert.ok(b.sim.requestLog.filter((r) => r.fault === 'timeout').length > 100, 'requests hung');
      assert.equal(repo!.commits_with_lines, expected.commits);
      const listing = b.sim.requestLog.filter((r) => /^\/2\.0\/repositories\/[^/]+$/.test(r.path)).length;
      assert.equal(repo!.requests_used + listing, b.sim.requestLog.length, 'every request is accounted');
    } finally {
      await worker.stop();
      await b.close();
    }
  });

  it('rejects malformed payloads with a logged reason, retries them, and stores none of them', async () => {
    const b = await startBackfill();
    const proxy = await corruptingProxy(b.sim.apiUrl);
    // Tally reaches the API through the proxy (the JWT's qsh covers path and query, not the host).
    await b.admin.query('update tenants set base_api_url = $1 where id = $2', [proxy.url, b.tenantId]);
    const worker = await startIngestWorker(b.app, { bitbucket: FAST_RETRY });
    try {
      await waitForReady(b);
      await assertExact(b.admin, b.tenantId);
      const rejected = b.app.logs.filter((l) => l.includes('bitbucket payload rejected'));
      assert.ok(proxy.corrupted() > 100, `corrupted ${proxy.corrupted()} responses`);
      assert.equal(rejected.length, proxy.corrupted(), 'one logged rejection per corrupted payload');
      assert.ok(
        rejected.some((l) => l.includes('lines_added')),
        'the reason names the bad field',
      );
      assert.ok(rejected.some((l) => l.includes('not JSON')));
      assert.ok(rejected.some((l) => l.includes('hash')));
      const { rows } = await b.admin.query(
        'select count(*)::int as n from commit_files where tenant_id = $1 and (lines_added < 0 or path = $2)',
        [b.tenantId, ''],
      );
      assert.equal(rows[0].n, 0);
    } finally {
      await worker.stop();
      await proxy.close();
      await b.close();
    }
  });
});

/**
 * Forwards to the simulator, rewriting its address to the proxy's, and corrupts the first answer of about one
 * path in twenty: a negative line count, a bad commit hash, or a truncated body.
 */
async function corruptingProxy(target: string) {
  let count = 0;
  const seen = new Set<string>();
  let url = '';
  const server: Server = createServer(async (req, res) => {
    const upstream = await fetch(`${target}${req.url}`, {
      headers: { authorization: req.headers.authorization ?? '' },
    });
    let body = (await upstream.text()).split(target).join(url);
    const digest = createHash('sha256').update(req.url!).digest()[0]!;
    if (upstream.status === 200 && !seen.has(req.url!) && digest % 20 === 0) {
      seen.add(req.url!);
      const corrupted = corrupt(body, digest);
      if (corrupted !== body) {
        count++;
        body = corrupted;
      }
    }
    res.writeHead(upstream.status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    corrupted: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function corrupt(body: string, digest: number): string {
  const kind = Math.floor(digest / 20) % 3;
  if (kind === 0 && body.includes('"lines_added":'))
    return body.replace(/"lines_added":\d+/, '"lines_added":-7');
  if (kind === 1 && body.includes('"hash":"'))
    return body.replace(/"hash":"[0-9a-f]{40}"/, '"hash":"not-a-hash"');
  return body.slice(0, Math.floor(body.length / 2));
}
