import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { hasChromium, itWithChromium, startBrowser, type ConsoleBrowser } from './console-helpers.ts';
import { repoRoot } from './local-helpers.ts';
import { outcomeOfSlot, startIngestRuntime, type IngestRuntime } from './ingest-helpers.ts';

/**
 * The web console driven in headless Chromium (Debian's chromium, through playwright-core) against
 * the local runtime `npm start` boots, with example data: a published readings file and a
 * quarantined one. It signs in through the banner's token link, opens the datasets, a dataset, a
 * version (and downloads it), the uploads filtered to the quarantined one and its report, and
 * runs axe-core on each page: no serious or critical violation may remain.
 *
 * With SYMBIONT_SCREENSHOTS=<dir> (`npm run screenshots`) each page is also saved there as PNG.
 */

const VALID = readFileSync(join(repoRoot, 'examples', 'data', 'readings-2025-01-06.csv'));
const INVALID = 'sensor_id,taken_at,temperature,status\nS0001,2025-01-06T00:00:00Z,hot,ok\nS0002,2025-01-06T00:00:00Z,4.1,sunny\nS003,2025-01-06T00:00:00Z,3.9,ok\n';

let ctx: IngestRuntime;
let chromium: ConsoleBrowser;
let browser: Browser;
let page: Page;

/** Sends a file through an upload slot with the admin token, as the CLI does, and waits for its outcome. */
async function upload(file: string, body: Buffer | string): Promise<string> {
  const { endpoints } = ctx.runtime;
  const opened = await fetch(`${endpoints.api}/datasets/readings/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${endpoints.tokens.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ file }),
  });
  expect(opened.status).toBe(201);
  const slot = (await opened.json()) as { slotId: string; url: string; headers: Record<string, string> };
  const put = await fetch(slot.url, { method: 'PUT', headers: slot.headers, body });
  expect(put.ok).toBe(true);
  return (await outcomeOfSlot(ctx, slot.slotId, 60_000)).status;
}

beforeAll(async () => {
  if (!hasChromium) return;
  ctx = await startIngestRuntime({ label: 'console' });
  expect(await upload('readings-2025-01-06.csv', VALID)).toBe('published');
  expect(await upload('bad-readings.csv', INVALID)).toBe('quarantined');
  // bypassCSP: axe-core is injected as an inline script, which the console's CSP rightly refuses.
  chromium = await startBrowser({ bypassCSP: true, acceptDownloads: true });
  ({ browser, page } = chromium);
}, 180_000);

afterAll(async () => {
  await chromium?.browser.close();
  await ctx?.stop();
});

describe('the web console in headless Chromium', () => {
  itWithChromium('signs in through the banner link and lists the datasets', async () => {
    await page.goto(ctx.runtime.endpoints.console);
    // The token is gone from the address bar: the cookie carries it now.
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    const row = page.getByRole('row', { name: /readings/ });
    await row.waitFor();
    await expect(row.getByRole('link', { name: 'Version 1' }).count()).resolves.toBe(1);
    await expect(page.getByText('Signed in as').textContent()).resolves.toContain('local-admin');
    await expect(page.getByRole('link', { name: 'SFTP users' }).count()).resolves.toBe(1);
    await chromium.snapshot('datasets');
    expect(await chromium.seriousViolations()).toEqual([]);
  });

  itWithChromium('opens a dataset: its spec column by column and its versions', async () => {
    await page.getByRole('link', { name: 'readings', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Dataset readings' }).waitFor();
    const columns = page.getByRole('table', { name: 'Columns of the spec' });
    await columns.waitFor();
    await expect(columns.getByRole('row').count()).resolves.toBe(5);
    await expect(columns.getByRole('row', { name: /temperature/ }).textContent()).resolves.toMatch(/number.*yes.*at least -60; at most 60/);
    const versions = page.getByRole('table', { name: 'Versions, newest first' });
    await versions.waitFor();
    await expect(versions.getByRole('row', { name: /Version 1/ }).textContent()).resolves.toContain('readings-2025-01-06.csv');
    await chromium.snapshot('dataset');
    expect(await chromium.seriousViolations()).toEqual([]);
  });

  itWithChromium('opens a version, shows its profile per column and downloads it through its presigned URL', async () => {
    await page.getByRole('table', { name: 'Versions, newest first' }).getByRole('link', { name: 'Version 1' }).click();
    await page.getByRole('heading', { level: 1, name: 'readings, version 1' }).waitFor();
    const profile = page.getByRole('table', { name: 'Column profile' });
    await profile.waitFor();
    await expect(profile.getByRole('row').count()).resolves.toBe(5);
    await expect(profile.getByRole('row', { name: /sensor_id/ }).count()).resolves.toBe(1);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Download readings-2025-01-06\.csv/ }).click()]);
    expect(download.suggestedFilename()).toBe('readings-v1-readings-2025-01-06.csv');
    const saved = await download.path();
    expect(readFileSync(saved)).toEqual(VALID);
    await page.getByText('Your browser is saving').waitFor();
    await chromium.snapshot('version');
    expect(await chromium.seriousViolations()).toEqual([]);
  });

  itWithChromium('filters the uploads to the quarantined ones and opens the report: row, column, rule, value and what to do', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Uploads' }).click();
    await page.getByRole('heading', { level: 1, name: 'Uploads' }).waitFor();
    await page.getByRole('row', { name: /bad-readings\.csv/ }).waitFor();
    await page.getByLabel('Status').selectOption('quarantined');
    await page.getByLabel('Source').selectOption('api');
    await page.getByRole('button', { name: 'Show uploads' }).click();
    await page.waitForURL(/#\/uploads\?status=quarantined&source=api$/);
    await page.getByText('Showing the only upload.').waitFor();
    const rows = page.getByRole('row', { name: /readings/ });
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.textContent()).resolves.toContain('Quarantined');
    await chromium.snapshot('uploads');
    expect(await chromium.seriousViolations()).toEqual([]);

    await page.getByRole('link', { name: 'Read the report for bad-readings.csv' }).click();
    await page.getByRole('heading', { level: 1, name: 'Upload bad-readings.csv' }).waitFor();
    const problems = page.locator('table.problems');
    await problems.waitFor();
    const hot = problems.getByRole('row', { name: /hot/ });
    await expect(hot.textContent()).resolves.toMatch(/^1\s*temperature\s*type\.number\s*hot/);
    await expect(hot.textContent()).resolves.toContain('Write a decimal number');
    await expect(problems.getByRole('row', { name: /sunny/ }).textContent()).resolves.toMatch(/^2\s*status/);
    await chromium.snapshot('upload-report');
    expect(await chromium.seriousViolations()).toEqual([]);
  });

  itWithChromium('pages through the uploads with "Load more", following the API\'s cursor', async () => {
    await page.goto(`${ctx.runtime.endpoints.api}/#/uploads?limit=1`);
    const rows = page.getByRole('table', { name: 'Uploads, newest first' }).getByRole('row');
    await page.getByRole('button', { name: 'Load more uploads' }).waitFor();
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.nth(1).textContent()).resolves.toContain('bad-readings.csv');

    const more = page.getByRole('button', { name: 'Load more uploads' });
    await more.click();
    await page.getByRole('row', { name: /readings-2025-01-06\.csv/ }).waitFor();
    await expect(rows.count()).resolves.toBe(3);
    // A full page may still carry a cursor (the table cannot know that nothing follows); the page after it is empty.
    if (await more.isVisible()) await more.click();
    // The last page has no cursor: no button, and the list says it is whole.
    await page.getByText('Showing all 2 uploads.').waitFor();
    await expect(more.count()).resolves.toBe(0);
    await expect(rows.count()).resolves.toBe(3);
  });

  itWithChromium('can be used with the keyboard: the first Tab reaches "Skip to content", which moves focus to the page', async () => {
    await page.goto(`${ctx.runtime.endpoints.api}/#/datasets`);
    // A fresh document: the focus starts at the top, as when the page is opened.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    await page.keyboard.press('Tab');
    await expect(page.evaluate<string | undefined>('document.activeElement?.textContent')).resolves.toBe('Skip to content');
    await page.keyboard.press('Enter');
    await expect(page.evaluate<string | undefined>('document.activeElement?.id')).resolves.toBe('main');
    await page.keyboard.press('Tab');
    await expect(page.evaluate<string | undefined>('document.activeElement?.textContent')).resolves.toBe('readings');
  });

  itWithChromium('shows SFTP users to an admin and hides them from a scientist', async () => {
    await page.goto(`${ctx.runtime.endpoints.api}/#/sftp-users`);
    await page.getByRole('row', { name: /alice/ }).waitFor();
    await expect(page.getByRole('row', { name: /alice/ }).textContent()).resolves.toContain('the config');
    await chromium.snapshot('sftp-users');
    expect(await chromium.seriousViolations()).toEqual([]);

    const scientist = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const other = await scientist.newPage();
      await other.goto(`${ctx.runtime.endpoints.api}/?token=${encodeURIComponent(ctx.runtime.endpoints.tokens.scientist)}`);
      await other.getByText('Signed in as').waitFor();
      await expect(other.getByText('Signed in as').textContent()).resolves.toContain('scientist');
      await expect(other.getByRole('link', { name: 'SFTP users' }).count()).resolves.toBe(0);
      await other.goto(`${ctx.runtime.endpoints.api}/#/sftp-users`);
      await other.getByRole('alert').waitFor();
      await expect(other.getByRole('alert').textContent()).resolves.toContain('Only admins see the SFTP users');
    } finally {
      await scientist.close();
    }
  });

  itWithChromium('without the cookie, says how to sign in', async () => {
    const fresh = await browser.newContext();
    try {
      const other = await fresh.newPage();
      await other.goto(`${ctx.runtime.endpoints.api}/`);
      await other.getByRole('heading', { level: 1, name: 'Sign in to Symbiont' }).waitFor();
      await expect(other.getByRole('main').textContent()).resolves.toContain('?token=');
    } finally {
      await fresh.close();
    }
  });
});
