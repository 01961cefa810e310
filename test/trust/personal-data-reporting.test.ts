import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  parseDurationSeconds,
  parseRetryAfter,
  PersonalDataReportingClient,
  PersonalDataReportingError,
} from '../../src/connect/personal-data-reporting';
import type { Database } from '../../src/db/database';
import { TenantStore } from '../../src/db/tenant-store';
import { runPersonalDataReport } from '../../src/ingest/maintenance';
import type { JobDeps } from '../../src/ingest/tasks';
import { createLogger } from '../../src/platform/logger';
import { SecretBox } from '../../src/platform/secret-box';
import { confirmAsBitbucket, installPayload, newWorkspace } from '../support/bitbucket';
import type { PersonalDataApi } from '../support/personal-data-api';
import { newPerson, seedTenant, startReportingHarness, type ReportingHarness } from './fixtures';

describe('personal data reporting (Atlassian’s report-accounts API, against the test stand-in)', () => {
  let harness: ReportingHarness;
  let admin: pg.Client;
  let db: Database;
  let api: PersonalDataApi;
  let deps: JobDeps;
  let client: PersonalDataReportingClient;
  const start = Date.UTC(2026, 0, 5, 12);
  let offset = 0;
  const clock = () => new Date(start + offset);
  const wsA = newWorkspace();
  const wsB = newWorkspace();
  const closed = newPerson('Closed Account');
  const updated = newPerson('Updated Account');
  const crowd = Array.from({ length: 198 }, (_v, i) =>
    newPerson(`Person ${String.fromCharCode(65 + (i % 26))}${i}`),
  );
  const tenantIds: Record<string, string> = {};

  before(async () => {
    harness = await startReportingHarness();
    ({ admin, db, api, client } = harness);
    const tenants = new TenantStore(db, new SecretBox([randomBytes(32)]), clock);
    for (const [i, ws] of [wsA, wsB].entries()) {
      offset = (i - 2) * 1000; // A installed before B: tenants are reported in install order
      const tenant = await tenants.saveInstallation(installPayload(ws), { trusted: false });
      await confirmAsBitbucket(tenants, ws.clientKey);
      tenantIds[ws.clientKey] = tenant!.id;
      api.secrets.set(ws.clientKey, ws.sharedSecret);
    }
    // Tenant A stores 200 accounts (198 + closed + updated), 1 commit each; tenant B stores 2.
    await seedTenant(db, tenantIds[wsA.clientKey]!, [closed, updated, ...crowd], { commitsPerPerson: 1 });
    await seedTenant(db, tenantIds[wsB.clientKey]!, [newPerson('Bea Other'), newPerson('Ben Other')]);
    offset = 0;
    deps = { db, tenants, logger: createLogger('silent'), requestsPerHour: 950, now: clock };
  });
  after(() => harness.close());

  const state = async () => (await admin.query('select * from personal_data_reporting')).rows[0];

  it('a 429 stops the run and schedules the next one by Retry-After', async () => {
    api.rateLimit = { remaining: 1, retryAfter: '120' };
    const scheduled: Date[] = [];
    const summary = await runPersonalDataReport(deps, client, {
      scheduleRetry: async (at) => void scheduled.push(at),
    });
    assert.equal(summary.rateLimited, true);
    assert.equal(summary.reported, 0);
    assert.deepEqual(scheduled, [new Date(start + 120_000)]);
    assert.equal((await state()).next_run_at.getTime(), start + 120_000);
    assert.equal(api.requests.length, 0);

    offset = 60_000;
    const early = await runPersonalDataReport(deps, client);
    assert.equal(early.ran, false, 'not before Retry-After');
    assert.equal(api.requests.length, 0);
  });

  it('reports every stored account in batches of at most 90, erases closed, marks updated, stores Cycle-Period', async () => {
    api.statuses.set(closed.accountId, 'closed');
    api.statuses.set(updated.accountId, 'updated');
    api.cyclePeriod = '86400';
    offset = 121_000;
    const summary = await runPersonalDataReport(deps, client);
    assert.equal(summary.ran, true);
    assert.equal(summary.rateLimited, false);
    assert.deepEqual(api.rejected, [], 'every JWT verified');

    const sizes = api.requests.map((r) => r.accounts.length);
    assert.ok(
      sizes.every((n) => n >= 1 && n <= 90),
      `batch sizes ${sizes}`,
    );
    assert.deepEqual(sizes, [90, 90, 20, 2]);
    const byTenant = (ws: typeof wsA) =>
      api.requests
        .filter((r) => r.clientKey === ws.clientKey)
        .flatMap((r) => r.accounts.map((a) => a.accountId));
    assert.equal(new Set(byTenant(wsA)).size, 200);
    assert.equal(byTenant(wsB).length, 2);
    assert.deepEqual(summary, { ...summary, requests: 4, reported: 202, closed: 1, updated: 1 });

    const { rows: left } = await admin.query(
      `select count(*)::int as n from commits where author_account_id = $1 or author_email = $2 or author_name = $3`,
      [closed.accountId, closed.email, closed.name],
    );
    assert.equal(left[0].n, 0, 'the closed account is erased');
    const { rows: audit } = await admin.query(
      `select actor from audit_log where tenant_id = $1 and action = 'personal_data.erased'`,
      [tenantIds[wsA.clientKey]],
    );
    assert.deepEqual(audit, [{ actor: 'system:personal-data-reporting' }]);
    const { rows: marked } = await admin.query(
      `select account_id from personal_data_accounts where needs_refresh`,
    );
    assert.deepEqual(marked, [{ account_id: updated.accountId }]);

    const s = await state();
    assert.equal(s.cycle_seconds, 86_400);
    assert.equal(s.next_run_at.getTime(), start + 121_000 + 86_400_000);
  });

  it('reports again only after a full cycle, and never the erased account', async () => {
    const sent = api.requests.length;
    offset = 121_000 + 3_600_000;
    assert.equal((await runPersonalDataReport(deps, client)).ran, false);
    assert.equal(api.requests.length, sent);

    offset = 121_000 + 86_400_000;
    const fetched: string[] = [];
    const summary = await runPersonalDataReport(deps, client, {
      fetchDisplayName: async (_tenant, accountId) => {
        fetched.push(accountId);
        return 'Updated Name';
      },
    });
    assert.equal(summary.reported, 201);
    const again = api.requests.slice(sent).flatMap((r) => r.accounts.map((a) => a.accountId));
    assert.equal(again.includes(closed.accountId), false);
    assert.ok(again.every((id) => !id.startsWith('erased-')));
    assert.deepEqual(fetched, [updated.accountId]);
    const { rows } = await admin.query(`select display_name from contributors where account_id = $1`, [
      updated.accountId,
    ]);
    assert.deepEqual(rows, [{ display_name: 'Updated Name' }]);
    const updatedAt = api.requests
      .slice(sent)
      .flatMap((r) => r.accounts)
      .find((a) => a.accountId === updated.accountId)!.updatedAt;
    // Tenant A's inventory was taken by the first (rate-limited) run; the refresh moves it on for the next report.
    assert.equal(Date.parse(updatedAt), start, 'updatedAt is when Tally last retrieved the data');
    const { rows: refreshed } = await admin.query(
      `select updated_at, needs_refresh from personal_data_accounts where account_id = $1`,
      [updated.accountId],
    );
    assert.deepEqual(refreshed, [
      { updated_at: new Date(start + 121_000 + 86_400_000), needs_refresh: false },
    ]);
  });

  it('the client signs with the installation’s secret; a wrong one is refused', async () => {
    await assert.rejects(
      client.report({ clientKey: wsA.clientKey, sharedSecret: 'x'.repeat(64) }, [
        { accountId: 'a', updatedAt: new Date() },
      ]),
      (error: unknown) => error instanceof PersonalDataReportingError && error.status === 401,
    );
    await assert.rejects(
      client.report({ clientKey: wsA.clientKey, sharedSecret: wsA.sharedSecret }, []),
      RangeError,
    );
    const many = Array.from({ length: 91 }, (_v, i) => ({ accountId: `a${i}`, updatedAt: new Date() }));
    await assert.rejects(
      client.report({ clientKey: wsA.clientKey, sharedSecret: wsA.sharedSecret }, many),
      RangeError,
    );
  });

  it('parses Cycle-Period and Retry-After in their documented forms', () => {
    assert.equal(parseDurationSeconds('604800'), 604_800);
    assert.equal(parseDurationSeconds('P7D'), 604_800);
    assert.equal(parseDurationSeconds('PT12H'), 43_200);
    assert.equal(parseDurationSeconds('0'), null);
    assert.equal(parseDurationSeconds('soon'), null);
    assert.equal(parseDurationSeconds(null), null);
    const now = new Date('2026-01-05T12:00:00Z');
    assert.equal(parseRetryAfter('30', now), 30);
    assert.equal(parseRetryAfter('Mon, 05 Jan 2026 12:01:00 GMT', now), 60);
    assert.equal(parseRetryAfter('later', now), null);
  });
});
