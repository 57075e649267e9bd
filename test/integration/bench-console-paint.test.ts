import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { paintTime } from '../../bench/console.ts';
import { hasChromium, itWithChromium, launchChromium } from './console-helpers.ts';

/** The console benchmark's paint probe, on pages made for it: a number when the selector shows, a clear error when it never does. */

let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  if (!hasChromium) return;
  browser = await launchChromium();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const html = (body: string) => `data:text/html,${encodeURIComponent(`<!doctype html><meta charset="utf-8"><main>${body}</main>`)}`;

describe('paintTime', () => {
  itWithChromium('reads the page clock when the selector becomes visible', async () => {
    const url = html(`<table><tbody></tbody></table><script>setTimeout(() => { document.querySelector('tbody').innerHTML = '<tr><td>row</td></tr>'; }, 50);</script>`);
    const ms = await paintTime(page, url, 'main table tbody tr', 10_000);
    expect(ms).toBeGreaterThan(0);
  });

  itWithChromium('does not count a hidden element as painted, and names the selector it waited for', async () => {
    const url = html('<figure class="trend" hidden><canvas></canvas></figure><p>Loading the trend…</p>');
    await expect(paintTime(page, url, 'main figure.trend canvas', 500)).rejects.toThrow(/"main figure\.trend canvas" was not visible within 0\.5 s; the page's main says: Loading the trend…/);
  });
});
