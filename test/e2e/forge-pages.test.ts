import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import AxeBuilder from '@axe-core/playwright';
import type { Frame } from 'playwright-core';
import { DEMO_WORKSPACE } from '../../src/main/demo';
import type { ForgePageType } from '../../src/simulator/forge-ui';
import {
  assertFrameFits,
  newPage,
  numberIn,
  openInHost,
  screenshot,
  settled,
  startStack,
  TALLY_FRAME,
  type Stack,
} from './stack';

/**
 * The same pages in the Forge host: `npm run demo -- --forge` (Tally installed the Forge way and backfilled through
 * the system token), each page the Custom UI resource built by `vite build --mode forge`, framed by the simulator's
 * Forge page at Bitbucket's URL, the real @forge/bridge talking to the simulator's bridge stand-in, every API call an
 * invokeRemote that reaches /api/v1 with an invocation token. The Connect host's checks are in pages.test.ts; here:
 * each page renders and fits, its numbers are the API's under a FIT of the same module context, a repository page's
 * FIT reads its repository only, "My contributions" shows the viewer, and axe finds nothing serious.
 */

const PAGES = ['repository', 'workspace', 'profile', 'configure'] as const;
const MODULE_OF: Record<(typeof PAGES)[number], ForgePageType> = {
  repository: 'bitbucket:repoMainMenuPage',
  workspace: 'bitbucket:workspaceGlobalPage',
  profile: 'bitbucket:workspacePersonalSettingsPage',
  configure: 'bitbucket:workspaceSettingsMenuPage',
};

interface Remote {
  status: number;
  body: unknown;
}

/** invokeRemote from inside the frame, through the bridge the page itself uses (its own module context). */
async function invokeFromFrame(frame: Frame, path: string): Promise<Remote> {
  const answer = await frame.evaluate(
    (p) =>
      (
        globalThis as unknown as {
          __bridge: { callBridge: (n: string, x: unknown) => Promise<{ payload: Remote }> };
        }
      ).__bridge.callBridge('invoke', { path: p, method: 'GET', invokeType: 'ui-remote-fetch' }),
    path,
  );
  return answer.payload;
}

let stack: Stack;

/** The API's answer under a FIT for a page module (what the simulator's Forge signs for that page). */
async function apiAsForge<T>(
  type: ForgePageType,
  pathAndQuery: string,
  options: { repositoryUuid?: string; accountId?: string } = {},
): Promise<T> {
  const installation = stack.demo.sim.forgeInstallation(DEMO_WORKSPACE)!;
  const token = await stack.demo.forge!.invocationToken({
    installationId: installation.installationId,
    workspaceUuid: installation.workspace.uuid,
    apiBaseUrl: installation.apiBaseUrl,
    moduleType: type,
    principal: options.accountId ?? installation.workspace.admin.account_id,
    context: {
      extension: {
        type,
        ...(options.repositoryUuid ? { repository: { uuid: options.repositoryUuid } } : {}),
      },
    },
  });
  const res = await fetch(`${stack.demo.tallyUrl}/api/v1${pathAndQuery}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new Error(`${pathAndQuery}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe('Tally pages in the Forge host (Custom UI)', { timeout: 900_000 }, () => {
  before(async () => {
    stack = await startStack({ forge: true });
  });
  after(async () => {
    await stack?.close();
  });

  it('each page loads in its Forge frame through @forge/bridge, fits without an inner scrollbar, and nothing fails', async () => {
    const { context, page } = await newPage(stack);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon/.test(m.location().url)) problems.push(`console: ${m.text()}`);
    });
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
    for (const name of PAGES) {
      const frame = await openInHost(page, stack.demo.pages[name]);
      await settled(frame);
      const frameElement = await page.waitForSelector(TALLY_FRAME);
      assert.equal(await frameElement.getAttribute('data-module'), MODULE_OF[name]);
      // The resource is Forge's build (relative assets, no server-rendered token), not a Connect page.
      assert.equal(await frame.locator('meta[name="tally-token"]').count(), 0);
      assert.match(new URL(frame.url()).pathname, /^\/_forge\/frames\/[0-9a-f]+\/index\.html$/);
      // Sized by the stand-in as Forge sizes Custom UI frames.
      await assertFrameFits(page, frame, name);
      assert.equal(await frame.getByText('This could not be loaded').count(), 0, name);
      await screenshot(page, `forge-${name}-light`);
    }
    assert.deepEqual(
      problems.filter((p) => !p.includes('favicon')),
      [],
    );
    await context.close();
  });

  it('the repository page shows the numbers the API gives its invocation token', async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.repository);
    await settled(frame);
    const repo = stack.demo.sim.repository(DEMO_WORKSPACE, stack.demo.repositories[0]!);
    const until = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const activity = await apiAsForge<{ series: { commits: number }[] }>(
      'bitbucket:repoMainMenuPage',
      `/stats/activity?repository=${encodeURIComponent(repo.uuid)}&until=${until}&interval=week`,
      { repositoryUuid: repo.uuid },
    );
    const commits = activity.series.reduce((n, p) => n + p.commits, 0);
    assert.ok(commits > 4000, `sample history indexed through Forge: ${commits} commits`);
    assert.equal(numberIn(await frame.getByTestId('total-commits').textContent()), commits);
    await context.close();
  });

  it("a repository page's invocation token reads that repository only", async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.repository);
    await settled(frame);
    const repo = stack.demo.sim.repository(DEMO_WORKSPACE, stack.demo.repositories[0]!);
    // The frame's own calls, through the bridge: its scope is the repository Bitbucket's context names.
    const me = await invokeFromFrame(frame, '/api/v1/me');
    assert.equal(me.status, 200);
    assert.deepEqual((me.body as { scope: { kind: string; repositories: string[] } }).scope.repositories, [
      repo.uuid,
    ]);
    const listed = await invokeFromFrame(frame, '/api/v1/repositories');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      (listed.body as { repositories: { uuid: string }[] }).repositories.map((r) => r.uuid),
      [repo.uuid],
    );
    const elsewhere = await invokeFromFrame(
      frame,
      `/api/v1/stats/activity?repository=${encodeURIComponent('{00000000-0000-4000-8000-000000000001}')}`,
    );
    assert.equal(elsewhere.status, 403);
    assert.equal((elsewhere.body as { error: { code: string } }).error.code, 'outside_scope');
    // The workspace page's frame is not so confined: the same call is not refused for scope there.
    const wsFrame = await openInHost(page, stack.demo.pages.workspace);
    const wide = await invokeFromFrame(wsFrame, '/api/v1/me');
    assert.equal((wide.body as { scope: { kind: string } }).scope.kind, 'workspace');
    await context.close();
  });

  it('"My contributions" shows the viewer\'s own contributions', async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.profile);
    await settled(frame);
    const viewer = stack.demo.sim.users.get(new URL(stack.demo.pages.profile).searchParams.get('viewer')!)!;
    const me = await invokeFromFrame(frame, '/api/v1/me');
    const scope = (me.body as { scope: { kind: string; contributor: string } }).scope;
    assert.equal(scope.kind, 'profile');
    assert.equal(scope.contributor, `a:${viewer.account_id}`);
    const shown = numberIn(await frame.getByTestId('year-contributions').textContent());
    assert.ok(shown > 0, 'the busiest author has commits in the last year');
    await context.close();
  });

  it('every page has no serious or critical accessibility violations', async () => {
    const { context, page } = await newPage(stack);
    for (const name of PAGES) {
      const frame = await openInHost(page, stack.demo.pages[name]);
      await settled(frame);
      const results = await new AxeBuilder({ page }).include([TALLY_FRAME, 'html']).analyze();
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(
        bad.map(
          (v) =>
            `${v.id}: ${v.nodes
              .map((n) => n.target.join(' '))
              .slice(0, 3)
              .join(' | ')}`,
        ),
        [],
        name,
      );
    }
    await context.close();
  });
});
