import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { it } from 'vitest';
import { repoRoot } from './local-helpers.ts';

/**
 * Shared by the console tests in headless Chromium (Debian's chromium, through playwright-core): the
 * browser found or the test skipped with why, the browser started as every test starts it, axe-core
 * run on the page, and the page saved as PNG when SYMBIONT_SCREENSHOTS=<dir> (`npm run screenshots`).
 */

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Why a test that needs Chromium did not run; undefined when it is there. */
export const CHROMIUM_ABSENT = hasChromium ? undefined : `skipped: needs Debian's chromium at ${CHROMIUM} — apt-get install chromium`;

/** `it` when Chromium is there, a skip that says why otherwise. Generous by default: a browser shares two cores with the other suites in CI. */
export function itWithChromium(name: string, fn: () => Promise<void>, timeout = 120_000): void {
  if (hasChromium) it(name, fn, timeout);
  else it.skip(`${name} (${CHROMIUM_ABSENT})`, fn);
}

/** Launches Chromium as the console tests need it (root in CI: Chromium's sandbox needs user namespaces it may not have there). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export interface ConsoleBrowserOptions {
  /**
   * Turns the console's Content-Security-Policy off, so axe-core is injected as an inline script
   * (which the policy rightly refuses). Without it the page keeps the policy and axe-core is
   * evaluated through the DevTools protocol, which the policy does not govern.
   */
  readonly bypassCSP?: boolean;
  readonly acceptDownloads?: boolean;
  /** Whether axe-core looks into the page's frames too (default true). */
  readonly axeFrames?: boolean;
}

export interface ConsoleBrowser {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** axe-core on the page as it is now: the serious and critical violations, as `rule (impact): target` lines. */
  seriousViolations(): Promise<string[]>;
  /** Saves the page as `<name>.png` in SYMBIONT_SCREENSHOTS; nothing without it. */
  snapshot(name: string): Promise<void>;
}

const screenshots = process.env.SYMBIONT_SCREENSHOTS ? resolve(repoRoot, process.env.SYMBIONT_SCREENSHOTS) : undefined;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const axeTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/** Chromium with one context (a 1366×900 viewport) and one page in it. */
export async function startBrowser(options: ConsoleBrowserOptions = {}): Promise<ConsoleBrowser> {
  const browser = await launchChromium();
  const context = await browser.newContext({
    viewport: { width: 1366, height: 900 },
    ...(options.bypassCSP ? { bypassCSP: true } : {}),
    ...(options.acceptDownloads ? { acceptDownloads: true } : {}),
  });
  const page = await context.newPage();
  const axeOptions = { runOnly: { type: 'tag', values: axeTags }, ...(options.axeFrames === false ? { iframes: false } : {}) };
  return {
    browser,
    context,
    page,
    async seriousViolations() {
      if (options.bypassCSP) await page.addScriptTag({ content: axeSource });
      else await page.evaluate(axeSource);
      // A string, evaluated in the page: the tests are compiled without the DOM's types.
      const results = await page.evaluate<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }>(`axe.run(document, ${JSON.stringify(axeOptions)})`);
      return results.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${JSON.stringify(n.target)}`));
    },
    async snapshot(name) {
      if (!screenshots) return;
      mkdirSync(screenshots, { recursive: true });
      await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
    },
  };
}
