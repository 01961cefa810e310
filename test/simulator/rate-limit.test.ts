import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SlidingWindowLimiter } from '../../src/simulator/rate-limit.js';
import { startHarness, type Harness } from './helpers.js';

describe('rate limit (per clientKey, /2.0/repositories/*, sliding window)', () => {
  let h: Harness;
  let clock = Date.now();

  before(async () => {
    h = await startHarness({ rateLimitPerHour: 5, rateWindowMs: 60_000, now: () => new Date(clock) });
  });
  after(() => h.close());

  it('answers the (N+1)th request in the window with 429 and the exact Bitbucket body, without X-RateLimit headers', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await h.get('/2.0/repositories/acme/express')).status, 200);
    const limited = await h.get('/2.0/repositories/acme/express/commits');
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.body, {
      type: 'error',
      error: { message: 'Rate limit for this resource has been exceeded' },
    });
    for (const [name] of limited.headers) assert.ok(!name.toLowerCase().startsWith('x-ratelimit'), name);
  });

  it('does not count /2.0/user against the repositories limit', async () => {
    assert.equal((await h.get('/2.0/user')).status, 200);
  });

  it('admits requests again once the window has slid past them', async () => {
    clock += 30_000;
    assert.equal((await h.get('/2.0/repositories/acme/express')).status, 429, 'still inside the window');
    clock += 31_000;
    assert.equal((await h.get('/2.0/repositories/acme/express')).status, 200);
  });

  it('can be changed at runtime with setKnobs, including Infinity', async () => {
    h.sim.setKnobs({ rateLimitPerHour: Infinity });
    for (let i = 0; i < 10; i++) assert.equal((await h.get('/2.0/repositories/acme')).status, 200);
    assert.throws(() => h.sim.setKnobs({ faultRate: 2 }));
  });
});

describe('SlidingWindowLimiter', () => {
  it('keeps separate windows per key and does not count refusals', () => {
    const l = new SlidingWindowLimiter();
    assert.equal(l.admit('a', 0, 2, 100), true);
    assert.equal(l.admit('a', 10, 2, 100), true);
    assert.equal(l.admit('a', 20, 2, 100), false);
    assert.equal(l.admit('b', 20, 2, 100), true);
    assert.equal(l.admit('a', 100, 2, 100), true, 'the hit at 0 left the window');
    assert.equal(l.admit('a', 105, 2, 100), false);
    assert.equal(l.admit('a', 110, 2, 100), true, 'the refused call at 105 was not counted');
  });
});
