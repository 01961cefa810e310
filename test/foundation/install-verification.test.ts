import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as atlassianJwt from 'atlassian-jwt';
import pg from 'pg';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import { startAfterInstall, VERIFY_INSTALLATION_TASK } from '../../src/ingest/install-verification';
import { repairJobChains, runRetentionPurge } from '../../src/ingest/maintenance';
import { BACKFILL_TASKS } from '../../src/ingest/scheduler';
import type { JobDeps } from '../../src/ingest/tasks';
import { jobDeps } from '../../src/main/worker';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { startIngestWorker, waitFor } from '../ingest/backfill-harness';
import { startTestApp, type TestApp } from '../support/app';
import {
  confirmAsBitbucket,
  installPayload,
  lifecycleJwt,
  newWorkspace,
  pageUrl,
  postJson,
  verifyWithBitbucket,
  type Workspace,
} from '../support/bitbucket';
import { deliver, pushData } from '../support/webhooks';

const HOUR = 3_600_000;

/** A small history: 5 commits on main. */
function smallHistory() {
  const commits = Array.from({ length: 5 }, (_v, i) => ({
    hash: (i + 1).toString(16).padStart(40, 'a'),
    parents: i === 0 ? [] : [i.toString(16).padStart(40, 'a')],
    author: { name: 'Ada', email: 'ada@example.com' },
    date: new Date(Date.UTC(2025, 0, 1 + i)).toISOString(),
    message: `commit ${i}\n`,
    files: [{ path: 'a.txt', added: 1, removed: 0 }],
  }));
  return { commits, refs: { branches: { main: commits.at(-1)!.hash }, mainbranch: 'main' } };
}

describe('install verification: no tenant without Bitbucket’s word', () => {
  let sim: Simulator;
  let app: TestApp;
  let admin: pg.Client;
  let deps: JobDeps;
  let offset = 0;
  const clock = () => new Date(Date.now() + offset);

  before(async () => {
    sim = await startSimulator({ rateLimitPerHour: Infinity });
    sim.addWorkspace({ slug: 'acme', name: 'Acme' });
    sim.addRepository('acme', { slug: 'small', history: smallHistory() });
    app = await startTestApp({ now: clock });
    admin = new pg.Client({ connectionString: app.database.adminUrl });
    await admin.connect();
    deps = jobDeps(app.runtime);
  });
  after(async () => {
    await admin.end();
    await app.close();
    await sim.close();
  });

  /** An install the simulator never made: made-up clientKey and secret, the simulator's hosts. */
  const forgedInstall = (ws: Workspace, headers: Record<string, string> = {}) =>
    postJson(`${app.url}/installed`, installPayload(ws, sim.webUrl, sim.apiUrl), headers);
  const registry = async (clientKey: string) =>
    (await admin.query('select * from tenants where client_key = $1', [clientKey])).rows[0];
  const jobsOf = async (tenantId: string) =>
    (
      await admin.query(
        `select t.identifier as task_identifier, j.key, j.attempts, j.max_attempts
           from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
          where j.payload->>'tenantId' = $1 order by t.identifier`,
        [tenantId],
      )
    ).rows;
  const apiRequests = (clientKey: string) => sim.requestLog.filter((r) => r.clientKey === clientKey);

  it('a forged first install stays pending: no page, API or webhook, only its verification job', async () => {
    const ws = newWorkspace();
    assert.equal((await forgedInstall(ws)).status, 204);
    const row = await registry(ws.clientKey);
    assert.equal(row.state, 'pending');
    assert.ok(
      row.delete_after.getTime() - row.installed_at.getTime() === HOUR,
      'due for deletion in an hour',
    );
    // The verification job was enqueued with the install, before the 204.
    assert.deepEqual(
      (await jobsOf(row.id)).map((j) => [j.task_identifier, j.key, j.max_attempts]),
      [[VERIFY_INSTALLATION_TASK, `verify:${row.id}`, 8]],
    );

    const page = await fetch(pageUrl(app.url, '/pages/configure', ws));
    assert.equal(page.status, 401);
    const session = createSessionToken({
      appKey: 'tally',
      clientKey: ws.clientKey,
      secret: ws.sharedSecret,
      page: 'configure',
      scope: scopeForPage('configure', {}),
    });
    for (const path of ['/api/v1/me', '/api/v1/repositories', '/api/v1/settings']) {
      const res = await fetch(`${app.url}${path}`, { headers: { authorization: `JWT ${session}` } });
      assert.equal(res.status, 401, path);
    }
    const hook = await deliver(
      app.url,
      ws,
      '/webhooks/repo-push',
      'repo:push',
      pushData('{00000000-0000-4000-8000-000000000001}', `${ws.slug}/web`, 'main', 'b'.repeat(40), null),
    );
    assert.equal(hook.status, 401);
    assert.equal((await admin.query('select count(*)::int as n from webhook_deliveries')).rows[0].n, 0);

    // Its verification costs one request, which the simulator refuses: no such installation.
    const logged = sim.requestLog.length;
    await assert.rejects(verifyWithBitbucket(app.runtime, row.id), /401/);
    assert.deepEqual(
      sim.requestLog.slice(logged).map((r) => [decodeURIComponent(r.path), r.query, r.status]),
      [[`/2.0/repositories/${ws.uuid}`, 'pagelen=1', 401]],
    );
    assert.equal((await registry(ws.clientKey)).state, 'pending');
    assert.deepEqual(
      (await jobsOf(row.id)).map((j) => j.task_identifier),
      [VERIFY_INSTALLATION_TASK],
      'no backfill',
    );

    // A "reinstall" signed with the forged secret proves nothing: still pending. Its uninstall changes nothing.
    const signed = await forgedInstall(ws, {
      authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/installed')}`,
    });
    assert.equal(signed.status, 204);
    assert.equal((await registry(ws.clientKey)).state, 'pending');
    const gone = await postJson(
      `${app.url}/uninstalled`,
      { ...installPayload(ws, sim.webUrl, sim.apiUrl), eventType: 'uninstalled' },
      { authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/uninstalled')}` },
    );
    assert.equal(gone.status, 204);
    assert.equal((await registry(ws.clientKey)).state, 'pending');

    // An hour later the purge deletes it, with its jobs.
    offset = HOUR - 60_000;
    assert.deepEqual(await runRetentionPurge(deps), [], 'not yet');
    offset = HOUR + 60_000;
    const purged = await runRetentionPurge(deps);
    assert.deepEqual(
      purged.map((p) => p.clientKey),
      [ws.clientKey],
    );
    assert.equal(await registry(ws.clientKey), undefined);
    assert.deepEqual(await jobsOf(row.id), []);
    offset = 0;
  });

  it('a forged install naming a real workspace is refused by Bitbucket too', async () => {
    const acme = sim.workspace('acme');
    const ws = { ...newWorkspace('acme'), uuid: acme.uuid };
    assert.equal((await forgedInstall(ws)).status, 204);
    const row = await registry(ws.clientKey);
    await assert.rejects(verifyWithBitbucket(app.runtime, row.id), /401/);
    assert.equal((await registry(ws.clientKey)).state, 'pending');
  });

  it('a genuine install is verified by the worker, becomes installed, and its backfill runs', async () => {
    const installed = await sim.install('acme', `${app.url}/atlassian-connect.json`);
    assert.equal(installed.status, 204);
    const tenant = (await app.runtime.tenants.findByClientKey(installed.clientKey))!;
    assert.equal(tenant.state, 'pending');
    const token = createSessionToken({
      appKey: 'tally',
      clientKey: installed.clientKey,
      secret: installed.sharedSecret,
      scope: scopeForPage('workspace', {}),
    });
    const repositories = () =>
      fetch(`${app.url}/api/v1/repositories`, { headers: { authorization: `JWT ${token}` } });
    assert.equal((await repositories()).status, 401, 'not before Bitbucket confirmed it');

    // Only this tenant's work: the forged installs' verification jobs stay out of the worker's way.
    await admin.query(`delete from graphile_worker._private_jobs where payload->>'tenantId' <> $1`, [
      tenant.id,
    ]);
    const worker = await startIngestWorker(app);
    try {
      await waitFor(
        async () => (await registry(installed.clientKey)).state === 'installed',
        'the verification job',
        60_000,
      );
      await waitFor(
        async () => {
          const res = await repositories();
          if (res.status !== 200) return false;
          const body = (await res.json()) as { repositories: { full_name: string; state: string }[] };
          return body.repositories.some((r) => r.full_name === 'acme/small' && r.state === 'ready');
        },
        'the backfill',
        120_000,
      );
      // Stop only once idle (the next relisting waits hours): nothing is cut short by the stop.
      await waitFor(
        async () =>
          (
            await admin.query(
              `select count(*)::int as n from graphile_worker._private_jobs
                where locked_at is not null or (run_at <= now() and attempts < max_attempts)`,
            )
          ).rows[0].n === 0,
        'the queue to go idle',
        120_000,
      );
    } finally {
      await worker.stop();
    }
    const verifications = apiRequests(installed.clientKey).filter((r) => r.query === 'pagelen=1');
    assert.ok(verifications.length >= 1 && verifications.at(-1)!.status === 200);
    const audit = await admin.query(
      `select action from system_audit_log where subject_tenant_id = $1 order by id`,
      [tenant.id],
    );
    assert.deepEqual(
      audit.rows.map((r) => r.action),
      ['tenant.install_pending', 'tenant.verified'],
    );
  });

  it('a clientKey squatted by a forged install does not block the real first install', async () => {
    sim.addWorkspace({ slug: 'squat', name: 'Squat' });
    const target = sim.workspace('squat');
    const clientKey = `ari:cloud:bitbucket::app/${target.uuid}/tally`;
    const squatter = { ...newWorkspace('squat'), uuid: target.uuid, clientKey };
    assert.equal((await forgedInstall(squatter)).status, 204);
    const installed = await sim.install('squat', `${app.url}/atlassian-connect.json`);
    assert.equal(installed.status, 204, 'unsigned, over the pending row');
    assert.equal(installed.clientKey, clientKey);
    const row = await registry(clientKey);
    assert.equal(await verifyWithBitbucket(app.runtime, row.id), 'confirmed');
    assert.equal((await registry(clientKey)).state, 'installed');
    // From now on only Bitbucket's signature counts.
    assert.equal((await forgedInstall(squatter)).status, 401);
  });

  it('the first job is enqueued in the install transaction: a failure after the insert leaves neither', async () => {
    const ws = newWorkspace();
    await assert.rejects(
      app.runtime.tenants.saveInstallation(installPayload(ws), {
        trusted: false,
        afterSave: async (trx, tenant) => {
          await startAfterInstall(trx, tenant);
          throw new Error('fails after the insert and the enqueue');
        },
      }),
      /fails after/,
    );
    assert.equal(await registry(ws.clientKey), undefined);
    const jobs = await admin.query(
      `select count(*)::int as n from graphile_worker._private_jobs
        where payload->>'tenantId' not in (select id::text from tenants)`,
    );
    assert.equal(jobs.rows[0].n, 0);
  });

  it('maintenance re-creates a dead relisting chain and a repository step that was never enqueued', async () => {
    const ws = newWorkspace();
    await postJson(`${app.url}/installed`, installPayload(ws));
    const pendingId = (await registry(ws.clientKey)).id as string;
    await repairJobChains(deps);
    assert.deepEqual(
      (await jobsOf(pendingId)).map((j) => j.task_identifier),
      [VERIFY_INSTALLATION_TASK],
      'a pending tenant gets no backfill from the repair',
    );
    await confirmAsBitbucket(app.runtime.tenants, ws.clientKey);
    const tenantId = pendingId;
    // The confirmation enqueued the relisting in its transaction: nothing to repair.
    assert.deepEqual(
      (await jobsOf(tenantId)).map((j) => j.task_identifier),
      [BACKFILL_TASKS.tenant, VERIFY_INSTALLATION_TASK],
    );
    assert.deepEqual(await repairJobChains(deps), { tenants: 0, repositories: 0 });

    // The relisting used up its attempts, and a repository in diffstats lost its next step.
    await admin.query(
      `update graphile_worker._private_jobs set attempts = max_attempts, last_error = 'gave up' where key = $1`,
      [`backfill:${tenantId}`],
    );
    const { rows } = await admin.query(
      `insert into repositories (tenant_id, uuid, full_name, slug, name, sync_state)
       values ($1, '{repo-1}', $2, 'web', 'web', 'diffstats') returning id`,
      [tenantId, `${ws.slug}/web`],
    );
    const repositoryId = rows[0].id as number;

    const repaired = await repairJobChains(deps);
    assert.deepEqual(repaired, { tenants: 1, repositories: 1 });
    const jobs = await jobsOf(tenantId);
    const live = (key: string) => jobs.find((j) => j.key === key && j.attempts < j.max_attempts);
    assert.ok(live(`backfill:${tenantId}`), 'the relisting runs again');
    assert.equal(
      live(`backfill:${tenantId}:${repositoryId}`)?.task_identifier,
      BACKFILL_TASKS.diffstats,
      'the repository continues where it was',
    );
    assert.deepEqual(await repairJobChains(deps), { tenants: 0, repositories: 0 }, 'idempotent');
  });
});

describe('lifecycle payloads with control characters, and the install rate limit', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { INSTALL_RATE_LIMIT: '40' } });
  });
  after(() => app.close());

  it('answers a control character anywhere in a lifecycle payload with 400, never a 500', async () => {
    const ws = newWorkspace();
    const good = installPayload(ws);
    const bodies = [
      { ...good, clientKey: `${ws.clientKey}\u0000` },
      { ...good, clientKey: `ari:cloud:bitbucket::app/\u0001/tally` },
      { ...good, sharedSecret: `${ws.sharedSecret}\u0000` },
      { ...good, baseUrl: 'https://bitbucket.org/\u0000' },
      { ...good, principal: { ...good.principal, display_name: 'Acme\u0007' } },
      { ...good, actor: { ...good.actor, account_id: 'x\u0085' } },
      { ...good, extra: { 'key\u0000': 1 } },
      { ...good, list: ['a', 'b\u001b'] },
    ];
    for (const body of bodies) {
      for (const path of ['/installed', '/uninstalled']) {
        const res = await postJson(`${app.url}${path}`, {
          ...body,
          eventType: path.slice(1),
        });
        assert.equal(res.status, 400, `${path} ${JSON.stringify(body).slice(0, 80)}`);
      }
    }
    // NUL inside a JWT's claims names no client: 401.
    const nul = { ...ws, clientKey: `${ws.clientKey}\u0000` };
    assert.equal((await fetch(pageUrl(app.url, '/pages/configure', nul))).status, 401);
    const now = Math.floor(Date.now() / 1000);
    const qsh = atlassianJwt.createQueryStringHash(atlassianJwt.fromMethodAndUrl('POST', '/uninstalled'));
    const token = atlassianJwt.encodeSymmetric({ iss: nul.clientKey, iat: now, exp: now + 60, qsh }, 'x');
    const res = await postJson(
      `${app.url}/uninstalled`,
      { ...good, eventType: 'uninstalled' },
      { authorization: `JWT ${token}` },
    );
    assert.equal(res.status, 401);
  });

  it('limits POST /installed per source address: 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 45 && !limited; i++) {
      const res = await fetch(`${app.url}/installed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(installPayload(newWorkspace())),
      });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    assert.ok(limited, 'limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.match(await limited.text(), /too many installs/);
    assert.ok(statuses.slice(0, -1).every((s) => s === 204));
  });
});
