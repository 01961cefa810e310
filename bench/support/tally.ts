import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseConfig } from '../../src/config/config';
import { APP_ROLE, freePort, OWNER_ROLE, startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { migrate } from '../../src/db/migrate';
import { createRuntime, type Runtime } from '../../src/main/bootstrap';
import { createWebApp, listenWeb } from '../../src/main/web';
import { createLogger } from '../../src/platform/logger';

/** One embedded PostgreSQL (durable settings, as in production) with a migrated template database. */
export interface BenchPostgres {
  /** A fresh database cloned from the template: superuser (fixtures, analyze) and application-role URLs. */
  createDatabase(): Promise<{ adminUrl: string; appUrl: string }>;
  stop(): Promise<void>;
}

const withDb = (url: string, name: string) => url.replace(/\/[^/]+$/, `/${name}`);

export async function startPostgres(): Promise<BenchPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-bench-'));
  chmodSync(dir, 0o755);
  const db = await startEmbeddedPostgres(dir, createLogger('warn'), { database: 'tally_template' });
  await migrate(db.adminUrl, APP_ROLE);
  // Migrated as the owner role (like compose's); the superuser creates databases and writes fixtures.
  const admin = new pg.Client({ connectionString: withDb(db.superuserUrl, 'postgres') });
  await admin.connect();
  await admin.query(
    `select pg_terminate_backend(pid) from pg_stat_activity where datname = 'tally_template'`,
  );
  return {
    async createDatabase() {
      const name = `b_${randomBytes(4).toString('hex')}`;
      await admin.query(`create database "${name}" template tally_template owner ${OWNER_ROLE}`);
      return { adminUrl: withDb(db.superuserUrl, name), appUrl: withDb(db.appUrl, name) };
    },
    async stop() {
      await admin.end();
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BenchTally {
  url: string;
  runtime: Runtime;
  encryptionKey: string;
  close(): Promise<void>;
}

/** Tally's web role in this process (it receives the simulator's install), on the given database. */
export async function startTallyWeb(appUrl: string, env: Record<string, string> = {}): Promise<BenchTally> {
  const port = await freePort();
  const encryptionKey = randomBytes(32).toString('hex');
  const parsed = parseConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: appUrl,
    TALLY_ENCRYPTION_KEY: encryptionKey,
    BITBUCKET_ALLOWED_HOSTS: '127.0.0.1',
    INSTALL_RATE_LIMIT: '100000',
    LOG_LEVEL: 'silent',
    ...env,
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  const config = parsed.config;
  const runtime = createRuntime({
    config,
    logger: createLogger('silent'),
    appUrl,
    keys: config.encryptionKeys!,
  });
  const server = await listenWeb(await createWebApp(runtime), port, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    runtime,
    encryptionKey,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await runtime.stop();
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Peak resident set size so far (VmHWM), in MB. */
  peakRssMb(): number;
  /** SIGTERM lets the running step finish; SIGKILL does not. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A role started with `src/main/server.ts --role=…`, its environment on top of the given one. */
function spawnRole(role: 'web' | 'worker', nodeArgs: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main/server.ts', `--role=${role}`], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env },
  });
}

/** Peak memory and a stop that waits for the exit, for a spawned role. */
function watched(child: ChildProcess): WorkerProcess {
  let peak = 0;
  const peakRssMb = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb / 1024);
    } catch {
      // The process has exited: the last reading stands.
    }
    return peak;
  };
  return {
    child,
    peakRssMb,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise((resolve) => {
        peakRssMb();
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** `npm start -- --role=worker` as its own process; resolves once it reports "worker started". */
export async function startWorkerProcess(
  appUrl: string,
  encryptionKey: string,
  env: Record<string, string> = {},
): Promise<WorkerProcess> {
  // BENCH_WORKER_NODE_ARGS adds node flags to the worker, e.g. `--cpu-prof --cpu-prof-dir=prof` to profile it.
  const extra = process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawnRole('worker', extra, {
    DATABASE_URL: appUrl,
    TALLY_ENCRYPTION_KEY: encryptionKey,
    LOG_LEVEL: 'info',
    ...env,
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('"msg":"worker started"')) resolve();
    });
  });
  // BENCH_WORKER_LOG keeps the worker's log lines in a file (they are dropped otherwise).
  if (process.env.BENCH_WORKER_LOG) child.stdout!.pipe(createWriteStream(process.env.BENCH_WORKER_LOG));
  else child.stdout!.resume();
  return watched(child);
}

/**
 * `npm start -- --role=web` as its own process on a free loopback port (so its memory is its own, apart from the
 * load generator's), logs silenced as in the intake benchmark; resolves once /healthz answers.
 */
export async function startWebProcess(
  appUrl: string,
  encryptionKey: string,
  env: Record<string, string> = {},
): Promise<WorkerProcess & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnRole('web', [], {
    PORT: String(port),
    BASE_URL: url,
    DATABASE_URL: appUrl,
    TALLY_ENCRYPTION_KEY: encryptionKey,
    BITBUCKET_ALLOWED_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...env,
  });
  child.stdout!.resume();
  const healthy = async () => {
    if (child.exitCode !== null) throw new Error(`web role exited with ${child.exitCode}`);
    return fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
  };
  if (!(await until(healthy, 60_000))) throw new Error('web role did not answer /healthz');
  return { ...watched(child), url };
}

/** CPU seconds (user + system) used so far by the given processes, from /proc (gone ones count 0). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks / 100;
}

/** The server processes of the embedded PostgreSQL (postmaster and backends). */
export function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The machine the figures were measured on. */
export function machine(): string {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  return [
    `nproc ${os.availableParallelism()}`,
    `CPU ${cpu}`,
    `RAM ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `node ${process.version}`,
  ].join(', ');
}

export async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return true;
}
