import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import AxeBuilder from '@axe-core/playwright';
import type { Frame, Page } from 'playwright-core';
import { createSessionToken } from '../../src/connect/jwt';
import { scopeForPage } from '../../src/connect/session-scope';
import { DEMO_WORKSPACE } from '../../src/main/demo';
import { addDays } from '../../src/web/chart-data/dates';
import { pageUrl } from '../support/bitbucket';
import {
  api,
  dayAfter,
  assertFrameFits,
  newPage,
  numberIn,
  openInHost,
  parseCsv,
  screenshot,
  sessionToken,
  settled,
  startStack,
  today,
  type Stack,
} from './stack';

/**
 * Tally's four pages in Debian's Chromium, framed by the simulator's Bitbucket-like host page with real signed
 * iframe URLs, against the sample history (expressjs/express) fully indexed by the real backfill.
 */

const PAGES = ['repository', 'workspace', 'profile', 'configure'] as const;

interface Series {
  series: { period: string; commits: number; lines_added: number; lines_removed: number }[];
}
const sum = (s: Series) => s.series.reduce((n, p) => n + p.commits, 0);

let stack: Stack;
let repoUuid = '';

async function download(page: Page, frame: Frame, label: string): Promise<Buffer> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    frame.getByRole('button', { name: label }).click(),
  ]);
  return readFileSync((await file.path())!);
}

describe('Tally pages in the Bitbucket host frame', { timeout: 900_000 }, () => {
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('each page loads in the frame from a real signed URL, drops the jwt and fits without an inner scrollbar', async () => {
    const { context, page } = await newPage(stack);
    for (const name of PAGES) {
      const frame = await openInHost(page, stack.demo.pages[name]);
      await settled(frame);
      const url = new URL(frame.url());
      assert.equal(url.pathname, `/pages/${name}`);
      assert.equal(url.searchParams.has('jwt'), false, 'the one-time page token is removed from the address');
      if (name === 'repository') repoUuid = url.searchParams.get('repoUuid')!;
      // AP.resize: the iframe is as tall as its document.
      await assertFrameFits(page, frame, name);
      await screenshot(page, `${name}-light`);
    }
    await context.close();
  });

  it('the repository page shows the numbers of the sample history, as the API reports them', async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.repository);
    await settled(frame);
    const token = await sessionToken(frame);
    const scope = `repository=${encodeURIComponent(repoUuid)}&until=${dayAfter(today)}`;
    const activity = await api<Series>(stack, token, `/stats/activity?${scope}&interval=week`);
    const { contributors } = await api<{ contributors: { display_name: string; commits: number }[] }>(
      stack,
      token,
      `/stats/contributors?${scope}`,
    );
    // express has thousands of non-merge commits from hundreds of people.
    assert.ok(sum(activity) > 4000, `sample history indexed: ${sum(activity)} commits`);
    assert.equal(numberIn(await frame.getByTestId('total-commits').textContent()), sum(activity));
    assert.equal(numberIn(await frame.getByTestId('total-contributors').textContent()), contributors.length);
    const firstCard = frame.getByTestId('contributor-card').first();
    assert.match((await firstCard.textContent())!, new RegExp(contributors[0]!.display_name));
    assert.equal(
      numberIn(await firstCard.getByTestId('card-commits').textContent()),
      contributors[0]!.commits,
    );
    await context.close();
  });

  it("the profile page shows the person's public contributions, says so, and its token reads nothing else", async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.profile);
    await settled(frame);
    assert.match(
      (await frame.getByTestId('public-only').textContent())!,
      /private repositories are shown to workspace admins/,
    );
    const token = await sessionToken(frame);
    const me = await api<{ scope: { kind: string; contributor: string; visibility: string } }>(
      stack,
      token,
      '/me',
    );
    assert.deepEqual([me.scope.kind, me.scope.visibility], ['profile', 'public_only']);
    const since = addDays(today, -364); // as the page asks: the last 12 months
    const calendar = await api<{ total: number }>(
      stack,
      token,
      `/stats/calendar?contributor=${encodeURIComponent(me.scope.contributor)}&since=${since}&until=${dayAfter(today)}&bots=include`,
    );
    assert.equal(numberIn(await frame.getByTestId('year-contributions').textContent()), calendar.total);
    for (const path of ['/audit', '/settings', '/support/consent', '/pull-requests/stats']) {
      const res = await fetch(`${stack.demo.tallyUrl}/api/v1${path}`, {
        headers: { authorization: `JWT ${token}` },
      });
      assert.equal(res.status, 403, path);
    }
    await context.close();
  });

  it('filters change the graphs and the URL, by mouse and keyboard', async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.repository);
    await settled(frame);
    const token = await sessionToken(frame);
    const before2014 = numberIn(await frame.getByTestId('total-commits').textContent());

    await frame.getByLabel('Date range').selectOption('custom');
    await frame.getByLabel('From', { exact: true }).fill('2014-01-01');
    await frame.getByLabel('To', { exact: true }).fill('2014-12-31');
    await frame.waitForURL(/from=2014-01-01&to=2014-12-31/);
    await settled(frame);
    const scope = `repository=${encodeURIComponent(repoUuid)}&since=2014-01-01&until=2015-01-01`;
    const year = sum(await api<Series>(stack, token, `/stats/activity?${scope}&interval=week`));
    const shown2014 = numberIn(await frame.getByTestId('total-commits').textContent());
    assert.equal(shown2014, year);
    assert.ok(shown2014 > 0 && shown2014 < before2014);

    // Keyboard: focus the merges switch and press Space.
    const merges = frame.getByRole('switch', { name: 'Include merges' });
    await merges.focus();
    await page.keyboard.press('Space');
    assert.equal(await merges.getAttribute('aria-checked'), 'true');
    await frame.waitForURL(/merges=1/);
    await settled(frame);
    const withMerges = sum(
      await api<Series>(stack, token, `/stats/activity?${scope}&interval=week&merges=include`),
    );
    assert.equal(numberIn(await frame.getByTestId('total-commits').textContent()), withMerges);
    assert.ok(withMerges > year, 'the sample history has merge commits in 2014');

    await frame.getByRole('button', { name: 'Additions' }).click();
    await frame.waitForURL(/metric=additions/);
    await frame.getByRole('heading', { name: 'Contributors · lines added' }).waitFor();
    assert.equal(new URL(frame.url()).searchParams.get('repoUuid'), repoUuid, 'module parameters are kept');
    await context.close();
  });

  it('CSV downloads parse and hold the numbers shown; PNG downloads are images', async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.workspace);
    await settled(frame);
    const total = numberIn(await frame.getByTestId('total-commits').textContent());

    const activity = parseCsv(
      (await download(page, frame, 'Download Commit activity as CSV')).toString('utf8'),
    );
    assert.deepEqual(activity[0], ['period', 'commits']);
    assert.equal(
      activity.slice(1).reduce((n, r) => n + Number(r[1]), 0),
      total,
    );

    const contributors = parseCsv(
      (await download(page, frame, 'Download Contributors · commits as CSV')).toString('utf8'),
    );
    assert.equal(contributors[0]![0], 'period');
    const stacked = contributors
      .slice(1)
      .reduce((n, r) => n + r.slice(1).reduce((m, c) => m + Number(c), 0), 0);
    assert.equal(stacked, total, 'the stacked contributors add up to the total');

    const commits = parseCsv((await download(page, frame, 'Export commits (CSV)')).toString('utf8'));
    assert.equal(commits[0]![0], 'date');
    assert.equal(commits.length - 1, total, 'the server export has one row per commit shown');

    const png = await download(page, frame, 'Download Code frequency as PNG');
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await context.close();
  });

  it('an expired page token and an expired session each show a clear message', async () => {
    const { context, page } = await newPage(stack);
    const inst = stack.demo.sim.installation(DEMO_WORKSPACE)!;
    const ws = { slug: DEMO_WORKSPACE, uuid: '', clientKey: inst.clientKey, sharedSecret: inst.sharedSecret };

    // Bitbucket's page token lasts minutes: an old iframe URL is refused with a readable page.
    const frame = await openInHost(page, stack.demo.pages.configure);
    const expiredPage = pageUrl(stack.demo.tallyUrl, '/pages/configure', ws, 'viewer', {
      iat: Math.floor(Date.now() / 1000) - 600,
      exp: Math.floor(Date.now() / 1000) - 300,
    });
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${stack.demo.tallyUrl}/pages/configure`)),
      page.evaluate((src) => {
        document.querySelector<HTMLIFrameElement>('iframe[data-ap-frame]')!.src = src;
      }, expiredPage),
    ]);
    assert.equal(response.status(), 401);
    await frame.getByText('This page has expired — reload the page').waitFor();

    // The 15-minute session token: once the API answers 401, the page says so instead of showing errors.
    const repo = await openInHost(page, stack.demo.pages.repository);
    await settled(repo);
    const stale = createSessionToken({
      appKey: 'tally',
      clientKey: inst.clientKey,
      secret: inst.sharedSecret,
      now: new Date(Date.now() - 16 * 60_000),
      scope: scopeForPage('workspace', {}),
    });
    await page.route(`${stack.demo.tallyUrl}/api/v1/**`, (route) =>
      route.continue({ headers: { ...route.request().headers(), authorization: `JWT ${stale}` } }),
    );
    await repo.getByRole('switch', { name: 'Include bots' }).click();
    const notice = repo.getByTestId('session-expired');
    await notice.waitFor();
    assert.match((await notice.textContent())!, /Session expired — reload the page/);
    await context.close();
  });

  it('every page has no serious or critical accessibility violations, in light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { context, page } = await newPage(stack, { colorScheme });
      for (const name of PAGES) {
        const frame = await openInHost(page, stack.demo.pages[name]);
        await settled(frame);
        const results = await new AxeBuilder({ page }).include(['iframe[data-ap-frame]', 'html']).analyze();
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
          `${name} (${colorScheme})`,
        );
        if (colorScheme === 'dark') await screenshot(page, `${name}-dark`);
      }
      await context.close();
    }
  });
});

// `TALLY_DOCS_SCREENSHOTS=1` refreshes the screenshots the README and docs/ show from this run's artifacts.
after(() => {
  if (process.env.TALLY_DOCS_SCREENSHOTS !== '1') return;
  const target = path.resolve('docs', 'screenshots');
  mkdirSync(target, { recursive: true });
  for (const name of PAGES)
    for (const scheme of ['light', 'dark'])
      copyFileSync(
        path.resolve('test-results', 'screenshots', `${name}-${scheme}.png`),
        path.join(target, `${name}-${scheme}.png`),
      );
});
