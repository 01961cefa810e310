import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createDatabase, type Database } from '../../src/db/database';
import { limitFor, PostgresRequestBudget, windowSpanMs } from '../../src/db/request-budget-store';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';

describe('per-tenant request budget in PostgreSQL', () => {
  let database: TestDatabase;
  let db: Database;
  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.appUrl, createLogger('silent'));
  });
  after(async () => {
    await db.close();
    await database.drop();
  });

  const policy = { limit: 100, windowMs: 60_000 };

  it('grants up to the limit in a sliding window; backfill leaves a reserve that push syncs may use', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const budget = new PostgresRequestBudget(db, policy, () => now);
    const tenant = randomUUID();
    const low = limitFor(policy, 'low');
    assert.equal(low, 98);
    assert.deepEqual(await budget.tryAcquire(tenant, 'low', 60), { granted: 60 });
    assert.deepEqual(await budget.tryAcquire(tenant, 'low', 60), { granted: low - 60 });
    const refused = await budget.tryAcquire(tenant, 'low', 1);
    assert.equal(refused.granted, 0);
    assert.equal(refused.retryAt!.getTime(), now.getTime() + windowSpanMs(policy));
    assert.deepEqual(await budget.tryAcquire(tenant, 'high', 5), { granted: 2 });
    assert.equal(await budget.used(tenant), 100);
    // The window slides: once the first grant has left it, its 60 requests are available again.
    now = new Date(now.getTime() + windowSpanMs(policy) + 1);
    assert.deepEqual(await budget.tryAcquire(tenant, 'low', 100), { granted: low });
  });

  it('says when the next slot frees: when enough of the oldest grants have left the window', async () => {
    const start = new Date('2026-01-01T00:00:00Z').getTime();
    let now = new Date(start);
    const budget = new PostgresRequestBudget(db, policy, () => now);
    const tenant = randomUUID();
    await budget.tryAcquire(tenant, 'high', 30);
    now = new Date(start + 10_000);
    await budget.tryAcquire(tenant, 'high', 70);
    const refused = await budget.tryAcquire(tenant, 'high', 1);
    assert.equal(refused.retryAt!.getTime(), start + windowSpanMs(policy));
  });

  it('lets a waiting push sync take freed slots before backfill', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const budget = new PostgresRequestBudget(db, policy, () => now);
    const tenant = randomUUID();
    await budget.tryAcquire(tenant, 'high', 100);
    assert.equal((await budget.tryAcquire(tenant, 'high', 1)).granted, 0); // a push sync now waits
    now = new Date(now.getTime() + windowSpanMs(policy) + 1);
    const backfill = await budget.tryAcquire(tenant, 'low', 10);
    assert.equal(backfill.granted, 0, 'backfill stands aside while the push sync waits');
    assert.ok(backfill.retryAt!.getTime() > now.getTime());
    assert.deepEqual(await budget.tryAcquire(tenant, 'high', 3), { granted: 3 }, 'the push sync comes back');
    assert.deepEqual(await budget.tryAcquire(tenant, 'low', 10), { granted: 10 });
  });

  it('keeps tenants apart: one tenant spending its budget leaves another untouched', async () => {
    const budget = new PostgresRequestBudget(db, policy);
    const [a, b] = [randomUUID(), randomUUID()];
    await budget.tryAcquire(a, 'high', 100);
    assert.equal((await budget.tryAcquire(a, 'high', 1)).granted, 0);
    assert.deepEqual(await budget.tryAcquire(b, 'high', 100), { granted: 100 });
  });

  it('holds across processes: separate connection pools racing for one tenant never grant more than the limit', async () => {
    const others = [0, 1, 2].map(() => createDatabase(database.appUrl, createLogger('silent'), 4));
    try {
      const tenant = randomUUID();
      const budgets = others.map((handle) => new PostgresRequestBudget(handle, policy));
      const grants = await Promise.all(
        Array.from({ length: 90 }, (_, i) => budgets[i % 3]!.tryAcquire(tenant, i % 2 ? 'high' : 'low', 3)),
      );
      const granted = grants.reduce((sum, g) => sum + g.granted, 0);
      assert.equal(granted, 100);
      assert.equal(await budgets[0]!.used(tenant), 100);
    } finally {
      await Promise.all(others.map((handle) => handle.close()));
    }
  });

  describe('limits Bitbucket announces', () => {
    const inForce = (budget: PostgresRequestBudget, tenant: string) =>
      db.withTenant(tenant, (trx) => budget.limitInForce(trx, tenant));
    const spend = async (budget: PostgresRequestBudget, tenant: string, priority: 'high' | 'low') => {
      let total = 0;
      for (;;) {
        const grant = await budget.tryAcquire(tenant, priority, 1000);
        if (grant.granted === 0) return total;
        total += grant.granted;
      }
    };

    it('follows an announced limit above the configured one, shared by every process, and lapses back', async () => {
      let now = new Date('2026-01-01T00:00:00Z');
      const budget = new PostgresRequestBudget(db, policy, () => now);
      const other = new PostgresRequestBudget(db, policy, () => now);
      const tenant = randomUUID();
      assert.deepEqual(await inForce(budget, tenant), {
        requestsPerHour: 100,
        source: 'configured',
        nearLimit: false,
      });
      await budget.announce(tenant, { resource: 'api', requestsPerHour: 2500, nearLimit: false });
      assert.deepEqual(await inForce(other, tenant), {
        requestsPerHour: 2500,
        source: 'announced',
        nearLimit: false,
      });
      // Another process's budget grants against it: backfill up to the limit less its 2% reserve.
      assert.equal(await spend(other, tenant, 'low'), 2450);
      assert.equal(await spend(other, tenant, 'high'), 50);
      // An hour without a fresh announcement: the configured limit applies again.
      now = new Date(now.getTime() + windowSpanMs(policy) + 1);
      assert.equal((await inForce(budget, tenant)).source, 'configured');
      assert.equal(await spend(budget, tenant, 'high'), 100);
    });

    it('holds to the smallest limit of any resource and eases backfill off to 80% at NearLimit', async () => {
      const now = new Date('2026-01-01T00:00:00Z');
      const budget = new PostgresRequestBudget(db, policy, () => now);
      const tenant = randomUUID();
      await budget.announce(tenant, { resource: 'api', requestsPerHour: 3000, nearLimit: false });
      await budget.announce(tenant, { resource: 'users', requestsPerHour: 1200, nearLimit: false });
      assert.equal((await inForce(budget, tenant)).requestsPerHour, 1200);
      await budget.announce(tenant, { resource: 'users', requestsPerHour: 1200, nearLimit: true });
      assert.deepEqual(await inForce(budget, tenant), {
        requestsPerHour: 1200,
        source: 'announced',
        nearLimit: true,
      });
      // 80% of 1,200 = 960, less the 2% reserve (20) = 940 for backfill; push syncs still reach 1,200.
      assert.equal(await spend(budget, tenant, 'low'), 940);
      assert.equal(await spend(budget, tenant, 'high'), 260);
      // An answer without NearLimit lifts the easing at once.
      await budget.announce(tenant, { resource: 'users', requestsPerHour: 1200, nearLimit: false });
      assert.equal((await inForce(budget, tenant)).nearLimit, false);
    });

    it('never stores a figure above the documented 10,000 an hour, whatever calls it', async () => {
      const budget = new PostgresRequestBudget(db, policy);
      const tenant = randomUUID();
      await assert.rejects(
        budget.announce(tenant, { resource: 'api', requestsPerHour: 1_000_000, nearLimit: false }),
        /api_rate_limits_requests_per_hour_check/,
      );
      assert.equal((await inForce(budget, tenant)).source, 'configured');
    });
  });
});
