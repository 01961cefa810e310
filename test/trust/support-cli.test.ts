import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import { startTestApp, type TestApp } from '../support/app';
import { install, newWorkspace, type Workspace } from '../support/bitbucket';
import { newPerson, seedTenant } from './fixtures';

/** Runs `npm run support -- …` (the same entry point, through tsx) and collects its output and exit code. */
function support(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/main/support.ts', ...args],
      { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('support CLI', () => {
  let app: TestApp;
  let env: Record<string, string>;
  const consenting = newWorkspace('consenting-ws');
  const private_ = newWorkspace('private-ws');
  const person = newPerson('Kitty Pryde');

  const api = (ws: Workspace, method: string, path: string, body?: unknown) =>
    fetch(`${app.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `JWT ${createSessionToken({ appKey: 'tally', clientKey: ws.clientKey, secret: ws.sharedSecret, page: 'configure', scope: scopeForPage('configure', {}) })}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    app = await startTestApp();
    for (const [ws, repo] of [
      [consenting, 'open-repo'],
      [private_, 'secret-repo'],
    ] as const) {
      assert.equal((await install(app, ws)).status, 204);
      const tenant = await app.runtime.tenants.findByClientKey(ws.clientKey);
      await seedTenant(app.runtime.db, tenant!.id, [person, newPerson('Ororo Munroe')], { repo });
    }
    env = {
      DATABASE_ADMIN_URL: app.database.adminUrl,
      DATABASE_URL: app.database.appUrl,
      SUPPORT_USER: 'sam',
    };
    assert.equal(
      (await api(consenting, 'POST', '/support/consent', { days: 2, reason: 'Ticket 7' })).status,
      201,
    );
  });
  after(() => app.close());

  it('tenants lists registry data only: client key, workspace, install state, consent state', async () => {
    const out = await support(['tenants'], env);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split('\n');
    assert.match(lines[0]!, /CLIENT KEY\s+WORKSPACE\s+STATE\s+DELETE AFTER\s+SUPPORT CONSENT/);
    const row = (ws: Workspace) => lines.find((l) => l.startsWith(ws.clientKey)) ?? '';
    assert.match(row(consenting), /consenting-ws\s+installed\s+-\s+granted until \d{4}-\d\d-\d\d/);
    assert.match(row(private_), /private-ws\s+installed\s+-\s+none$/);
    assert.doesNotMatch(out.stdout, /open-repo|secret-repo|Kitty/);
  });

  it('show without consent refuses, prints no tenant data, exits non-zero and is logged for the tenant', async () => {
    const out = await support(['show', private_.clientKey], env);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /Refused: workspace private-ws has not granted support access/);
    assert.equal(out.stdout, '');
    assert.doesNotMatch(out.stderr, /secret-repo|Kitty|commits/);
    const { entries } = await (await api(private_, 'GET', '/audit')).json();
    assert.equal(entries[0].action, 'support.refused');
    assert.equal(entries[0].actor, 'support:sam');
  });

  it('show with consent prints repositories, indexing state and statistics, and the tenant admin sees the read', async () => {
    const out = await support(['show', consenting.clientKey, '--as', 'alex'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /acme\/open-repo\s+ready\s+6\s+6/);
    assert.match(
      out.stdout,
      /commits 6 \(6 with line counts\), lines \+66\/-6, contributors 2, pull requests 2/,
    );
    assert.doesNotMatch(out.stdout, /secret-repo/);
    const { entries } = await (await api(consenting, 'GET', '/audit')).json();
    const read = entries.find((e: { action: string }) => e.action === 'support.read');
    assert.equal(read.actor, 'support:alex');
    assert.equal(read.details.command, 'show');
    assert.ok(Array.isArray(read.details.read));
  });

  it('show after the consent is revoked refuses again', async () => {
    assert.equal((await api(consenting, 'DELETE', '/support/consent')).status, 200);
    const out = await support(['show', consenting.clientKey], env);
    assert.equal(out.code, 1);
    assert.equal(out.stdout, '');
  });

  it('erase by account id needs no consent and is audited; bad usage exits 2', async () => {
    const out = await support(['erase', private_.clientKey, '--account', person.accountId], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Erased: 1 account id\(s\), 1 email\(s\), 1 name\(s\)/);
    const { entries } = await (await api(private_, 'GET', '/audit')).json();
    assert.equal(entries[0].action, 'personal_data.erased');
    assert.equal(entries[0].actor, 'support:sam');
    assert.equal((await support(['erase', private_.clientKey], env)).code, 2);
    assert.equal((await support(['show'], env)).code, 2);
    assert.equal((await support(['nonsense'], env)).code, 2);
    assert.equal((await support(['show', 'no-such-client'], env)).code, 1);
  });
});
