/**
 * `npm run bench`: runs every `bench/*.bench.ts` in turn, each in its own process (so one benchmark's memory and
 * timers never skew the next). A new bench file is picked up without touching this runner. Each file runs its
 * own main and prints `figure: value (target …)` lines. `npm run bench -- backfill` runs only files whose name
 * contains "backfill".
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

if (files.length === 0) {
  process.stderr.write(`No bench/*.bench.ts file matches ${filters.join(', ') || '(any)'}\n`);
  process.exit(1);
}

let failed = 0;
for (const file of files) {
  process.stdout.write(`\n== ${file}\n`);
  const code: number = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, file)], { stdio: 'inherit' });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  if (code !== 0) {
    failed++;
    process.stdout.write(`== ${file} failed (exit ${code})\n`);
  }
}
process.exit(failed > 0 ? 1 : 0);
