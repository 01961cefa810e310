import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { startDemo, waitForIndexing, type Demo } from '../../src/main/demo';
import { createTestDatabase, type TestDatabase } from '../support/db';

/**
 * The demo stack for browser tests: a fresh database from the run's template, the simulator with the sample
 * history, Tally's web and worker roles, and Debian's Chromium (never a downloaded browser).
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const ARTIFACTS = path.resolve('test-results', 'screenshots');

export interface Stack {
  demo: Demo;
  database: TestDatabase;
  browser: Browser;
  close(): Promise<void>;
}

/** `forge`: Tally installed as the Forge app, its pages the Custom UI ones (`npm run demo -- --forge`). */
export async function startStack(options: { forge?: boolean } = {}): Promise<Stack> {
  const database = await createTestDatabase();
  const demo = await startDemo({
    forge: options.forge ?? false,
    tallyPort: 0,
    simulatorWebPort: 0,
    simulatorApiPort: 0,
    databaseUrl: database.appUrl,
    databaseAdminUrl: database.adminUrl,
    logLevel: 'silent',
  });
  // Every number compared below is final only once every commit has its line counts and the graphs include them.
  await waitForIndexing(
    demo,
    (p) => p.repositories > 0 && p.ready === p.repositories && p.analyticsPending === 0,
    600_000,
  );
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    demo,
    database,
    browser,
    async close() {
      await browser.close();
      await demo.stop();
      await database.drop();
    },
  };
}

export async function newPage(
  stack: Stack,
  options: { colorScheme?: 'light' | 'dark' } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await stack.browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    acceptDownloads: true,
  });
  return { context, page: await context.newPage() };
}

/** The host page's frame of Tally: a Connect iframe or a Forge Custom UI one. */
export const TALLY_FRAME = 'iframe[data-ap-frame], iframe[data-forge-frame]';

/** Opens a host page and returns Tally's frame once its page has rendered its heading. */
export async function openInHost(page: Page, hostUrl: string): Promise<Frame> {
  await page.goto(hostUrl);
  const handle = await page.waitForSelector(TALLY_FRAME);
  const frame = (await handle.contentFrame())!;
  await frame.waitForSelector('main h1');
  return frame;
}

/**
 * The host sized the frame to its document, so nothing scrolls inside it (the frame is cross-origin, so its height
 * is read inside it and compared with the iframe element's in the host).
 */
export async function assertFrameFits(page: Page, frame: Frame, name: string): Promise<void> {
  const frameElement = await frame.frameElement();
  let inner = 0;
  let outer = 0;
  for (let tries = 0; tries < 50; tries++) {
    inner = await frame.evaluate(() => document.documentElement.scrollHeight);
    outer = (await frameElement.boundingBox())!.height;
    if (Math.abs(inner - outer) <= 2) break;
    await page.waitForTimeout(100);
  }
  assert.ok(inner > 200 && Math.abs(inner - outer) <= 2, `${name}: frame ${outer}px for content ${inner}px`);
}

/** The session token Tally minted for the page (for comparing with the API directly). */
export async function sessionToken(frame: Frame): Promise<string> {
  return (await frame.locator('meta[name="tally-token"]').getAttribute('content'))!;
}

export async function api<T>(stack: Stack, token: string, pathAndQuery: string): Promise<T> {
  const res = await fetch(`${stack.demo.tallyUrl}/api/v1${pathAndQuery}`, {
    headers: { authorization: `JWT ${token}` },
  });
  if (!res.ok) throw new Error(`${pathAndQuery}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Waits until no chart on the page is loading (skeletons gone, nothing busy). */
export async function settled(frame: Frame): Promise<void> {
  await frame.waitForFunction(
    () =>
      !document.querySelector('.skeleton, [aria-busy="true"]') &&
      document.querySelectorAll('main').length > 0,
    undefined,
    { timeout: 30_000 },
  );
}

/** A full-height screenshot: the viewport grows to the host page so the frame paints all of its content. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 900), 6000) });
  await page.waitForTimeout(300);
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  return file;
}

/** RFC 4180 CSV → rows of cells (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const input = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (quoted) {
      if (c === '"' && input[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && input[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

export const numberIn = (text: string | null) => Number((text ?? '').replace(/[^\d-]/g, ''));

/** Today's UTC date, and the day after a date (YYYY-MM-DD): the range ends the page tests type. */
export const today = new Date().toISOString().slice(0, 10);
export const dayAfter = (day: string) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
