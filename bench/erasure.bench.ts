/**
 * Erasure of one person (GDPR) on the express history loaded BENCH_COPIES times (each copy its own repository,
 * 6,413 commits each): an ordinary contributor, the author of two thirds of the history, and a person whose git
 * name is `main` (a word in many commit messages, all of which are rewritten). Each figure is printed with the
 * 1-minute load average (the machine is shared).
 * Run alone: `npx tsx bench/erasure.bench.ts`.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { erasePerson } from '../src/db/personal-data-store';
import { loadExport, readExport } from '../test/support/load-export';
import { installTenant } from './analytics.bench';
import { startBenchStack } from './support/tally-stack';

const COPIES = Number(process.env.BENCH_COPIES ?? 4);
const load = () => `load ${os.loadavg()[0]!.toFixed(1)}`;

const stack = await startBenchStack();
try {
  const { tenantId } = await installTenant(stack);
  const db = stack.runtime.db;
  // The person called `main`: Wes Todd's commits under that git name.
  const history = readExport().map((c) =>
    c.author.email === 'wes@wesleytodd.com' ? { ...c, author: { ...c.author, name: 'main' } } : c,
  );
  const loading = performance.now();
  for (let i = 0; i < COPIES; i++)
    await loadExport({
      db,
      tenantId,
      commits: history,
      repository: { fullName: `acme/express-${i}`, uuid: `{${randomUUID()}}` },
    });
  process.stdout.write(
    `loaded ${COPIES * history.length} commits in ${((performance.now() - loading) / 1000).toFixed(1)} s (${load()})\n`,
  );
  const cases: [string, string][] = [
    ['ordinary contributor (Jonathan Ong, 84 commits a copy)', 'jonathanrichardong@gmail.com'],
    ['git name `main` (Wes Todd, 50 commits a copy)', 'wes@wesleytodd.com'],
    ['main author (TJ Holowaychuk, 4,071 commits a copy)', 'tj@vision-media.ca'],
  ];
  for (const [label, email] of cases) {
    const start = performance.now();
    const result = await erasePerson(db, tenantId, { email }, 'support:bench', new Date());
    const rows = Object.values(result.rows).reduce((n, r) => n + r, 0);
    process.stdout.write(
      `erasure, ${label}: ${((performance.now() - start) / 1000).toFixed(2)} s, ${rows} rows rewritten (${load()})\n`,
    );
  }
} finally {
  await stack.close();
}
