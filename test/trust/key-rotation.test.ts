import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import { keyIdOf, SecretBox } from '../../src/platform/secret-box';
import { ForgeSimulator } from '../../src/simulator/forge';
import { startTestApp, type TestApp } from '../support/app';
import {
  install,
  installPayload,
  lifecycleJwt,
  newWorkspace,
  pageUrl,
  postJson,
  type Workspace,
} from '../support/bitbucket';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { installForge } from '../support/forge';
import { deliver, pushData } from '../support/webhooks';

/**
 * SECURITY.md's runbook for rotating TALLY_ENCRYPTION_KEY, step by step, against one database redeployed with each
 * key list: old key → "old,new" → "new,old" → `npm run rotate-secrets` → "new" alone. Every tenant works at every
 * step; a secret no key opens fails its own tenant with 401s and a loud log line, and nobody else. A Forge
 * installation's stored system token is re-sealed too, so it still opens once the old key is gone.
 */

/** `npm run rotate-secrets` (the same entry point, through tsx) with the given key list. */
function rotateSecrets(database: TestDatabase, keys: string[]) {
  return new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/main/rotate-secrets.ts'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          DATABASE_URL: database.appUrl,
          TALLY_ENCRYPTION_KEY: keys.join(','),
        },
        timeout: 60_000,
      },
      (error, stdout) => resolve({ code: error ? ((error.code as number) ?? 1) : 0, stdout }),
    );
  });
}

/** What a tenant does every day: open a page, call the API, receive a webhook. */
async function dailyUse(app: TestApp, ws: Workspace) {
  const session = createSessionToken({
    appKey: 'tally',
    clientKey: ws.clientKey,
    secret: ws.sharedSecret,
    scope: scopeForPage('workspace', {}),
  });
  const repo = `{${randomUUID()}}`;
  return {
    page: (await fetch(pageUrl(app.url, '/pages/configure', ws))).status,
    api: (await fetch(`${app.url}/api/v1/me`, { headers: { authorization: `JWT ${session}` } })).status,
    webhook: (
      await deliver(
        app.url,
        ws,
        '/webhooks/repo-push',
        'repo:push',
        pushData(repo, `${ws.slug}/r`, 'main', 'a'.repeat(40), null),
      )
    ).status,
  };
}
const WORKS = { page: 200, api: 200, webhook: 204 };
const REFUSED = { page: 401, api: 401, webhook: 401 };

const uninstall = (app: TestApp, ws: Workspace) =>
  postJson(
    `${app.url}/uninstalled`,
    { ...installPayload(ws), eventType: 'uninstalled' },
    { authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, '/uninstalled')}` },
  );

describe('rotating TALLY_ENCRYPTION_KEY (the runbook in SECURITY.md)', () => {
  const [oldKey, newKey, strangerKey] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const [oldHex, newHex] = [oldKey.toString('hex'), newKey.toString('hex')];
  const workspaces = [newWorkspace(), newWorkspace(), newWorkspace()];
  const [reinstalled, legacy, untouched] = workspaces as [Workspace, Workspace, Workspace];
  let database: TestDatabase;
  let admin: pg.Client;
  let app: TestApp | undefined;
  let forge: ForgeSimulator;
  const forgeInstallation = `ari:cloud:ecosystem::installation/${randomUUID()}`;
  const forgeToken = `forge-system-${randomUUID()}`;

  const deploy = async (keys: string[]) => {
    await app?.close();
    app = await startTestApp({
      database,
      env: { TALLY_ENCRYPTION_KEY: keys.join(','), FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl },
    });
    return app;
  };
  /** The Forge tenant's stored system token, as the worker reads it (null: none, or no configured key opens it). */
  const forgeTokenNow = async (running: TestApp) => {
    const tenant = await running.runtime.tenants.findByClientKey(forgeInstallation);
    return (await running.runtime.tenants.forgeSystemToken(tenant!.id))?.token ?? null;
  };
  const sealedForgeToken = async () =>
    (
      await admin.query<{ forge_system_token_enc: string }>(
        'select forge_system_token_enc from tenants where client_key = $1',
        [forgeInstallation],
      )
    ).rows[0]!.forge_system_token_enc;
  const sealed = async () => {
    const { rows } = await admin.query<{ client_key: string; shared_secret_enc: string }>(
      "select client_key, shared_secret_enc from tenants where platform = 'connect'",
    );
    return new Map(rows.map((r) => [r.client_key, r.shared_secret_enc]));
  };

  before(async () => {
    forge = await ForgeSimulator.start();
    database = await createTestDatabase();
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
  });
  after(async () => {
    await app?.close();
    await admin.end();
    await database.drop();
    await forge?.close();
  });

  it('0. with the old key alone: installs seal with it; values from before key ids still open', async () => {
    const running = await deploy([oldHex]);
    for (const ws of workspaces) assert.equal((await install(running, ws)).status, 204);
    const workspaceUuid = `{${randomUUID()}}`;
    await installForge(
      running,
      forge,
      {
        installationId: forgeInstallation,
        workspaceUuid,
        apiBaseUrl: `http://127.0.0.1:1/ex/bitbucket/${workspaceUuid.slice(1, -1)}`,
      },
      forgeToken,
    );
    assert.match(await sealedForgeToken(), new RegExp(`^v2:${keyIdOf(oldKey)}:`));
    // An install from before the key ring: the same sealed bytes, without the key id.
    const value = (await sealed()).get(legacy.clientKey)!;
    assert.match(value, new RegExp(`^v2:${keyIdOf(oldKey)}:`));
    await admin.query('update tenants set shared_secret_enc = $1 where client_key = $2', [
      value.replace(/^v2:[0-9a-f]+:/, 'v1:'),
      legacy.clientKey,
    ]);
    await deploy([oldHex]);
    for (const ws of workspaces) assert.deepEqual(await dailyUse(app!, ws), WORKS);
  });

  it('1. deploy "old,new" (every replica learns the new key; the old one still seals): all tenants work', async () => {
    const running = await deploy([oldHex, newHex]);
    for (const ws of workspaces) assert.deepEqual(await dailyUse(running, ws), WORKS);
  });

  it('2. deploy "new,old": all tenants work, and a reinstall seals with the new key', async () => {
    const running = await deploy([newHex, oldHex]);
    for (const ws of workspaces) assert.deepEqual(await dailyUse(running, ws), WORKS);
    assert.equal((await install(running, reinstalled, reinstalled.sharedSecret)).status, 204);
    assert.match((await sealed()).get(reinstalled.clientKey)!, new RegExp(`^v2:${keyIdOf(newKey)}:`));
  });

  it('3. npm run rotate-secrets re-seals the rest with the new key, and is idempotent', async () => {
    const first = await rotateSecrets(database, [newHex, oldHex]);
    assert.equal(first.code, 0, first.stdout);
    assert.match(first.stdout, /2 secret\(s\) re-sealed, 1 already current, 0 unreadable/);
    assert.match(first.stdout, /Forge system tokens: 1 re-sealed, 0 already current, 0 unreadable/);
    assert.match(await sealedForgeToken(), new RegExp(`^v2:${keyIdOf(newKey)}:`));
    for (const value of (await sealed()).values()) assert.match(value, new RegExp(`^v2:${keyIdOf(newKey)}:`));
    const again = await rotateSecrets(database, [newHex, oldHex]);
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /0 secret\(s\) re-sealed, 3 already current, 0 unreadable/);
    assert.match(again.stdout, /Forge system tokens: 0 re-sealed, 1 already current, 0 unreadable/);
    const { rows } = await admin.query(
      `select client_key from system_audit_log where action = 'tenant.secret_resealed' order by client_key`,
    );
    assert.deepEqual(rows.map((r) => r.client_key).sort(), [legacy.clientKey, untouched.clientKey].sort());
  });

  it('4. deploy "new" alone: every tenant still works, uninstall and reinstall included', async () => {
    const running = await deploy([newHex]);
    for (const ws of workspaces) assert.deepEqual(await dailyUse(running, ws), WORKS);
    assert.equal(await forgeTokenNow(running), forgeToken, 'the Forge tenant keeps its system token');
    assert.equal((await uninstall(running, untouched)).status, 204);
    assert.equal((await install(running, untouched, untouched.sharedSecret)).status, 204);
    assert.deepEqual(await dailyUse(running, untouched), WORKS);
  });

  it('a secret no key opens is a 401 for its tenant alone, with a loud log line', async () => {
    await admin.query('update tenants set shared_secret_enc = $1 where client_key = $2', [
      new SecretBox([strangerKey]).seal(legacy.sharedSecret, legacy.clientKey),
      legacy.clientKey,
    ]);
    await admin.query('update tenants set forge_system_token_enc = $1 where client_key = $2', [
      new SecretBox([strangerKey]).seal(forgeToken, forgeInstallation),
      forgeInstallation,
    ]);
    const running = await deploy([newHex]);
    assert.equal(await forgeTokenNow(running), null, 'an unreadable Forge token waits for the next one');
    assert.deepEqual(await dailyUse(running, legacy), REFUSED);
    assert.equal((await install(running, legacy, legacy.sharedSecret)).status, 401);
    assert.equal((await uninstall(running, legacy)).status, 401);
    for (const ws of [reinstalled, untouched]) assert.deepEqual(await dailyUse(running, ws), WORKS);

    const lines = running.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const loud = lines.filter((l) => l.level === 50 && String(l.msg).startsWith('shared secret unreadable'));
    assert.ok(loud.length > 0, 'an error line names the tenant');
    assert.equal(loud[0]!.clientKey, legacy.clientKey);
    assert.equal(loud[0]!.sealedWith, keyIdOf(strangerKey));
    assert.ok(!lines.some((l) => l.status === 500 || l.msg === 'request failed'), 'no 500 for anyone');

    const rotation = await rotateSecrets(database, [newHex]);
    assert.equal(rotation.code, 1, rotation.stdout);
    assert.match(rotation.stdout, /0 secret\(s\) re-sealed, 2 already current, 1 unreadable/);
    assert.ok(rotation.stdout.includes(legacy.clientKey));
    // An unreadable Forge token is named, not re-sealed, and not what fails the run (the next invocation replaces it).
    assert.match(rotation.stdout, /Forge system tokens: 0 re-sealed, 0 already current, 1 unreadable/);
    assert.ok(rotation.stdout.includes(`unreadable Forge token, waits for a new one: ${forgeInstallation}`));
  });
});
