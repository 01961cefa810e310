/**
 * Production smoke test (`npx tsx scripts/smoke-production.ts`, run by .ci/run after `npm test`): Tally as its
 * image runs it, against a real PostgreSQL with compose's roles, driven by the Bitbucket simulator.
 *
 * 1. The image's file set, made the way docker/Dockerfile makes it (its stages are read from the file): a clean
 *    copy of the repository less .dockerignore, the build stage's commands, `npm ci --omit=dev`, the runtime
 *    stage's COPYs, ENV, USER (an unprivileged user when run as root) and CMD.
 * 2. PostgreSQL: the embedded server of the development tree, its roles and database made by compose's own init
 *    script (docker/postgres-init), so web and worker connect as tally_app and migrate as tally_owner.
 * 3. `npm start -- --role=web` and `--role=worker` in production mode with every required variable, unchanged
 *    production checks (https BASE_URL, no extra Bitbucket hosts): the test plays the network instead.
 *    Tally reaches https://bitbucket.org and https://api.bitbucket.org through an egress proxy (Node's own
 *    NODE_USE_ENV_PROXY + HTTPS_PROXY) that hands those two names to the simulator behind TLS signed by a
 *    throwaway CA (NODE_EXTRA_CA_CERTS); Tally's BASE_URL is an HTTPS front, as a reverse proxy is in production.
 * 4. /healthz answers 200; an install (polled until Tally serves it: first installs may wait on a verification
 *    job), a page with its built UI, the API, a backfill by the worker, a push webhook; a clean SIGTERM exit.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ignore from 'ignore';
import { Agent, setGlobalDispatcher } from 'undici';
import { freePort, startEmbeddedServer } from '../src/db/embedded-postgres';
import { createLogger } from '../src/platform/logger';
import { startSimulator, type ExportCommit, type Simulator } from '../src/simulator/index';

const ROOT = path.resolve(import.meta.dirname, '..');
const BITBUCKET_HOSTS = ['bitbucket.org', 'api.bitbucket.org'];
const WORKSPACE = 'acme';
const REPO = 'widgets';

let passed = 0;

/** What was started, stopped last first: at the end, on failure, and on Ctrl+C. */
const cleanups: (() => Promise<unknown> | void)[] = [];
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void cleanUp().finally(() => process.exit(1)));

function ok(what: string): void {
  passed++;
  process.stdout.write(`  ✔ ${what}\n`);
}

function step(what: string): void {
  process.stdout.write(`smoke: ${what}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// docker/Dockerfile, read as Docker reads it (the instructions this script acts on).

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [from = '', , name = String(stages.length)] = args.split(/\s+/);
      stages.push({ name, from, instructions: [] });
    } else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** A stage's ENV, its base stages' first (only the `K=V` form, which the Dockerfile uses). */
function stageEnv(stages: Stage[], stage: Stage): Record<string, string> {
  const base = stages.find((s) => s.name === stage.from);
  const env = base ? stageEnv(stages, base) : {};
  for (const { op, args } of stage.instructions) {
    if (op !== 'ENV') continue;
    for (const [, key, value] of args.matchAll(/(\w+)=("[^"]*"|\S*)/g))
      env[key!] = value!.replace(/^"|"$/g, '');
  }
  return env;
}

function stageNamed(stages: Stage[], name: string): Stage {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`docker/Dockerfile has no stage ${name}`);
  return stage;
}

/** The build context: the repository's files (tracked and new, not git-ignored) less .dockerignore. */
function copyContext(dest: string): void {
  // Docker's rules, not git's: each pattern is anchored at the context root, matches a path or any folder above
  // it, and the last pattern that matches decides (so `!docs/openapi.json` brings back one file of `docs`).
  const rules = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negated = l.startsWith('!');
      const pattern = negated ? l.slice(1) : l;
      const rooted = pattern.startsWith('/') || pattern.startsWith('**/') ? pattern : `/${pattern}`;
      return { negated, matcher: ignore().add(rooted) };
    });
  const dockerignored = (file: string) =>
    rules.reduce((excluded, rule) => (rule.matcher.ignores(file) ? !rule.negated : excluded), false);
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && existsSync(path.join(ROOT, f)) && !dockerignored(f));
  for (const file of files) cpSync(path.join(ROOT, file), path.join(dest, file));
}

/** A stage's RUN commands in its folder, less the `&&`-joined parts that `skip` names (with why). */
function runStage(stage: Stage, dir: string, env: NodeJS.ProcessEnv, skip: Record<string, string>): void {
  for (const { op, args } of stage.instructions) {
    if (op !== 'RUN') continue;
    const parts = args.split('&&').map((p) => p.trim());
    for (const part of parts.filter((p) => p in skip)) process.stdout.write(`    (${part}: ${skip[part]})\n`);
    const command = parts.filter((p) => !(p in skip)).join(' && ');
    if (!command) continue;
    try {
      execFileSync('bash', ['-c', command], { cwd: dir, env, stdio: 'pipe' });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`${stage.name} stage: RUN ${command} failed:\n${String(stdout)}${String(stderr)}`, {
        cause: error,
      });
    }
    process.stdout.write(`    ${stage.name}: ${command}\n`);
  }
}

/** The runtime stage's COPYs into `app` (WORKDIR /app): `--from=<stage>` from that stage's folder. */
function copyRuntime(stage: Stage, dirs: { context: string; app: string; stage: (name: string) => string }) {
  for (const { op, args } of stage.instructions) {
    if (op !== 'COPY') continue;
    const words = args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    const dest = paths.pop()!;
    for (const source of paths) {
      const src = from
        ? path.join(dirs.stage(from), path.relative('/app', source))
        : path.join(dirs.context, source);
      const target = dest.endsWith('/')
        ? path.join(dirs.app, dest, path.basename(source))
        : path.join(dirs.app, dest);
      mkdirSync(path.dirname(target), { recursive: true });
      // A stage's folder serves this one COPY: moved, not copied (node_modules is large; the result is the same).
      if (from) renameSync(src, target);
      else cpSync(src, target, { recursive: true, verbatimSymlinks: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The network Tally sees: TLS with a throwaway CA, an HTTPS front for Tally, an egress proxy to "Bitbucket".

function makeCertificates(dir: string): { ca: string; key: string; cert: string } {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const openssl = (args: string) => execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'pipe' });
  const names = ['localhost', ...BITBUCKET_HOSTS].map((n) => `DNS:${n}`).join(',');
  writeFileSync(f('ext.cnf'), `subjectAltName=${names},IP:127.0.0.1\n`);
  openssl('req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=tally-smoke-ca -keyout ca.key -out ca.pem');
  openssl('req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout tls.key -out tls.csr');
  openssl(
    'x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf -out tls.pem',
  );
  return { ca: f('ca.pem'), key: f('tls.key'), cert: f('tls.pem') };
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** Forwards every request to an HTTP server on 127.0.0.1, as a TLS-terminating proxy does. */
function forwardTo(port: () => number): http.RequestListener {
  return (req, res) => {
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: port(),
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          'x-forwarded-proto': 'https',
          'x-forwarded-for': req.socket.remoteAddress,
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  };
}

// ---------------------------------------------------------------------------------------------------------
// Processes.

interface Proc {
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

function startTally(role: string, app: string, env: NodeJS.ProcessEnv, cmd: string[], user?: number): Proc {
  const log = path.join(app, '..', `${role}.log`);
  const out = createWriteStream(log);
  const [command, ...args] = cmd;
  const child = spawn(command!, [...args, '--', `--role=${role}`], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that cleaning up reaches npm's child (Tally) too.
    detached: true,
    ...(user === undefined ? {} : { uid: user, gid: user }),
  });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, log, exited };
}

/** A Tally process ended while it was awaited: waiting longer cannot help. */
class ProcessExited extends Error {}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof ProcessExited) throw error;
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function exportHistory(count: number): {
  commits: ExportCommit[];
  refs: { branches: Record<string, string> };
} {
  const commits: ExportCommit[] = [];
  for (let i = 0; i < count; i++) {
    const hash = createHash('sha1').update(`smoke-${i}`).digest('hex');
    commits.push({
      hash,
      parents: i === 0 ? [] : [commits[i - 1]!.hash],
      author: { name: 'Ada Lovelace', email: 'ada@example.com' },
      date: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
      message: `change ${i}`,
      files: [{ path: `src/file${i}.ts`, added: 10 + i, removed: i }],
    });
  }
  return { commits, refs: { branches: { main: commits.at(-1)!.hash } } };
}

// ---------------------------------------------------------------------------------------------------------
// The steps.

/** The runtime stage's file set under `work/app`, made as docker/Dockerfile's stages make it. */
function buildFileSet(stages: Stage[], work: string): string {
  const dir = (name: string) => path.join(work, name);
  const env = { ...process.env, ...stageEnv(stages, stageNamed(stages, 'base')) };
  copyContext(dir('context'));
  cpSync(dir('context'), dir('build'), { recursive: true });
  // The build stage's `npm ci` is the development tree's node_modules (run `npm ci` first), linked.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir('build'), 'node_modules'));
  runStage(stageNamed(stages, 'build'), dir('build'), env, {
    'npm ci': 'the installed node_modules, linked',
  });
  rmSync(path.join(dir('build'), 'node_modules'));
  mkdirSync(dir('deps'));
  for (const f of ['package.json', 'package-lock.json'])
    cpSync(path.join(dir('context'), f), path.join(dir('deps'), f));
  runStage(stageNamed(stages, 'deps'), dir('deps'), env, {
    'npm cache clean --force': "would empty this machine's npm cache; changes no file of the image",
  });
  copyRuntime(stages.at(-1)!, { context: dir('context'), app: dir('app'), stage: dir });
  for (const devOnly of ['src/simulator', 'src/web', 'node_modules/vite', 'node_modules/eslint'])
    if (existsSync(path.join(dir('app'), devOnly))) throw new Error(`the runtime file set holds ${devOnly}`);
  return dir('app');
}

/** PostgreSQL with the roles and database that compose's init script makes; Tally's two connection URLs. */
async function startDatabase(work: string): Promise<{ ownerUrl: string; appUrl: string }> {
  const pg = await startEmbeddedServer(path.join(work, 'pg'), createLogger('warn'));
  cleanups.push(() => pg.stop());
  const owner = randomBytes(24).toString('hex');
  const app = randomBytes(24).toString('hex');
  const initDir = path.join(ROOT, 'docker', 'postgres-init');
  for (const script of readdirSync(initDir).sort()) {
    execFileSync('bash', [path.join(initDir, script)], {
      env: {
        PATH: process.env.PATH,
        PGHOST: '127.0.0.1',
        PGPORT: String(pg.port),
        PGPASSWORD: pg.credentials.adminPassword,
        POSTGRES_USER: 'postgres',
        TALLY_OWNER_PASSWORD: owner,
        TALLY_APP_PASSWORD: app,
      },
      stdio: 'pipe',
    });
  }
  const facts = execFileSync(
    'psql',
    [
      '-At',
      '-c',
      `select rolname || ' super=' || rolsuper || ' bypassrls=' || rolbypassrls || ' createrole=' || rolcreaterole
         from pg_roles where rolname in ('tally_owner', 'tally_app') union all
       select 'tally owned by ' || pg_get_userbyid(datdba) from pg_database where datname = 'tally' order by 1`,
      pg.superuserUrl('tally'),
    ],
    { encoding: 'utf8' },
  ).trim();
  const expected = [
    'tally owned by tally_owner',
    'tally_app super=false bypassrls=false createrole=false',
    'tally_owner super=false bypassrls=false createrole=false',
  ].join('\n');
  if (facts !== expected) throw new Error(`unexpected roles:\n${facts}`);
  const url = (role: string, password: string) => `postgres://${role}:${password}@127.0.0.1:${pg.port}/tally`;
  return { ownerUrl: url('tally_owner', owner), appUrl: url('tally_app', app) };
}

interface Network {
  sim: Simulator;
  /** Tally's public URL: the HTTPS front. */
  baseUrl: string;
  /** Where the front forwards to: Tally's web role listens here. */
  tallyPort: number;
  proxyUrl: string;
  caFile: string;
  /** CONNECT targets the egress proxy turned away (anything but Bitbucket's two hosts). */
  refused: Set<string>;
}

/** The simulator behind https://bitbucket.org and https://api.bitbucket.org, as Tally's egress proxy shows it. */
async function startNetwork(work: string): Promise<Network> {
  const tls = makeCertificates(path.join(work, 'tls'));
  // The driver (the simulator's lifecycle calls and webhooks, the checks below) trusts the throwaway CA.
  setGlobalDispatcher(new Agent({ connect: { ca: readFileSync(tls.ca) } }));
  const sim = await startSimulator({
    rateLimitPerHour: Infinity,
    publicUrls: { web: 'https://bitbucket.org', api: 'https://api.bitbucket.org' },
  });
  cleanups.push(() => sim.close());
  const serverOptions = { key: readFileSync(tls.key), cert: readFileSync(tls.cert) };
  const portOf = (url: string) => Number(new URL(url).port);
  const bitbucket = https.createServer(serverOptions, (req, res) =>
    forwardTo(() => portOf(req.headers.host === 'api.bitbucket.org' ? sim.apiUrl : sim.webUrl))(req, res),
  );
  const refused = new Set<string>();
  const proxy = http.createServer((_req, res) => res.writeHead(403).end());
  proxy.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const [host = '', port] = (req.url ?? '').split(':');
    if (!BITBUCKET_HOSTS.includes(host) || port !== '443') {
      refused.add(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    bitbucket.emit('connection', socket);
  });
  const tallyPort = await freePort();
  const front = https.createServer(
    serverOptions,
    forwardTo(() => tallyPort),
  );
  for (const server of [proxy, front]) {
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
  }
  return {
    sim,
    baseUrl: `https://localhost:${await listen(front)}`,
    tallyPort,
    proxyUrl: `http://127.0.0.1:${await listen(proxy)}`,
    caFile: tls.ca,
    refused,
  };
}

/** Drives an install, a page, the API, a backfill and a webhook through the simulator. */
async function drive(net: Network): Promise<void> {
  const { sim, baseUrl } = net;
  sim.addWorkspace({ slug: WORKSPACE, name: 'Acme' });
  const history = exportHistory(5);
  sim.addRepository(WORKSPACE, {
    slug: REPO,
    history: { ...history, refs: { ...history.refs, mainbranch: 'main' } },
  });
  const installed = await sim.install(WORKSPACE, `${baseUrl}/atlassian-connect.json`);
  if (installed.status < 200 || installed.status >= 300)
    throw new Error(`install answered ${installed.status}`);
  // A first install may wait for a verification job before Tally serves it: polled.
  const page = await waitFor('the workspace page (installation in service)', 120_000, async () => {
    const res = await fetch(sim.signedModuleUrl(WORKSPACE, 'tally-workspace'));
    if (res.status !== 200) return undefined;
    return { html: await res.text(), csp: res.headers.get('content-security-policy') ?? '' };
  });
  ok(`install from https://bitbucket.org accepted (HTTP ${installed.status}) and in service`);
  const token = /name="tally-token" content="([^"]+)"/.exec(page.html)?.[1];
  const script = /<script type="module" src="(\/assets\/[^"]+\.js)"/.exec(page.html)?.[1];
  if (!token || !script) throw new Error('the page has no session token or no built UI script');
  if (!/frame-ancestors 'self' https:\/\/bitbucket\.org(;|$)/.test(page.csp))
    throw new Error(`unexpected frame-ancestors: ${page.csp}`);
  const asset = await fetch(`${baseUrl}${script}`);
  if (asset.status !== 200) throw new Error(`${script} answered ${asset.status}`);
  ok(`page rendered with a session token; built UI ${script} served; frame-ancestors Bitbucket only`);

  const commitsKnown = async () => {
    const res = await fetch(`${baseUrl}/api/v1/repositories`, { headers: { authorization: `JWT ${token}` } });
    if (res.status !== 200) throw new Error(`/api/v1/repositories answered ${res.status}`);
    const body = (await res.json()) as { repositories: { full_name: string; commits_known: number }[] };
    return body.repositories.find((r) => r.full_name === `${WORKSPACE}/${REPO}`)?.commits_known ?? 0;
  };
  await waitFor('backfill of 5 commits', 180_000, async () =>
    (await commitsKnown()) === 5 ? true : undefined,
  );
  ok('the worker backfilled 5 commits from https://api.bitbucket.org; the API shows them');

  const push = await sim.push(WORKSPACE, REPO, {
    branch: 'main',
    commits: [
      {
        author: { name: 'Ada Lovelace', email: 'ada@example.com' },
        message: 'smoke push',
        files: [{ path: 'README.md', added: 1, removed: 0 }],
      },
    ],
  });
  const status = push.delivery?.status ?? 0;
  if (status < 200 || status >= 300) throw new Error(`repo:push webhook answered ${status}`);
  await waitFor('the pushed commit', 120_000, async () => ((await commitsKnown()) === 6 ? true : undefined));
  ok(`repo:push webhook accepted (HTTP ${status}) and its commit synced`);
}

async function main(): Promise<void> {
  for (const tool of ['psql', 'openssl', 'git'])
    if (spawnStatus('bash', ['-c', `command -v ${tool}`]) !== 0) throw new Error(`${tool} is not on PATH`);
  const stages = parseDockerfile(readFileSync(path.join(ROOT, 'docker', 'Dockerfile'), 'utf8'));
  const runtime = stages.at(-1)!;
  const image = stages[0]!.from;
  const nodeMajor = /^node:(\d+)/.exec(image)?.[1];
  const onPath = execFileSync('node', ['--version'], { encoding: 'utf8' }).trim();
  if (!nodeMajor || !onPath.startsWith(`v${nodeMajor}.`))
    throw new Error(`the image runs ${image} but node on PATH is ${onPath}: put Node ${nodeMajor} first`);
  const cmd = JSON.parse(runtime.instructions.findLast((i) => i.op === 'CMD')!.args) as string[];

  const work = mkdtempSync(path.join(os.tmpdir(), 'tally-smoke-'));
  chmodSync(work, 0o755);
  cleanups.push(() => {
    if (process.env.SMOKE_KEEP !== '1') rmSync(work, { recursive: true, force: true });
  });
  const processes: Proc[] = [];
  cleanups.push(() => {
    for (const p of processes) {
      try {
        process.kill(-p.child.pid!, 'SIGKILL');
      } catch {
        // the group has ended already
      }
    }
  });
  try {
    step(`the image's file set (docker/Dockerfile, ${image}; node ${onPath}) in ${work}`);
    const app = buildFileSet(stages, work);
    ok('file set made: build stage, npm ci --omit=dev, runtime COPYs (no simulator, no dev dependencies)');
    // USER node: as root here, Tally runs as `nobody` over files it cannot write, like the image's root-owned ones.
    const user =
      process.getuid?.() === 0
        ? Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }))
        : undefined;
    const home = path.join(work, 'home');
    mkdirSync(home);
    if (user !== undefined) chownSync(home, user, user);

    step('PostgreSQL with the roles of docker/postgres-init');
    const db = await startDatabase(work);
    ok(
      'tally_owner owns database tally; tally_owner and tally_app: no superuser, no BYPASSRLS, no CREATEROLE',
    );

    step('network: an HTTPS front for Tally; an egress proxy that shows the simulator as Bitbucket');
    const net = await startNetwork(work);

    step(`${cmd.join(' ')} -- --role=web, then --role=worker (NODE_ENV=production)`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      ...stageEnv(stages, runtime),
      // compose's environment (docker-compose.yml, x-tally-environment)
      NODE_ENV: 'production',
      PORT: String(net.tallyPort),
      BASE_URL: net.baseUrl,
      DATABASE_URL: db.appUrl,
      TALLY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'info',
      SENTRY_DSN: '',
      DD_TRACE_ENABLED: 'false',
      DD_AGENT_HOST: '',
      // the network: Node's own proxy support and trust store, outside Tally's configuration
      NODE_USE_ENV_PROXY: '1',
      HTTPS_PROXY: net.proxyUrl,
      NO_PROXY: 'localhost,127.0.0.1',
      NODE_EXTRA_CA_CERTS: net.caFile,
    };
    // As in compose: only the web role holds the owner's URL, and migrates before it listens.
    const web = startTally('web', app, { ...env, DATABASE_ADMIN_URL: db.ownerUrl }, cmd, user);
    processes.push(web);
    await waitFor('web /healthz 200', 180_000, async () => {
      if (web.child.exitCode !== null) throw new ProcessExited(`web exited ${web.child.exitCode}`);
      return (await fetch(`http://127.0.0.1:${net.tallyPort}/healthz`)).status === 200 ? true : undefined;
    });
    ok('web role: migrated as tally_owner, serves as tally_app, /healthz 200');
    const worker = startTally('worker', app, env, cmd, user);
    processes.push(worker);
    await waitFor('worker started', 120_000, async () => {
      if (worker.child.exitCode !== null) throw new ProcessExited(`worker exited ${worker.child.exitCode}`);
      return readFileSync(worker.log, 'utf8').includes('"msg":"worker started"') ? true : undefined;
    });
    ok('worker role started');

    step('install, page, API, backfill, webhook');
    await drive(net);

    step('SIGTERM to npm, as the container runtime sends it');
    for (const p of [worker, web]) {
      p.child.kill('SIGTERM');
      const code = await Promise.race([
        p.exited,
        new Promise((resolve) => setTimeout(resolve, 30_000, 'none')),
      ]);
      if (code !== 0)
        throw new Error(`${path.basename(p.log, '.log')} did not exit cleanly: exit code ${String(code)}`);
    }
    ok('worker and web exit 0');
    if (net.refused.size)
      process.stdout.write(`  (egress refused, not Bitbucket: ${[...net.refused].join(', ')})\n`);
  } catch (error) {
    for (const p of processes)
      process.stdout.write(
        `--- ${p.log} (last lines)\n${readFileSync(p.log, 'utf8').split('\n').slice(-40).join('\n')}\n`,
      );
    throw error;
  } finally {
    await cleanUp();
  }
}

function spawnStatus(command: string, args: string[]): number {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return 0;
  } catch {
    return 1;
  }
}

const timer = setTimeout(() => {
  process.stderr.write('smoke: gave up after 20 minutes\n');
  void cleanUp().finally(() => process.exit(1));
}, 20 * 60_000);
main().then(
  () => {
    clearTimeout(timer);
    process.stdout.write(`smoke: ${passed} passed, 0 failed\n`);
    process.exit(0);
  },
  (error: unknown) => {
    clearTimeout(timer);
    process.stderr.write(`smoke: ${error instanceof Error ? error.message : String(error)}\n`);
    process.stdout.write(`smoke: ${passed} passed, 1 failed\n`);
    process.exit(1);
  },
);
