import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, api, newPage, openInHost, sessionToken, settled, startStack, type Stack } from './stack';

/**
 * Issue 18, items 1 and 2 in Chromium inside the simulator's host page: the workspace page's project picker, and
 * the drill-down from a bar, a person and a calendar day to the commits behind them (mouse and keyboard).
 */

interface Listed {
  commits: { hash: string; author_name: string; link: string }[];
  next_cursor: string | null;
}

describe('projects and the drill-down to the commits', { timeout: 900_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('picks a project (kept in the address), and a bar or a person opens the commits behind it', async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.workspace);
    await settled(frame);
    const token = await sessionToken(frame);
    const listed = await api<{
      repositories: { project: { uuid: string; name: string; key: string } | null }[];
    }>(stack, token, '/repositories');
    const project = listed.repositories[0]!.project!;
    assert.ok(project, 'the sample repository has its project');

    const total = await frame.getByTestId('total-commits').textContent();
    const picker = frame.getByLabel('Project');
    await picker.selectOption(project.uuid);
    await frame.waitForFunction(
      (uuid) => new URLSearchParams(location.search).get('projects') === uuid,
      project.uuid,
    );
    await settled(frame);
    // The sample's one repository is in that project: the same figures.
    assert.equal(await frame.getByTestId('total-commits').textContent(), total);

    // A bar of commit activity, clicked: a modal dialog with that period's commits, newest first.
    const bars = frame.locator('[data-chart-id="commit-activity"] .recharts-bar-rectangle path');
    await bars.last().click();
    const dialog = frame.getByRole('dialog');
    await dialog.waitFor();
    await frame.getByTestId('commit-item').first().waitFor();
    const items = frame.getByTestId('commit-item');
    assert.ok((await items.count()) > 0 && (await items.count()) <= 50);
    const link = await items.first().locator('a.hash').getAttribute('href');
    assert.match(link!, /\/acme\/express\/commits\/[0-9a-f]{40}$/);
    const file = path.join(ARTIFACTS, 'workspace-commits.png');
    await dialog.screenshot({ path: file });
    if (process.env.TALLY_DOCS_SCREENSHOTS === '1')
      copyFileSync(file, path.resolve('docs', 'screenshots', 'workspace-commits.png'));
    // Escape closes it.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // Keyboard only: the numbers table's "Commits" button of a period, then Enter.
    await frame.locator('[data-chart-id="commit-activity"] details.data-table summary').focus();
    await page.keyboard.press('Enter');
    const rowButton = frame.locator('[data-chart-id="commit-activity"] details.data-table button').last();
    await rowButton.focus();
    await page.keyboard.press('Enter');
    await frame.getByTestId('commit-item').first().waitFor();
    await frame.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });

    // A person: their commits only, the same as the API lists.
    const card = frame.getByTestId('contributor-card').first();
    const name = (await card.locator('.name').textContent())!;
    await card.getByRole('button', { name: `Commits by ${name}` }).click();
    await frame.getByTestId('commit-item').first().waitFor();
    const authors = await frame.getByTestId('commit-item').locator('.subtlest').allTextContents();
    assert.ok(
      authors.every((a) => a.includes(name)),
      `every commit is ${name}'s`,
    );
    const key = await api<{ contributors: { key: string; display_name: string }[] }>(
      stack,
      token,
      '/stats/contributors',
    );
    const theirs = key.contributors.find((c) => c.display_name === name)!;
    const expected = await api<Listed>(
      stack,
      token,
      `/commits?contributor=${encodeURIComponent(theirs.key)}`,
    );
    const shown = await frame.getByTestId('commit-item').locator('a.hash').allTextContents();
    assert.deepEqual(
      shown,
      expected.commits.map((c) => c.hash.slice(0, 7)),
    );
    if (expected.next_cursor) {
      await frame.getByRole('button', { name: 'Load more' }).click();
      await frame.waitForFunction(() => document.querySelectorAll('[data-testid="commit-item"]').length > 50);
    }
    await context.close();
  });

  it("a day of a person's calendar opens that day's commits", async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.profile);
    await settled(frame);
    const day = frame.locator('svg[data-chart="calendar"] rect[role="button"]').first();
    assert.ok((await day.count()) > 0, "the sample's person has commits in the last year");
    const count = Number(await day.getAttribute('data-count'));
    await day.focus();
    await page.keyboard.press('Enter');
    await frame.getByRole('dialog').waitFor();
    await frame.waitForFunction(
      () => !document.querySelector('[data-testid="commit-list"][aria-busy="true"]'),
    );
    assert.equal(await frame.getByTestId('commit-item').count(), Math.min(count, 50));
    await context.close();
  });
});
