import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scaledLimit, SlidingWindowLimiter } from '../../src/simulator/rate-limit.js';
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

describe('scaled rate limits, announced to token callers', () => {
  let h: Harness;
  let clock = Date.now();
  before(async () => {
    h = await startHarness({ rateWindowMs: 60_000, now: () => new Date(clock) });
  });
  after(() => h.close());

  const headersOf = (res: { headers: Headers }) =>
    Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('x-ratelimit')));

  it('follows Bitbucket’s formula: 1000 + 10 × (seats − 100), at most 10,000', () => {
    assert.deepEqual(
      [0, 5, 100, 101, 250, 1000, 1001, 5000].map(scaledLimit),
      [1000, 1000, 1000, 1010, 2500, 10_000, 10_000, 10_000],
    );
  });

  it('sends Connect JWT callers no headers and the flat limit, whatever the seats', async () => {
    h.sim.setKnobs({ rateLimitPerHour: 3, paidSeats: { acme: 250 } });
    for (let i = 0; i < 3; i++) {
      const res = await h.get('/2.0/repositories/acme/express');
      assert.equal(res.status, 200);
      assert.deepEqual(headersOf(res), {});
    }
    assert.equal((await h.get('/2.0/repositories/acme/express')).status, 429);
  });

  it('announces and enforces the scaled limit for token callers, NearLimit once less than a fifth remains', async () => {
    clock += 61_000;
    h.sim.setKnobs({ announceToConnect: true, paidSeats: { acme: 101 } }); // 1,010 an hour
    const first = await h.get('/2.0/repositories/acme/express');
    assert.equal(first.status, 200);
    assert.deepEqual(headersOf(first), {
      'x-ratelimit-limit': '1010',
      'x-ratelimit-nearlimit': 'false',
      'x-ratelimit-resource': 'api',
    });
    // 807 used leaves 203 (more than a fifth of 1,010 = 202); 809 used leaves 201.
    for (let i = 1; i < 807; i++) await h.get('/2.0/repositories/acme/express');
    assert.equal(headersOf(await h.get('/2.0/repositories/acme/express'))['x-ratelimit-nearlimit'], 'false');
    assert.equal(headersOf(await h.get('/2.0/repositories/acme/express'))['x-ratelimit-nearlimit'], 'true');
    for (let i = 809; i < 1010; i++)
      assert.equal((await h.get('/2.0/repositories/acme/express')).status, 200);
    const refused = await h.get('/2.0/repositories/acme/express');
    assert.equal(refused.status, 429);
    assert.equal(headersOf(refused)['x-ratelimit-limit'], '1010');
    // An access token (Bearer) is a token caller without any knob: the scaled limit, announced.
    h.sim.setKnobs({ announceToConnect: false });
    const token = h.sim.issueUserToken('acme', h.sim.workspace('acme').admin.account_id);
    const viaToken = await fetch(`${h.sim.apiUrl}/2.0/repositories/acme/express`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(viaToken.status, 200);
    assert.equal(headersOf(viaToken)['x-ratelimit-limit'], '1010');
    h.sim.setKnobs({ announceToConnect: true });
    // Without seats a token caller gets the base limit, announced.
    clock += 61_000;
    h.sim.setKnobs({ paidSeats: {}, rateLimitPerHour: 1000 });
    assert.equal(headersOf(await h.get('/2.0/repositories/acme/express'))['x-ratelimit-limit'], '1000');
    h.sim.setKnobs({ announceToConnect: false });
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
