import { after, before, describe, it } from 'node:test';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import type { Runner } from 'graphile-worker';
import { startBackfill, startIngestWorker, waitForReady, type Backfill } from './backfill-harness';

describe('debug', () => {
  let b: Backfill;
  let worker: Runner;
  before(async () => {
    b = await startBackfill();
    worker = await startIngestWorker(b.app);
  });
  after(async () => { await worker?.stop(); await b?.close(); });
  it('runs', async () => {
    const session = new Session(); session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start');
    const t0 = Date.now();
    await waitForReady(b);
    const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/prof.cpuprofile', JSON.stringify(profile));
    console.log('total ms', Date.now() - t0);
    const log = b.sim.requestLog;
    const counts = new Map<string, number>();
    for (const r of log) counts.set(r.path + '?' + r.query, (counts.get(r.path + '?' + r.query) ?? 0) + 1);
    const dups = [...counts].filter(([, n]) => n > 1);
    console.log('requests', log.length, 'dups', dups.length, dups.slice(0, 5));
    const byStatus = new Map<number, number>(); for (const r of log) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    console.log([...byStatus]);
    const dupPaths = new Set(dups.map(([p]) => p));
    for (const r of log) if (dupPaths.has(r.path + '?' + r.query)) console.log('DUP', r.at, r.path.slice(-60));
    for (const l of b.app.logs) if (l.includes('STEP')) console.log(l.slice(0, 300));
    for (const l of b.app.logs) if (/"level":(40|50)/.test(l)) console.log(l.slice(0, 1500));
    const first = Date.parse(log[0]!.at); const lastPage = log.filter(r => r.path.endsWith('/commits')).at(-1)!;
    console.log('listing done at', Date.parse(lastPage.at) - first, 'last at', Date.parse(log.at(-1)!.at) - first);
  });
});
