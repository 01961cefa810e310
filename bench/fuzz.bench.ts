/**
 * The full fuzz run of issue 13 (the test suite runs a short one, test/bounds/fuzz.test.ts): BENCH_FUZZ_RUNS
 * (default 10,000) generated requests over every route of docs/openapi.json, the lifecycle routes, every webhook
 * and the iframe pages, against a real Tally with real PostgreSQL. Fails on any answer ≥ 500 or transport error.
 */
import { createSessionToken } from '../src/connect/jwt';
import { scopeForPage } from '../src/connect/session-scope';
import { install, newWorkspace } from '../test/support/bitbucket';
import { fuzz } from '../test/support/fuzz';
import { loadExport, readExport } from '../test/support/load-export';
import { machine } from './support/tally';
import { startBenchStack } from './support/tally-stack';

const RUNS = Number(process.env.BENCH_FUZZ_RUNS ?? 10_000);

export async function main(): Promise<void> {
  const stack = await startBenchStack();
  try {
    const ws = newWorkspace('fuzz');
    if ((await install({ url: stack.url, runtime: stack.runtime }, ws)).status !== 204)
      throw new Error('install failed');
    const tenant = await stack.runtime.tenants.findByClientKey(ws.clientKey);
    const { uuid } = await loadExport({
      db: stack.runtime.db,
      tenantId: tenant!.id,
      commits: readExport().slice(0, 300),
    });
    const token = createSessionToken({
      appKey: 'tally',
      clientKey: ws.clientKey,
      secret: ws.sharedSecret,
      scope: scopeForPage('workspace', {}),
    });
    const res = await fetch(`${stack.url}/api/v1/stats/contributors`, {
      headers: { authorization: `JWT ${token}` },
    });
    const contributors = ((await res.json()) as { contributors: { key: string }[] }).contributors.map(
      (c) => c.key,
    );
    console.log(`machine: ${machine()}`);
    const started = performance.now();
    const summary = await fuzz({ url: stack.url, ws, repositories: [uuid], contributors }, RUNS);
    const seconds = (performance.now() - started) / 1000;
    const health = await fetch(`${stack.url}/healthz`);
    console.log(
      `fuzz inputs: ${summary.inputs} (target ≥ 10,000), sent: ${summary.sent} (the rest no HTTP client can send)`,
    );
    console.log(`answers by class: ${JSON.stringify(summary.byStatus)}`);
    console.log(`route families: ${Object.keys(summary.byKind).length}`);
    console.log(`answers ≥ 500 or transport errors: ${summary.failures.length} (target 0)`);
    console.log(`process up after the run: ${health.status === 200 ? 'yes' : 'no'}`);
    console.log(`duration: ${seconds.toFixed(1)} s, ${(summary.inputs / seconds).toFixed(0)} inputs/s`);
    for (const f of summary.failures.slice(0, 20))
      console.log(
        `  ${f.status} ${f.request.method} ${f.request.path.slice(0, 200)} ${f.request.body?.slice(0, 200) ?? ''}`,
      );
    if (summary.failures.length > 0 || health.status !== 200) process.exitCode = 1;
  } finally {
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
