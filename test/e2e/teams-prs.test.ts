import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame, Locator, Page } from 'playwright-core';
import {
  api,
  dayAfter,
  ARTIFACTS,
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
 * Issue 18, items 3, 5 and 6 in Chromium inside the simulator's host page, on the fully indexed sample history:
 * teams (configure page, workspace page), pull requests on the repository and profile pages, lines of code over
 * time and the day/week/month picker.
 */

/** A section's (or the whole page's) picture, kept as a test artifact and, on request, as the docs' screenshot. */
async function shot(target: Locator | Page, name: string) {
  const file =
    'goto' in target
      ? await screenshot(target, name)
      : (await target.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) }),
        path.join(ARTIFACTS, `${name}.png`));
  if (process.env.TALLY_DOCS_SCREENSHOTS === '1')
    copyFileSync(file, path.resolve('docs', 'screenshots', `${name}.png`));
}

async function csvOf(page: Page, frame: Frame, title: string): Promise<string[][]> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    frame.getByRole('button', { name: `Download ${title} as CSV` }).click(),
  ]);
  return parseCsv(readFileSync((await file.path())!, 'utf8'));
}

describe('teams, pull requests per repository and person, lines of code', { timeout: 900_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('an admin defines a team on the configure page; the workspace page compares it over time', async () => {
    const { context, page } = await newPage(stack);
    const configure = await openInHost(page, stack.demo.pages.configure);
    await settled(configure);
    const section = configure.locator('section[aria-labelledby="teams-title"]');
    await section.getByText('No teams yet.').waitFor();
    await section.getByLabel('Team name').fill('Core');
    const members = section.getByLabel('Members');
    // The three busiest people (each option says how many commits).
    const keys = await members.locator('option').evaluateAll((options) =>
      options
        .map((o) => ({
          key: (o as HTMLOptionElement).value,
          commits: Number(/\((\d+) commits\)/.exec(o.textContent ?? '')?.[1] ?? 0),
        }))
        .sort((a, b) => b.commits - a.commits)
        .slice(0, 3)
        .map((o) => o.key),
    );
    assert.equal(keys.length, 3, 'the sample history has people to pick');
    await members.selectOption(keys);
    await section.getByRole('button', { name: 'Create team' }).click();
    await section.getByRole('cell', { name: 'Core', exact: true }).waitFor();
    await shot(section, 'configure-teams');

    const workspace = await openInHost(page, stack.demo.pages.workspace);
    await settled(workspace);
    const token = await sessionToken(workspace);
    const { teams } = await api<{ teams: { id: number; name: string; members: string[] }[] }>(
      stack,
      token,
      '/teams',
    );
    assert.deepEqual(
      teams.map((t) => [t.name, [...t.members].sort()]),
      [['Core', [...keys].sort()]],
    );
    const card = workspace.locator('[data-chart-id="teams"]');
    await card.getByRole('heading', { name: 'Commits per team' }).waitFor();
    await settled(workspace);
    assert.equal(
      await card.locator('th', { hasText: 'Core' }).count(),
      1,
      'the team is a column of the numbers',
    );
    // The chart's rows are the team's weekly commits as the API counts them.
    const rows = await csvOf(page, workspace, 'Commits per team');
    assert.deepEqual(rows[0], ['period', 'Core']);
    const drawn = rows.slice(1).reduce((s, r) => s + Number(r[1]), 0);
    const series = await api<{ series: { commits: number }[] }>(
      stack,
      token,
      `/stats/activity?team=${teams[0]!.id}&interval=week&until=${dayAfter(today)}`,
    );
    assert.equal(
      drawn,
      series.series.reduce((s, p) => s + p.commits, 0),
    );
    assert.ok(drawn > 0);
    await shot(card, 'workspace-teams');
    await workspace
      .getByRole('group', { name: 'Compare' })
      .getByRole('button', { name: 'Pull requests' })
      .click();
    await workspace.getByRole('heading', { name: 'Pull requests per team' }).waitFor();
    await settled(workspace);
    await context.close();
  });

  it('the repository page shows pull requests and lines of code; the interval picker is kept in the URL', async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.repository);
    await settled(frame);
    const token = await sessionToken(frame);
    const repoUuid = new URL(frame.url()).searchParams.get('repoUuid')!;
    const scope = `repository=${encodeURIComponent(repoUuid)}&until=${dayAfter(today)}`;
    const prs = await api<{ totals: { created: number; merged: number } }>(
      stack,
      token,
      `/pull-requests/stats?${scope}&interval=week`,
    );
    assert.ok(prs.totals.created > 0, 'the sample repository has pull requests');
    assert.equal(numberIn(await frame.getByTestId('pr-created').textContent()), prs.totals.created);
    assert.equal(numberIn(await frame.getByTestId('pr-merged').textContent()), prs.totals.merged);
    const weekly = await api<{ series: { lines_total: number }[] }>(
      stack,
      token,
      `/stats/activity?${scope}&interval=week`,
    );
    const last = weekly.series.at(-1)!.lines_total;
    const lines = frame.locator('[data-chart-id="lines-total"]');
    assert.match((await lines.textContent())!.replace(/,/g, ''), new RegExp(`${last} lines at the end`));
    await shot(lines, 'repository-lines-of-code');

    await frame.getByRole('group', { name: 'Per' }).getByRole('button', { name: 'Month' }).click();
    await frame.waitForFunction(() => new URLSearchParams(location.search).get('interval') === 'month');
    await settled(frame);
    assert.match((await frame.locator('[data-chart-id="commit-activity"]').textContent())!, /per month/);
    // Reloaded from the URL the choice stays.
    const url = new URL(frame.url());
    assert.equal(url.searchParams.get('interval'), 'month');
    await shot(frame.locator('[data-chart-id="pr-created-merged"]'), 'repository-pull-requests');
    await context.close();
  });

  it("a person's profile shows their own pull requests and reviews", async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.profile);
    await settled(frame);
    const token = await sessionToken(frame);
    const me = await api<{ scope: { contributor: string } }>(stack, token, '/me');
    const person = encodeURIComponent(me.scope.contributor);
    const since = new Date(Date.parse(`${today}T00:00:00Z`) - 364 * 86_400_000).toISOString().slice(0, 10);
    const window = `since=${since}&until=${dayAfter(today)}&bots=include&interval=month`;
    const authored = await api<{ totals: { created: number } }>(
      stack,
      token,
      `/pull-requests/stats?author=${person}&${window}`,
    );
    const reviewed = await api<{ reviewers: { reviews: number; approvals: number }[] }>(
      stack,
      token,
      `/pull-requests/stats?reviewer=${person}&${window}`,
    );
    assert.equal(numberIn(await frame.getByTestId('pr-created').textContent()), authored.totals.created);
    assert.equal(
      numberIn(await frame.getByTestId('profile-reviews').textContent()),
      reviewed.reviewers[0]?.reviews ?? 0,
    );
    await shot(page, 'profile-pull-requests');
    await context.close();
  });
});
