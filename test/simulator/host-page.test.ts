import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createQueryStringHash, decodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';
import { startFakeApp, startHarness, type Harness, type Loose } from './helpers.js';

/** Verifies an iframe URL the way ACE's authenticate() does: tenant from aud[0] ?? iss, HS256, exp, qsh. */
function verifyIframeUrl(h: Harness, raw: string): { url: URL; claims: Record<string, Loose> } {
  const url = new URL(raw);
  const token = url.searchParams.get('jwt');
  assert.ok(token, 'jwt query parameter');
  const unverified = decodeSymmetric(token, '', SymmetricAlgorithm.HS256, true) as Record<string, Loose>;
  const clientKey = unverified.aud?.[0] ?? unverified.iss;
  const inst = h.sim.state.installationByClientKey(clientKey)!;
  const claims = decodeSymmetric(token, inst.sharedSecret, SymmetricAlgorithm.HS256) as Record<string, Loose>;
  assert.ok(claims.exp > Date.now() / 1000);
  const withoutJwt = new URL(raw);
  withoutJwt.searchParams.delete('jwt');
  assert.equal(
    claims.qsh,
    createQueryStringHash(fromMethodAndUrl('GET', withoutJwt.toString())),
    'qsh = URL query minus jwt',
  );
  assert.equal(
    claims.qsh,
    createQueryStringHash(fromMethodAndUrl('GET', raw)),
    'the canonical query ignores jwt',
  );
  return { url, claims };
}

describe('host page and signed iframe URLs', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('signedModuleUrl substitutes context parameters (URL-encoded, braces kept) and signs with a real qsh', () => {
    const ws = h.sim.workspace('acme');
    const repo = h.sim.repository('acme', 'express');
    const raw = h.sim.signedModuleUrl('acme', 'repo-analytics', { repo: 'express' });
    assert.ok(raw.startsWith(`${h.app.url}/repo-analytics?`));
    assert.ok(raw.includes(`repoUuid=${encodeURIComponent(repo.uuid)}`), 'braces percent-encoded');
    const { url, claims } = verifyIframeUrl(h, raw);
    assert.equal(url.searchParams.get('repoUuid'), repo.uuid);
    assert.equal(url.searchParams.get('repoPath'), 'acme/express');
    assert.equal(url.searchParams.get('user'), ws.admin.uuid);
    assert.equal(claims.iss, h.inst.clientKey);
    assert.deepEqual(claims.aud, [h.inst.clientKey]);
    assert.equal(claims.sub, ws.admin.account_id, 'sub = viewer account id');
    assert.equal(claims.exp - claims.iat, 180);
  });

  it('profile tabs get {target_user.uuid}; another viewer changes sub', () => {
    const target = h.sim.users.add({ display_name: 'Tess Target', emails: ['tess@example.com'] });
    const viewer = h.sim.users.add({ display_name: 'Vic Viewer', emails: ['vic@example.com'] });
    const raw = h.sim.signedModuleUrl('acme', 'my-stats', {
      targetUserUuid: target.uuid,
      viewer: viewer.account_id,
    });
    const { url, claims } = verifyIframeUrl(h, raw);
    assert.equal(url.searchParams.get('user'), target.uuid);
    assert.equal(claims.sub, viewer.account_id);
  });

  it('the host page frames the module with a valid signed URL and lists the modules in a sidebar', async () => {
    const page = h.sim.hostPageUrl('acme', { moduleKey: 'repo-analytics', repo: 'express' });
    assert.ok(page.startsWith(`${h.sim.webUrl}/acme/express/addon/repo-analytics`));
    const res = await fetch(page);
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /text\/html/);
    const html = await res.text();
    const src = /<iframe[^>]*\ssrc="([^"]+)"/.exec(html)?.[1];
    assert.ok(src, 'an iframe');
    const decoded = src
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'");
    verifyIframeUrl(h, decoded);
    assert.match(html, /Analytics/);
    assert.match(html, /\/_sim\/host\.js/);

    const admin = await fetch(h.sim.hostPageUrl('acme', { moduleKey: 'workspace-analytics' }));
    const adminSrc = /<iframe[^>]*\ssrc="([^"]+)"/.exec(await admin.text())![1]!.replace(/&amp;/g, '&');
    assert.equal(verifyIframeUrl(h, adminSrc).url.searchParams.get('workspace'), 'acme');
  });

  it('serves an all.js stand-in and the host bridge', async () => {
    const all = await fetch(`${h.sim.webUrl}/atlassian-connect/all.js`);
    assert.equal(all.status, 200);
    assert.match(String(all.headers.get('content-type')), /javascript/);
    const js = await all.text();
    assert.match(js, /window\.AP = AP/);
    assert.match(js, /resize/);
    assert.equal((await fetch(`${h.sim.webUrl}/_sim/host.js`)).status, 200);
  });

  it('workspace and repository pages render; unknown modules 404', async () => {
    assert.equal((await fetch(`${h.sim.webUrl}/acme`)).status, 200);
    assert.equal((await fetch(`${h.sim.webUrl}/acme/express`)).status, 200);
    assert.equal((await fetch(`${h.sim.webUrl}/acme/express/addon/nope`)).status, 404);
  });

  it('installs through /site/addons/authorize and redirects with client_key', async () => {
    const app = await startFakeApp();
    try {
      h.sim.addWorkspace({ slug: 'webinstall' });
      const form = new URLSearchParams({
        workspace: 'webinstall',
        descriptor_uri: app.descriptorUrl,
        redirect_uri: `${app.url}/done`,
      });
      const res = await fetch(`${h.sim.webUrl}/site/addons/authorize`, {
        method: 'POST',
        body: form,
        redirect: 'manual',
      });
      assert.equal(res.status, 302);
      const location = new URL(res.headers.get('location')!);
      assert.equal(location.searchParams.get('client_key'), h.sim.installation('webinstall')!.clientKey);
    } finally {
      await app.close();
    }
  });
});
