import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validate, type ManifestSchema } from '@forge/manifest';

/**
 * forge/manifest.yml is checked offline with the Forge CLI's own validator (@forge/manifest: its JSON schema, the
 * Bitbucket module and event names, scope names, endpoint references, resources on disk, manifest variables), and
 * holds Tally's own promises: read-only scopes, the remote at BASE_URL with both tokens, triggers on the routes
 * Tally serves, one page per Connect page. Broken copies must fail the same validation.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const MANIFEST = path.join(ROOT, 'forge/manifest.yml');
const RESOURCE = path.join(ROOT, 'forge/static/ui/index.html');
const BASE_URL = 'https://tally.example.com';

async function validated(file: string, env: { BASE_URL?: string } = { BASE_URL }) {
  // The Forge CLI reads manifest variables from the environment; so does its validator.
  const saved = process.env.BASE_URL;
  if (env.BASE_URL === undefined) delete process.env.BASE_URL;
  else process.env.BASE_URL = env.BASE_URL;
  try {
    return await validate(false, file);
  } finally {
    if (saved === undefined) delete process.env.BASE_URL;
    else process.env.BASE_URL = saved;
  }
}

describe('Forge manifest', () => {
  let scratch = '';
  let manifest: ManifestSchema;

  before(async () => {
    // The Custom UI resource must exist for the validator (`npm run build` makes it; a lone run builds it here).
    if (!existsSync(RESOURCE)) {
      // vite's exports map hides bin/, so its path is taken from the package's own directory.
      const vite = path.join(
        path.dirname(createRequire(import.meta.url).resolve('vite/package.json')),
        'bin/vite.js',
      );
      execFileSync(process.execPath, [vite, 'build', '--mode', 'forge', '--logLevel', 'error'], {
        cwd: ROOT,
      });
    }
    scratch = mkdtempSync(path.join(os.tmpdir(), 'tally-forge-manifest-'));
    cpSync(path.join(ROOT, 'forge/static/ui'), path.join(scratch, 'static/ui'), { recursive: true });
    const result = await validated(MANIFEST);
    assert.deepEqual(result.errors, [], JSON.stringify(result.errors));
    assert.equal(result.success, true);
    manifest = result.manifestObject!.typedContent as ManifestSchema;
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** A copy of the manifest with one change, next to a copy of the resource. */
  async function broken(change: (text: string) => string, env?: { BASE_URL?: string }) {
    const text = readFileSync(MANIFEST, 'utf8');
    const changed = change(text);
    assert.notEqual(changed, text, 'the change must apply');
    const file = path.join(scratch, 'manifest.yml');
    writeFileSync(file, changed);
    return validated(file, env);
  }

  it('reaches the remote at BASE_URL, with no path, with the system and user tokens', () => {
    const remotes = manifest.remotes ?? [];
    assert.equal(remotes.length, 1);
    assert.equal(remotes[0]!.baseUrl, BASE_URL);
    assert.deepEqual(remotes[0]!.auth, {
      appSystemToken: { enabled: true },
      appUserToken: { enabled: true },
    });
  });

  it('asks for read-only Bitbucket scopes only', () => {
    const scopes = manifest.permissions?.scopes as string[];
    assert.ok(scopes.length > 0);
    for (const scope of scopes) assert.match(scope, /^read:[a-z]+:bitbucket$/);
  });

  it('routes lifecycle and Bitbucket events to /forge/installed and /forge/events', () => {
    const modules = manifest.modules as Record<string, Record<string, unknown>[]>;
    const endpoints = new Map(modules.endpoint!.map((e) => [e.key, e]));
    const routeOf = (trigger: Record<string, unknown>) =>
      (endpoints.get(trigger.endpoint as string)?.route as { path: string } | undefined)?.path;
    const byRoute = new Map<string | undefined, string[]>();
    for (const trigger of modules.trigger!)
      byRoute.set(routeOf(trigger), [
        ...(byRoute.get(routeOf(trigger)) ?? []),
        ...(trigger.events as string[]),
      ]);
    assert.deepEqual(byRoute.get('/forge/installed'), ['avi:forge:installed:app', 'avi:forge:upgraded:app']);
    const events = byRoute.get('/forge/events') ?? [];
    for (const event of [
      'avi:bitbucket:push:repository',
      'avi:bitbucket:created:repository',
      'avi:bitbucket:deleted:repository',
      'avi:bitbucket:fulfilled:pullrequest',
    ])
      assert.ok(events.includes(event), event);
    assert.equal(byRoute.size, 2);
    // The schema takes any string as an event: each must be one Forge maps to a scope, and that scope ours.
    const mapping = JSON.parse(
      readFileSync(
        path.join(ROOT, 'node_modules/@forge/manifest/out/mapping/product-event-to-scope-mapping.json'),
        'utf8',
      ),
    ) as { mapping: { productEvent: string; oAuthScopes: { current: string[] } }[] };
    const scopes = manifest.permissions?.scopes as string[];
    for (const event of events) {
      const known = mapping.mapping.find((m) => m.productEvent === event);
      assert.ok(known, `${event} is a Bitbucket event Forge knows`);
      for (const scope of known.oAuthScopes.current)
        assert.ok(scopes.includes(scope), `${event} needs ${scope}`);
    }
  });

  it('invokes /forge/scheduled hourly with a system token, so quiet installations stay fresh', () => {
    const modules = manifest.modules as Record<string, Record<string, unknown>[]>;
    assert.deepEqual(modules.scheduledTrigger, [
      { key: 'tally-keepalive', endpoint: 'tally-scheduled', interval: 'hour' },
    ]);
    const endpoint = modules.endpoint!.find((e) => e.key === 'tally-scheduled')!;
    assert.equal(endpoint.remote, 'tally');
    assert.deepEqual(endpoint.route, { path: '/forge/scheduled' });
    assert.deepEqual(endpoint.auth, { appSystemToken: { enabled: true } });
  });

  it('has the four pages, each a Custom UI resource calling the remote', () => {
    const modules = manifest.modules as Record<string, Record<string, unknown>[]>;
    const pages = [
      'bitbucket:repoMainMenuPage',
      'bitbucket:workspaceGlobalPage',
      'bitbucket:workspaceSettingsMenuPage',
      'bitbucket:workspacePersonalSettingsPage',
    ];
    const uiEndpoint = modules.endpoint!.find((e) => e.key === 'tally-ui')!;
    assert.equal(uiEndpoint.remote, 'tally');
    assert.equal(uiEndpoint.route, undefined, 'UI calls name their own /api/v1 paths');
    for (const type of pages) {
      const [page] = modules[type] ?? [];
      assert.ok(page, type);
      assert.equal(page.resource, 'ui');
      assert.deepEqual(page.resolver, { endpoint: 'tally-ui' });
    }
    assert.deepEqual(manifest.resources, [{ key: 'ui', path: 'static/ui' }]);
  });

  it('fails validation when broken', async () => {
    const cases: [string, (text: string) => string, { BASE_URL?: string }?][] = [
      ['a scope that does not exist', (t) => t.replace('read:user:bitbucket', 'read:profile:bitbucket')],
      [
        'an unknown module type',
        (t) => t.replace('bitbucket:workspacePersonalSettingsPage:', 'bitbucket:profileTab:'),
      ],
      [
        'a trigger on a missing endpoint',
        (t) => t.replace('endpoint: tally-events\n', 'endpoint: tally-nope\n'),
      ],
      ['an interval Forge does not offer', (t) => t.replace('interval: hour', 'interval: minute')],
      [
        'a scheduled trigger on a missing endpoint',
        (t) => t.replace('endpoint: tally-scheduled\n', 'endpoint: tally-nope\n'),
      ],
      ['a page without its resource', (t) => t.replace('resource: ui\n', 'resource: nope\n')],
      ['BASE_URL not set', (t) => t.replace('# Tally', '# (unset) Tally'), {}],
    ];
    for (const [what, change, env] of cases) {
      const result = await broken(change, env);
      assert.equal(result.success, false, what);
      assert.ok((result.errors ?? []).length > 0, what);
    }
  });
});
