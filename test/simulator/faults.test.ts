import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startHarness } from './helpers.js';

async function statuses(seed: number, n: number): Promise<number[]> {
  const h = await startHarness({ faultRate: 0.3, seed, rateLimitPerHour: Infinity });
  try {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await h.get('/2.0/repositories/acme/express/commits?pagelen=1');
      if (res.status >= 500) {
        assert.equal(res.body.type, 'error');
        assert.equal(typeof res.body.error.message, 'string');
      }
      out.push(res.status);
    }
    return out;
  } finally {
    await h.close();
  }
}

describe('fault injection', () => {
  it('answers about faultRate of the requests with 500/502/503, deterministically per seed', async () => {
    const a = await statuses(7, 300);
    const failed = a.filter((s) => s >= 500);
    assert.ok(failed.length > 300 * 0.2 && failed.length < 300 * 0.4, `${failed.length} of 300 failed`);
    assert.ok(failed.every((s) => [500, 502, 503].includes(s)));
    assert.ok(a.every((s) => s === 200 || s >= 500));
    assert.deepEqual(await statuses(7, 300), a, 'same seed, same faults');
    assert.notDeepEqual(await statuses(8, 300), a, 'another seed, other faults');
  });

  it('hangs requests at timeoutRate and then drops the connection', async () => {
    const h = await startHarness({ timeoutRate: 1, hangMs: 50 });
    try {
      await assert.rejects(h.get('/2.0/user'));
      const rec = h.sim.requestLog.at(-1)!;
      assert.equal(rec.status, 0);
      assert.equal(rec.fault, 'timeout');
      h.sim.setKnobs({ timeoutRate: 0, latencyMs: 5 });
      assert.equal((await h.get('/2.0/user')).status, 200);
    } finally {
      await h.close();
    }
  });

  it('logs every API request with method, path, query, status and clientKey', async () => {
    const h = await startHarness();
    try {
      await h.get('/2.0/repositories/acme/express/commits?pagelen=2&include=master');
      await fetch(`${h.sim.apiUrl}/2.0/user`);
      const [ok, unauth] = h.sim.requestLog.slice(-2);
      assert.deepEqual(
        {
          method: ok!.method,
          path: ok!.path,
          query: ok!.query,
          status: ok!.status,
          clientKey: ok!.clientKey,
        },
        {
          method: 'GET',
          path: '/2.0/repositories/acme/express/commits',
          query: 'pagelen=2&include=master',
          status: 200,
          clientKey: h.inst.clientKey,
        },
      );
      assert.equal(unauth!.status, 401);
      assert.equal(unauth!.clientKey, null);
      assert.ok(!Number.isNaN(Date.parse(ok!.at)));
    } finally {
      await h.close();
    }
  });
});
