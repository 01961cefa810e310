import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fuzz, type FuzzTarget } from '../support/fuzz';
import { readExport } from '../support/load-export';
import { load, startAnalyticsApp, type AnalyticsFixture } from '../analytics/helpers';

/**
 * Issue 13: generated requests against every route (the API per docs/openapi.json, lifecycle, webhooks, pages)
 * never get an answer ≥ 500 and never bring the process down. A short run here; the full run of 10,000+ inputs is
 * bench/fuzz.bench.ts (docs/benchmarks.md).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

describe('fuzzing every route', () => {
  let f: AnalyticsFixture;
  let target: FuzzTarget;
  before(async () => {
    f = await startAnalyticsApp();
    const { uuid } = await load(f, readExport().slice(0, 300));
    const { contributors } = await f.api.json<{ contributors: { key: string }[] }>('/stats/contributors');
    target = { url: f.app.url, ws: f.ws, repositories: [uuid], contributors: contributors.map((c) => c.key) };
  });
  after(() => f.app.close());

  it(`${RUNS} generated requests: no answer ≥ 500, the process stays up`, async () => {
    const summary = await fuzz(target, RUNS);
    console.log(JSON.stringify({ sent: summary.sent, byStatus: summary.byStatus }));
    const shown = summary.failures
      .slice(0, 5)
      .map(
        (x) =>
          `${x.status} ${JSON.stringify(x.request.headers).slice(0, 400)} ${x.request.method} ${x.request.path.slice(0, 300)} ${x.request.body?.slice(0, 300) ?? ''}`,
      );
    assert.deepEqual(shown, [], `${summary.failures.length} failures`);
    assert.equal(summary.inputs, RUNS);
    // Most requests reach the routes' own logic: not everything is refused at the door.
    assert.ok((summary.byStatus['2xx'] ?? 0) > RUNS / 20, JSON.stringify(summary.byStatus));
    assert.ok(Object.keys(summary.byKind).length >= 30, Object.keys(summary.byKind).join(', '));
    const health = await fetch(`${f.app.url}/healthz`);
    assert.equal(health.status, 200);
  });
});
