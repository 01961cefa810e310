import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Frame, Page } from 'playwright-core';
import { DEMO_WORKSPACE, waitForIndexing } from '../../src/main/demo';
import { enqueueTenantBackfill } from '../../src/ingest/scheduler';
import { newPage, numberIn, openInHost, parseCsv, settled, startStack, type Stack } from './stack';

/**
 * The states a page can be in besides "full of numbers": still updating, and empty (a person without commits, an
 * empty repository, a range or a filter that matches nothing). Empty is a state, not an error: no error card, no
 * failed request. And a repository's name keeps its slash everywhere the workspace page shows it.
 */

let stack: Stack;

/** Every Tally request that failed and every console error while `run` runs. */
async function failures(page: Page, run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onResponse = (r: { url(): string; status(): number }) => {
    if (r.url().startsWith(stack.demo.tallyUrl) && r.status() >= 400) seen.push(`${r.status()} ${r.url()}`);
  };
  const onConsole = (m: { type(): string; text(): string }) => {
    if (m.type() === 'error') seen.push(`console: ${m.text()}`);
  };
  page.on('response', onResponse);
  page.on('console', onConsole);
  try {
    await run();
  } finally {
    page.off('response', onResponse);
    page.off('console', onConsole);
  }
  return seen;
}

async function assertNoErrorCard(frame: Frame) {
  assert.equal(await frame.locator('[data-state="error"]').count(), 0, 'no "This could not be loaded"');
}

/** As the owner role, inside the tenant (RLS applies to the owner too). */
async function asOwner(sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: stack.database.adminUrl });
  await client.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('app.tenant_id', $1, true)`, [stack.demo.tenantId]);
    await client.query(sql, params);
    await client.query('commit');
  } finally {
    await client.end();
  }
}

const EMPTY_REPO = 'empty-repo';

describe('Tally pages: updating and empty states', { timeout: 900_000 }, () => {
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('says "Updating…" with how far line counts are while a repository is not complete (the configure page: the budget and the time left), and nothing once it is', async () => {
    const { context, page } = await newPage(stack);
    let frame = await openInHost(page, stack.demo.pages.repository);
    await settled(frame);
    const status = frame.getByTestId('freshness');
    assert.equal(await status.getAttribute('aria-live'), 'polite');
    assert.equal((await status.textContent())!.trim(), '', 'a complete repository shows no notice');

    await asOwner(
      `update repositories set sync_state = 'diffstats', commits_with_lines = commits_known - 1234,
              eta_seconds = 3 * 3600 where deleted_at is null`,
    );
    try {
      frame = await openInHost(page, stack.demo.pages.repository);
      await settled(frame);
      // Line counts arrive newest first: the graphs show what is known and say how far it is.
      const note = (await frame.getByTestId('freshness').textContent())!.trim();
      assert.match(
        note,
        /^Updating… lines counted for \d{1,2}% of commits, newest first; complete in about 3 h$/,
      );
      // The configure page: the budget in force and the time left at it.
      frame = await openInHost(page, stack.demo.pages.configure);
      const budget = frame.getByTestId('request-budget');
      await budget.waitFor();
      assert.match(
        (await budget.textContent())!,
        /^Request budget: [\d,]+ requests an hour \(configured\); every line counted in about \d/,
      );
      await asOwner(
        `insert into api_rate_limits (tenant_id, resource, requests_per_hour, near_limit, announced_at)
         values ($1, 'api', 2500, false, now())`,
        [stack.demo.tenantId],
      );
      frame = await openInHost(page, stack.demo.pages.configure);
      await frame
        .getByText('Request budget: 2,500 requests an hour (announced by Bitbucket)', { exact: false })
        .waitFor();
      assert.ok(
        (await frame.getByTestId('indexing-row').first().textContent())!.includes('Counting lines'),
        'the repository counts lines',
      );
    } finally {
      await asOwner(
        `update repositories set sync_state = 'ready', commits_with_lines = commits_known where deleted_at is null`,
      );
      await asOwner(`delete from api_rate_limits where tenant_id = $1`, [stack.demo.tenantId]);
    }
    frame = await openInHost(page, stack.demo.pages.repository);
    await settled(frame);
    assert.equal((await frame.getByTestId('freshness').textContent())!.trim(), '');
    await context.close();
  });

  it('the profile of a person with no commits says so, with no error and no failed request', async () => {
    const { context, page } = await newPage(stack);
    // A Bitbucket member of the workspace who never committed to it.
    const person = stack.demo.sim.addUser({ display_name: 'New Joiner', emails: ['new.joiner@example.com'] });
    const url = stack.demo.sim.hostPageUrl(DEMO_WORKSPACE, {
      moduleKey: 'tally-profile',
      targetUserUuid: person.uuid,
    });
    const failed = await failures(page, async () => {
      const frame = await openInHost(page, url);
      await settled(frame);
      await frame.getByRole('heading', { name: 'No contributions in this workspace yet' }).waitFor();
      await assertNoErrorCard(frame);
      assert.equal(numberIn(await frame.getByTestId('year-contributions').textContent()), 0);
    });
    assert.deepEqual(failed, []);
    await context.close();
  });

  it('a range with no commits shows zeros and empty graphs, not errors', async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.repository);
    await settled(frame);
    const failed = await failures(page, async () => {
      // The sample history (expressjs/express) starts in 2009.
      await frame.getByLabel('Date range').selectOption('custom');
      await frame.getByLabel('From', { exact: true }).fill('2001-01-01');
      await frame.getByLabel('To', { exact: true }).fill('2001-12-31');
      await frame.waitForURL(/from=2001-01-01&to=2001-12-31/);
      await settled(frame);
      assert.equal(numberIn(await frame.getByTestId('total-commits').textContent()), 0);
      assert.equal(numberIn(await frame.getByTestId('total-contributors').textContent()), 0);
      assert.ok((await frame.locator('[data-state="empty"]').count()) >= 3, 'the graphs say they are empty');
      await assertNoErrorCard(frame);
    });
    assert.deepEqual(failed, []);
    await context.close();
  });

  it('an empty repository, and a filter that picks only it, show empty states, not errors', async () => {
    // Tally finds a new repository when it lists the workspace again (a backfill resumed, as on reinstall).
    stack.demo.sim.addRepository(DEMO_WORKSPACE, {
      slug: EMPTY_REPO,
      history: { commits: [], refs: { branches: {} } },
    });
    await enqueueTenantBackfill(stack.demo.runtime.db.knex, stack.demo.tenantId);
    await waitForIndexing(
      stack.demo,
      (p) => p.repositories === 2 && p.ready === p.repositories && p.analyticsPending === 0,
      120_000,
    );
    const { context, page } = await newPage(stack);
    const failed = await failures(page, async () => {
      const repoFrame = await openInHost(
        page,
        stack.demo.sim.hostPageUrl(DEMO_WORKSPACE, { moduleKey: 'tally-graphs', repo: EMPTY_REPO }),
      );
      await settled(repoFrame);
      await repoFrame.getByRole('heading', { name: 'No commits in this repository yet' }).waitFor();
      assert.equal(numberIn(await repoFrame.getByTestId('total-commits').textContent()), 0);
      assert.ok((await repoFrame.locator('[data-state="empty"]').count()) >= 3);
      await assertNoErrorCard(repoFrame);

      const frame = await openInHost(page, stack.demo.pages.workspace);
      await settled(frame);
      await frame.locator('.repo-picker summary, details summary').first().click();
      await frame.getByRole('checkbox', { name: `${DEMO_WORKSPACE}/${EMPTY_REPO}` }).check();
      await frame.waitForURL(/repos=/);
      await settled(frame);
      assert.equal(numberIn(await frame.getByTestId('total-commits').textContent()), 0);
      assert.ok((await frame.locator('[data-state="empty"]').count()) >= 3);
      await assertNoErrorCard(frame);
    });
    assert.deepEqual(failed, []);
    await context.close();
  });

  it('the top-repositories chart, its table, its CSV and the picker all name acme/express with its slash, light and dark, wide and narrow', async () => {
    const name = `${DEMO_WORKSPACE}/express`;
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const width of [1280, 640]) {
        const { context, page } = await newPage(stack, { colorScheme });
        await page.setViewportSize({ width, height: 900 });
        const frame = await openInHost(page, stack.demo.pages.workspace);
        await settled(frame);
        const card = frame.locator('[data-chart-id="top-repositories"]');
        await card.locator('.recharts-yAxis-tick-labels text').first().waitFor();
        const ticks = await card.locator('.recharts-yAxis-tick-labels text').allTextContents();
        assert.ok(ticks.includes(name), `${colorScheme} ${width}px ticks: ${ticks.join(', ')}`);
        await card.getByText('Show the numbers').click();
        assert.ok((await card.locator('table td, table th').allTextContents()).includes(name));
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          card.getByRole('button', { name: 'Download Top repositories as CSV' }).click(),
        ]);
        const csv = parseCsv(readFileSync((await download.path())!, 'utf8'));
        assert.ok(
          csv.slice(1).some((row) => row[0] === name),
          `CSV: ${csv.map((r) => r[0]).join(', ')}`,
        );
        await frame.locator('details summary').first().click();
        assert.ok(
          (await frame.getByRole('group', { name: 'Choose repositories' }).textContent())!.includes(name),
        );
        await context.close();
      }
    }
  });
});
