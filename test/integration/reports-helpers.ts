import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe } from 'vitest';
import { findKernelRuntime } from '#reports/executor';

/** Helpers of the reports integration tests: the kernel and Chromium they need, and the offline check. */

const kernel = findKernelRuntime();

/** Why a test that needs a Jupyter kernel did not run (the runtime's own message names the packages). */
export const KERNEL_MISSING = 'missing' in kernel ? `skipped: ${kernel.missing}` : undefined;

export const describeWithKernel = KERNEL_MISSING ? (name: string, fn: () => void) => describe.skip(`${name} (${KERNEL_MISSING})`, fn) : describe;

/** Debian's chromium, run inside a network namespace of its own (`unshare -n`): no network at all. */
export const offlineChromium: string | undefined = (() => {
  try {
    execFileSync('unshare', ['-n', 'chromium', '--version'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    return 'chromium';
  } catch {
    return undefined;
  }
})();

export const CHROMIUM_MISSING = 'skipped: needs Debian\'s chromium and unshare (util-linux) to open reports with the network off — CI installs chromium';

const run = promisify(execFile);
const chromiumFlags = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars'];

/**
 * What a page loaded when opened in Chromium with no network: its images (and how many failed to
 * show) and every resource it fetched other than data URIs. A probe script is added to a copy of
 * the page (never to the report itself) and writes its findings into the title.
 */
export async function openOffline(htmlFile: string, scratch: string): Promise<{ images: number; broken: number; resources: string[] }> {
  const probe =
    '<script>addEventListener("load",()=>{const i=[...document.images];document.title=JSON.stringify({images:i.length,broken:i.filter(x=>!x.complete||x.naturalWidth===0).length,resources:performance.getEntriesByType("resource").map(r=>r.name).filter(n=>!n.startsWith("data:"))})})</script>';
  const probed = join(scratch, 'probed.html');
  writeFileSync(probed, readFileSync(htmlFile, 'utf8') + probe);
  const { stdout } = await run('unshare', ['-n', 'chromium', ...chromiumFlags, '--virtual-time-budget=10000', '--dump-dom', `file://${probed}`], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  const title = /<title>([^<]*)<\/title>/.exec(stdout)?.[1];
  if (!title) throw new Error('Chromium gave no page title: the probe did not run');
  return JSON.parse(title.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as { images: number; broken: number; resources: string[] };
}

/** A screenshot of a page opened with no network; `hideCode` ticks the page's own "Hide code" toggle first. */
export async function screenshotOffline(htmlFile: string, png: string, options: { size?: string; hideCode?: boolean } = {}): Promise<void> {
  const size = options.size ?? '1100,2600';
  const copy = join(png, '..', 'page.html');
  const html = readFileSync(htmlFile, 'utf8');
  writeFileSync(copy, options.hideCode ? html.replace('class="toggle">', 'class="toggle" checked>') : html);
  await run('unshare', ['-n', 'chromium', ...chromiumFlags, `--window-size=${size}`, `--screenshot=${png}`, `file://${copy}`], { timeout: 120_000 });
}
