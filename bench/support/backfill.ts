/** What the backfill benchmarks share: the bare client they compare with, installing, synthetic histories. */
import { createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';
import type pg from 'pg';
import { request } from 'undici';
import type { CommitInput, FileChange } from '../../src/db/commit-store';
import type { InstallResult } from '../../src/simulator/index';
import { verifyWithBitbucket } from '../../test/support/bitbucket';
import type { SimulatorHost } from './simulator-host';
import type { LoggedRequest } from './simulator-process';
import type { BenchTally } from './tally';

/**
 * A client that only GETs the pages the backfill got, with the same concurrency, and parses their JSON (reads a
 * patch series' text). Like the
 * backfill, it runs two passes at once: the repository list and the commit pages one after another (each needs the
 * previous one's `next`), then the diffstats and patch series `concurrency` at a time; and beside them the pull request pass's
 * requests, `concurrency` at a time.
 */
export async function bareClient(
  apiUrl: string,
  inst: InstallResult,
  requests: LoggedRequest[],
  concurrency: number,
): Promise<{ ms: number; sequentialMs: number }> {
  const get = async (pathAndQuery: string) => {
    const u = new URL(`${apiUrl}${pathAndQuery}`);
    const iat = Math.floor(Date.now() / 1000);
    const qsh = createQueryStringHash(fromMethodAndUrl('GET', `${u.pathname}${u.search}`));
    const token = encodeSymmetric(
      { iss: 'tally', sub: inst.clientKey, iat, exp: iat + 180, qsh },
      inst.sharedSecret,
      SymmetricAlgorithm.HS256,
    );
    // The HTTP client Tally's REST client uses (undici's request API on a keep-alive pool).
    const res = await request(u, { headers: { authorization: `JWT ${token}`, accept: 'application/json' } });
    if (res.statusCode !== 200) throw new Error(`${u.pathname} answered ${res.statusCode}`);
    const text = await res.body.text();
    return u.pathname.includes('/patch/') ? text.length : JSON.parse(text);
  };
  const inLanes = async (list: LoggedRequest[]) => {
    let next = 0;
    const lane = async () => {
      while (next < list.length) await get(list[next++]!.url);
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  };
  const of = (...kinds: LoggedRequest['kind'][]) => requests.filter((r) => kinds.includes(r.kind));
  const start = performance.now();
  let sequentialMs = 0;
  const commitPass = async () => {
    for (const r of of('repositories', 'commits')) await get(r.url);
    sequentialMs = performance.now() - start;
    await inLanes(of('diffstat', 'patch', 'other'));
  };
  await Promise.all([commitPass(), inLanes(of('pullrequests'))]);
  return { ms: performance.now() - start, sequentialMs };
}

export async function repositoryState(admin: pg.Client) {
  const { rows } = await admin.query(
    'select sync_state, commits_known, commits_with_lines, requests_used from repositories',
  );
  return rows[0] as
    | { sync_state: string; commits_known: number; commits_with_lines: number; requests_used: number }
    | undefined;
}

export async function pendingBackfillJobs(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query(
    // Everything the backfill set off, the analytics upkeep included; not the periodic passes hours away.
    `select count(*)::int as n from graphile_worker.jobs where run_at < now() + interval '1 minute'`,
  );
  return rows[0].n;
}

/** Installs and verifies at once (not after the job's first-try delay), so the figures time the backfill alone. */
export async function installTally(
  sim: SimulatorHost,
  web: BenchTally,
): Promise<InstallResult & { tenantId: string }> {
  const inst = await sim.install(`${web.url}/atlassian-connect.json`);
  if (inst.status !== 204) throw new Error(`install answered ${inst.status}`);
  const tenant = await web.runtime.tenants.findByClientKey(inst.clientKey);
  if (!tenant || (await verifyWithBitbucket(web.runtime, tenant.id)) !== 'confirmed')
    throw new Error('the simulator did not confirm the install');
  return { ...inst, tenantId: tenant.id };
}

export function syntheticCommits(count: number, offset: number): CommitInput[] {
  const start = Date.UTC(2010, 0, 1);
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    const author = `Author ${i % 500}`;
    return {
      hash: createHash('sha1').update(`commit ${i}`).digest('hex'),
      authorRaw: `${author} <author${i % 500}@example.com>`,
      authorName: author,
      authorEmail: `author${i % 500}@example.com`,
      authorAccountId: i % 3 === 0 ? `acc-${i % 500}` : null,
      authorUuid: null,
      authoredAt: new Date(start + i * 60_000),
      parents:
        i === 0
          ? []
          : [
              createHash('sha1')
                .update(`commit ${i - 1}`)
                .digest('hex'),
            ],
      message: `Change number ${i}\n\nSome description of the change.`,
    };
  });
}

export const syntheticFiles = (i: number): FileChange[] =>
  [0, 1, 2].map((f) => ({
    path: `src/module${(i + f) % 800}/file${f}.ts`,
    oldPath: null,
    status: 'modified',
    linesAdded: (i * 7 + f) % 40,
    linesRemoved: (i * 3 + f) % 20,
    isBinary: false,
  }));

/** Writes a linear synthetic history in the export format (what the simulator loads). */
export async function writeSyntheticExport(file: string, count: number): Promise<void> {
  const gzip = createGzip({ level: 1 });
  const out = gzip.pipe(createWriteStream(file));
  const done = new Promise<void>((resolve) => out.on('finish', () => resolve()));
  for (let offset = 0; offset < count; offset += 10_000) {
    const lines = syntheticCommits(Math.min(10_000, count - offset), offset).map((c, k) =>
      JSON.stringify({
        hash: c.hash,
        parents: c.parents,
        author: { name: c.authorName, email: c.authorEmail },
        date: c.authoredAt.toISOString().replace('.000Z', '+00:00'),
        message: c.message,
        files: syntheticFiles(offset + k).map((f) => ({
          path: f.path,
          added: f.linesAdded,
          removed: f.linesRemoved,
        })),
      }),
    );
    if (!gzip.write(`${lines.join('\n')}\n`)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
}
