import { randomUUID, createHash } from 'node:crypto';
import { it } from 'node:test';
import { createDatabase } from '../../src/db/database';
import { insertCommits, saveDiffstats } from '../../src/db/commit-store';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase } from '../support/db';

it('insert perf', async () => {
  const d = await createTestDatabase();
  const db = createDatabase(d.appUrl, createLogger('silent'));
  const tenantId = randomUUID();
  const repoId = await db.withTenant(tenantId, async (trx) => (await trx('repositories').insert({ tenant_id: tenantId, uuid: '{x}', full_name: 'a/b', slug: 'b', name: 'b' }).returning('id'))[0].id);
  let tc = 0, tf = 0, rows = 0;
  for (let off = 0; off < 50000; off += 5000) {
    const commits = Array.from({ length: 5000 }, (_, k) => ({ hash: createHash('sha1').update('c' + (off + k)).digest('hex'), authorRaw: 'A <a@b.c>', authorName: 'A', authorEmail: 'a@b.c', authorAccountId: null, authorUuid: null, authoredAt: new Date(), parents: ['a'.repeat(40)], message: 'msg ' + k }));
    await db.withTenant(tenantId, async (trx) => {
      let t = performance.now();
      rows += (await insertCommits(trx, tenantId, repoId, commits)).length;
      tc += performance.now() - t; t = performance.now();
      rows += 3 * (await saveDiffstats(trx, tenantId, repoId, commits.map((c) => ({ hash: c.hash, files: [0, 1, 2].map((f) => ({ path: 'src/f' + f + '.js', oldPath: null, status: 'modified' as const, linesAdded: 3, linesRemoved: 1, isBinary: false })) })))).length;
      tf += performance.now() - t;
    });
  }
  console.log('commits ms', tc, 'files ms', tf, 'rows/s', rows / ((tc + tf) / 1000));
  await db.close(); await d.drop();
});
