import { randomUUID, createHash } from 'node:crypto';
import { it } from 'node:test';
import { createDatabase } from '../../src/db/database';
import { insertCommits } from '../../src/db/commit-store';
import { createLogger } from '../../src/platform/logger';
import { createTestDatabase } from '../support/db';

it('insert perf parts', async () => {
  const d = await createTestDatabase();
  const db = createDatabase(d.appUrl, createLogger('silent'));
  const tenantId = randomUUID();
  const repoId = await db.withTenant(tenantId, async (trx) => (await trx('repositories').insert({ tenant_id: tenantId, uuid: '{x}', full_name: 'a/b', slug: 'b', name: 'b' }).returning('id'))[0].id);
  const T: Record<string, number> = {};
  const time = async (k: string, f: () => Promise<unknown>) => { const t = performance.now(); await f(); T[k] = (T[k] ?? 0) + performance.now() - t; };
  for (let off = 0; off < 50000; off += 5000) {
    const commits = Array.from({ length: 5000 }, (_, k) => ({ hash: createHash('sha1').update('c' + (off + k)).digest('hex'), authorRaw: 'A <a@b.c>', authorName: 'A', authorEmail: 'a@b.c', authorAccountId: null, authorUuid: null, authoredAt: new Date(), parents: ['a'.repeat(40)], message: 'msg ' + k }));
    const hashes = commits.map((c) => c.hash);
    const files = commits.flatMap((c) => [0, 1, 2].map((f) => ({ hash: c.hash, ordinal: f, path: 'src/f' + f + '.js', old_path: null, status: 'modified', lines_added: 3, lines_removed: 1, is_binary: false })));
    await db.withTenant(tenantId, async (trx) => {
      await time('insertCommits', () => insertCommits(trx, tenantId, repoId, commits));
      await time('select', () => trx.raw('select hash from commits where tenant_id = ? and repository_id = ? and hash = any(?::text[]) and lines_added is null for update', [tenantId, repoId, hashes]));
      await time('delete', () => trx.raw('delete from commit_files where tenant_id = ? and repository_id = ? and hash = any(?::text[])', [tenantId, repoId, hashes]));
      const half = off % 10000 === 0;
      if (half) await time('files-unnest', () => trx.raw(`insert into commit_files (tenant_id, repository_id, hash, ordinal, path, old_path, status, lines_added, lines_removed, is_binary)
       select ?::uuid, ?::bigint, v.* from unnest(?::text[], ?::int[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::boolean[]) as v(hash, ordinal, path, old_path, status, lines_added, lines_removed, is_binary)`,
        [tenantId, repoId, files.map((r) => r.hash), files.map((r) => r.ordinal), files.map((r) => r.path), files.map((r) => r.old_path) as unknown as string[], files.map((r) => r.status), files.map((r) => r.lines_added), files.map((r) => r.lines_removed), files.map((r) => r.is_binary)]));
      else await time('files-json', () => trx.raw(`insert into commit_files (tenant_id, repository_id, hash, ordinal, path, old_path, status, lines_added, lines_removed, is_binary)
       select ?::uuid, ?::bigint, v.hash, v.ordinal, v.path, v.old_path, v.status, v.lines_added, v.lines_removed, v.is_binary from json_to_recordset(?::json) as v(hash text, ordinal int, path text, old_path text, status text, lines_added int, lines_removed int, is_binary boolean)`,
        [tenantId, repoId, JSON.stringify(files)]));
      await time('update', () => trx.raw(`update commits c set lines_added = v.a, lines_removed = v.r, files_changed = v.f from unnest(?::text[], ?::int[], ?::int[], ?::int[]) as v(hash, a, r, f) where c.tenant_id = ? and c.repository_id = ? and c.hash = v.hash`, [hashes, hashes.map(() => 9), hashes.map(() => 2), hashes.map(() => 3), tenantId, repoId]));
    });
  }
  console.log(JSON.stringify(T));
  await db.close(); await d.drop();
});
