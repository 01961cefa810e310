import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { MAX_JSON_BYTES } from '../../src/api/bounded-json';
import { recordAudit } from '../../src/db/audit-log';
import { startAnalyticsApp, type AnalyticsFixture } from '../analytics/helpers';

/** Issue 13: no JSON answer is larger than 10 MB; lists page by size, and the last guard refuses the rest. */
describe('JSON answers stay under 10 MB', () => {
  let f: AnalyticsFixture;
  before(async () => {
    f = await startAnalyticsApp();
  });
  after(() => f.app.close());

  it('the audit log pages by size: entries of 400 kB each come in pages under 10 MB, all of them', async () => {
    const patterns = Array.from({ length: 500 }, (_, i) => `vendor/${i}/${'x'.repeat(380)}`);
    await f.app.runtime.db.withTenant(f.tenantId, async (trx) => {
      for (let i = 0; i < 60; i++)
        await recordAudit(trx, f.tenantId, {
          at: new Date(),
          actor: 'user:acc-admin',
          action: 'settings.updated',
          details: { before: { path_exclusions: patterns }, after: { path_exclusions: patterns, n: i } },
        });
    });
    const seen: number[] = [];
    let before: number | null | undefined;
    let pages = 0;
    do {
      const res = await f.api.get('/audit', { limit: '500', ...(before ? { before: String(before) } : {}) });
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.ok(Buffer.byteLength(text) < MAX_JSON_BYTES, `page ${pages}: ${Buffer.byteLength(text)} bytes`);
      const body = JSON.parse(text) as { entries: { id: number }[]; next: number | null };
      seen.push(...body.entries.map((e) => e.id));
      before = body.next;
      pages++;
    } while (before && pages < 20);
    assert.equal(seen.length, 60);
    assert.equal(new Set(seen).size, 60);
    assert.ok(pages >= 3, `${pages} pages`);
  });

  it('an answer that would pass 10 MB is refused with range_too_large, not sent', async () => {
    const admin = new pg.Client({ connectionString: f.app.database.adminUrl });
    await admin.connect();
    try {
      // 12,000 identities with 1 kB names: about 12 MB of JSON.
      await admin.query(
        `insert into contributors (tenant_id, account_id, display_name)
         select $1, 'acct-' || i, repeat('n', 1000) from generate_series(1, 12000) i`,
        [f.tenantId],
      );
    } finally {
      await admin.end();
    }
    const res = await f.admin.get('/identities');
    const text = await res.text();
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(text).error.code, 'range_too_large');
    assert.match(JSON.parse(text).error.message, /10 MB/);
    assert.ok(text.length < 1000);
  });
});
