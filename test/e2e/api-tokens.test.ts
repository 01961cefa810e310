import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, newPage, openInHost, settled, startStack, type Stack } from './stack';

/** Issue 18, item 4: the configure page's "API tokens" section, in Chromium inside the simulator's host page. */
describe('API tokens on the configure page', { timeout: 900_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('creates a token shown once, which reads the API, lists it, and revokes it', async () => {
    const { context, page } = await newPage(stack);
    const frame = await openInHost(page, stack.demo.pages.configure);
    await settled(frame);
    const section = frame.locator('section[aria-labelledby="tokens-title"]');
    await section.getByLabel('Name').fill('Looker dashboard');
    await section.getByRole('button', { name: 'Create token' }).click();
    const shown = section.getByLabel('New API token');
    await shown.waitFor();
    const token = await shown.inputValue();
    assert.match(token, /^tly_[A-Za-z0-9_-]{43}$/);
    await section.getByRole('cell', { name: 'Looker dashboard', exact: true }).waitFor();

    const read = (p: string) =>
      fetch(`${stack.demo.tallyUrl}/api/v1${p}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await read('/stats/contributors')).status, 200);
    assert.equal((await read('/settings')).status, 403);

    const file = path.join(ARTIFACTS, 'configure-api-tokens.png');
    await section.screenshot({ path: file });
    if (process.env.TALLY_DOCS_SCREENSHOTS === '1')
      copyFileSync(file, path.resolve('docs', 'screenshots', 'configure-api-tokens.png'));

    // Reloaded, the page lists the token but never shows its secret again.
    const again = await openInHost(page, stack.demo.pages.configure);
    await settled(again);
    const listed = again.locator('section[aria-labelledby="tokens-title"]');
    await listed.getByRole('cell', { name: 'Looker dashboard', exact: true }).waitFor();
    assert.equal(await listed.getByLabel('New API token').count(), 0);
    assert.ok(!(await again.content()).includes(token));

    await listed.getByRole('button', { name: 'Revoke Looker dashboard' }).click();
    await listed.getByText('No tokens yet.').waitFor();
    assert.equal((await read('/stats/contributors')).status, 401);
    await context.close();
  });
});
