import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '#config/load';
import type { Endpoints } from '#local/endpoints';
import { logger } from '#shared/observability';
import { Table } from '#store/table';
import { seedEvaluations, type SeedResult } from './console-seed.ts';
import { median, type Benchmark, type Figure } from './harness.ts';
import { repoRoot, startRuntime, until } from './noop-runtime.ts';

/**
 * The console with ten thousand evaluations: `npm start`'s runtime in a process of its own, 10,000
 * evaluations of the `forecast` pipeline seeded into its table through the store's functions
 * (bench/console-seed.ts: 200 default-branch heads of `model`, regressions among them; the seeded
 * data folder is kept in bench/data, as the other generated inputs are), then
 * - the API's own response time (median of N) for the evaluations list's first page and for the
 *   `mae` trend on `readings`, beside `GET /health` in the same run;
 * - in headless Chromium (Debian's, through playwright-core), the time from navigation start to
 *   the first meaningful paint of the evaluations page (its table's first row visible) and of the
 *   trend page (its chart's canvas visible), median of several navigations, each beside the API's
 *   response time for the same data;
 * - the evaluations page's JS heap once shown, beside the datasets page's, and how many rows and
 *   API bytes it loaded: a page, never all ten thousand.
 */

const CHROMIUM = '/usr/bin/chromium';
const PIPELINE = 'forecast';
const METRIC = 'mae';
const DATASET = 'readings';
const LIST_PATH = '/evaluations?limit=50';
const TREND_PATH = `/pipelines/${PIPELINE}/trend?metric=${METRIC}&dataset=${DATASET}`;
/** The console pages and what shows that they painted their data (the pages' contract). */
export const CONSOLE_PAGES = {
  evaluations: { hash: '#/evaluations', selector: 'main table tbody tr' },
  trend: { hash: `#/pipelines/${PIPELINE}/trend?metric=${METRIC}&dataset=${DATASET}`, selector: 'main figure.trend canvas' },
  datasets: { hash: '#/datasets', selector: 'main table tbody tr' },
} as const;
/** How long a page may take to show its selector before the benchmark says which one it missed. */
const PAINT_TIMEOUT_MS = 30_000;

export interface ConsoleBenchOptions {
  readonly evaluations: number;
  readonly heads: number;
  /** API calls timed per route (after two untimed). */
  readonly apiRounds: number;
  /** Navigations timed per page (after one untimed). */
  readonly navigations: number;
}

export interface ConsoleTimings {
  readonly seeded: SeedResult;
  readonly seedMs: number;
  readonly healthMs: number;
  readonly listMs: number;
  readonly listBytes: number;
  readonly trendMs: number;
  readonly trendBytes: number;
  /** Undefined without Chromium. */
  readonly browser?: {
    readonly evaluationsPaintMs: number;
    /** The API call the evaluations page made, and its response time (median) as the bench makes it. */
    readonly evaluationsApiPath: string;
    readonly evaluationsApiMs: number;
    readonly trendPaintMs: number;
    readonly trendApiPath: string;
    readonly trendApiMs: number;
    readonly evaluationsHeapMb: number;
    readonly datasetsHeapMb: number;
    readonly evaluationsRows: number;
    /** API responses the evaluations page fetched: how many, and their bytes. */
    readonly evaluationsApiCalls: number;
    readonly evaluationsApiBytes: number;
  };
}

/** Times `call` `rounds` times after two untimed calls; the median in ms and the body's size. */
async function timeApi(url: string, token: string, rounds: number): Promise<{ ms: number; bytes: number }> {
  let bytes = 0;
  const once = async () => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const body = await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url} answered ${response.status}: ${Buffer.from(body).toString().slice(0, 500)}`);
    bytes = body.byteLength;
  };
  await once();
  await once();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await once();
    times.push(performance.now() - start);
  }
  return { ms: median(times), bytes };
}

/**
 * Milliseconds from navigation start to the first animation frame in which `selector` is visible,
 * read by the page's own clock (performance.now() counts from the navigation's start). A page that
 * never shows it fails naming the selector.
 */
export async function paintTime(page: Page, url: string, selector: string, timeoutMs = PAINT_TIMEOUT_MS): Promise<number> {
  // Leave the console first: a hash change alone would not load the page again.
  await page.goto('about:blank');
  await page.goto(url, { waitUntil: 'commit', timeout: timeoutMs });
  try {
    const handle = await page.waitForFunction(
      (sel: string) => {
        // Runs in the page (this file is compiled without the DOM's types).
        const element = (globalThis as unknown as { document: { querySelector(s: string): { checkVisibility(): boolean; getBoundingClientRect(): { height: number } } | null } }).document.querySelector(sel);
        return element !== null && element.checkVisibility() && element.getBoundingClientRect().height > 0 ? performance.now() : false;
      },
      selector,
      { polling: 'raf', timeout: timeoutMs },
    );
    return (await handle.jsonValue()) as number;
  } catch (error) {
    const main = await page.locator('main').first().textContent({ timeout: 1_000 }).catch(() => undefined);
    throw new Error(`${url}: "${selector}" was not visible within ${timeoutMs / 1000} s${main ? `; the page's main says: ${main.slice(0, 300)}` : ''}`, { cause: error });
  }
}

/** JS heap in use, MB, after a garbage collection (Chrome DevTools Protocol). */
async function heapMb(context: BrowserContext, page: Page): Promise<number> {
  const cdp = await context.newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('Performance.enable');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const used = metrics.find((m) => m.name === 'JSHeapUsedSize');
    if (!used) throw new Error('Chromium reported no JSHeapUsedSize');
    return used.value / (1024 * 1024);
  } finally {
    await cdp.detach();
  }
}

async function publishReadings(endpoints: Endpoints): Promise<number> {
  const s3 = new S3Client({ endpoint: endpoints.s3, region: endpoints.region, credentials: { ...endpoints.credentials }, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  const headers = { authorization: `Bearer ${endpoints.tokens.admin}` };
  try {
    let version = 0;
    for (const file of ['readings-2025-01-06.csv', 'readings-2025-01-09.csv']) {
      await s3.send(new PutObjectCommand({ Bucket: endpoints.buckets.landing, Key: `api/${DATASET}/bench-${version + 1}/${file}`, Body: readFileSync(join(repoRoot, 'examples', 'data', file)) }));
      const expected = version + 1;
      version = await until(`${DATASET} version ${expected}`, async () => {
        const response = await fetch(`${endpoints.api}/datasets/${DATASET}/versions/latest`, { headers });
        const latest = response.ok ? ((await response.json()) as { version: number }).version : 0;
        return latest >= expected ? latest : undefined;
      }, 60_000);
    }
    return version;
  } finally {
    s3.destroy();
  }
}

async function measureInBrowser(endpoints: Endpoints, navigations: number): Promise<Omit<NonNullable<ConsoleTimings['browser']>, 'evaluationsApiMs' | 'trendApiMs'>> {
  const { chromium } = await import('playwright-core');
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    // Signs in: the banner's link sets the session cookie.
    await page.goto(endpoints.console);
    const url = (hash: string) => `${endpoints.api}/${hash}`;
    /** The first API call of the untimed navigation whose path is `apiPath`: what the page asked for. */
    const paints = async (which: keyof typeof CONSOLE_PAGES, apiPath: (path: string) => boolean) => {
      const { hash, selector } = CONSOLE_PAGES[which];
      const asked: string[] = [];
      const onRequest = (request: import('playwright-core').Request) => {
        const called = new URL(request.url());
        if (called.origin === new URL(endpoints.api).origin && apiPath(called.pathname)) asked.push(`${called.pathname}${called.search}`);
      };
      page.on('request', onRequest);
      await paintTime(page, url(hash), selector);
      page.off('request', onRequest);
      if (!asked[0]) throw new Error(`${hash} painted ${selector} without calling the API path it shows`);
      const times: number[] = [];
      for (let i = 0; i < navigations; i++) times.push(await paintTime(page, url(hash), selector));
      return { ms: median(times), apiPath: asked[0] };
    };
    const evaluationsPaint = await paints('evaluations', (path) => path === '/evaluations');
    const trendPaint = await paints('trend', (path) => path === `/pipelines/${PIPELINE}/trend`);

    // Memory and what the list loaded, on one more navigation.
    await paintTime(page, url(CONSOLE_PAGES.datasets.hash), CONSOLE_PAGES.datasets.selector);
    const datasetsHeapMb = await heapMb(context, page);
    const responses: { url: string; bytes: number }[] = [];
    const onResponse = async (response: import('playwright-core').Response) => {
      if (new URL(response.url()).pathname.startsWith('/evaluations')) responses.push({ url: response.url(), bytes: (await response.body().catch(() => Buffer.alloc(0))).length });
    };
    page.on('response', onResponse);
    await paintTime(page, url(CONSOLE_PAGES.evaluations.hash), CONSOLE_PAGES.evaluations.selector);
    await page.waitForLoadState('networkidle');
    page.off('response', onResponse);
    const evaluationsHeapMb = await heapMb(context, page);
    const evaluationsRows = await page.locator(CONSOLE_PAGES.evaluations.selector).count();
    return {
      evaluationsPaintMs: evaluationsPaint.ms,
      evaluationsApiPath: evaluationsPaint.apiPath,
      trendPaintMs: trendPaint.ms,
      trendApiPath: trendPaint.apiPath,
      evaluationsHeapMb,
      datasetsHeapMb,
      evaluationsRows,
      evaluationsApiCalls: responses.length,
      evaluationsApiBytes: responses.reduce((sum, r) => sum + r.bytes, 0),
    };
  } finally {
    await browser?.close();
  }
}

/**
 * The seeded runtime's data folder, kept in `cacheDir` like the other generated inputs: named by
 * the seed's size and a hash of the code and config that shape what it writes, so a change to any
 * of them seeds afresh.
 */
function seedFolder(cacheDir: string, options: ConsoleBenchOptions): string {
  const shaping = ['bench/console-seed.ts', 'layers/store/evaluations.ts', 'layers/store/keys.ts', 'layers/store/commits.ts', 'layers/store/links.ts', 'symbiont.config.json'];
  const hash = createHash('sha256');
  for (const file of shaping) hash.update(readFileSync(join(repoRoot, file)));
  return join(cacheDir, `console-${options.evaluations}-${options.heads}-${hash.digest('hex').slice(0, 12)}`);
}

interface SeededFolder {
  readonly seeded: SeedResult;
  readonly seedMs: number;
  readonly latestVersion: number;
}

async function stopRuntime(runtime: ChildProcess | undefined): Promise<void> {
  if (runtime && runtime.exitCode === null) {
    const exited = new Promise((resolve) => runtime.once('exit', resolve));
    runtime.kill('SIGINT');
    await exited;
  }
}

/** Seeds a fresh runtime in `folder` (two `readings` versions, then the evaluations) and records what it wrote. */
async function seedRuntime(folder: string, configFile: string, options: ConsoleBenchOptions): Promise<SeededFolder> {
  rmSync(folder, { recursive: true, force: true });
  const dataDir = join(folder, '.symbiont');
  const runtime = await startRuntime(configFile, dataDir);
  try {
    const endpoints = JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8')) as Endpoints;
    const latestVersion = await publishReadings(endpoints);
    const document = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: endpoints.dynamodb, region: endpoints.region, credentials: { ...endpoints.credentials } }), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const start = performance.now();
    // Quiet: reportCommit logs each head it moves.
    const level = logger.getLevelName();
    logger.setLogLevel('WARN');
    try {
      const seeded = await seedEvaluations(new Table(document, endpoints.table.name), loadConfig(configFile).config, {
        pipeline: PIPELINE,
        dataset: DATASET,
        latestVersion,
        evaluations: options.evaluations,
        heads: options.heads,
      });
      const result = { seeded, seedMs: performance.now() - start, latestVersion };
      await stopRuntime(runtime);
      writeFileSync(join(folder, 'seeded.json'), `${JSON.stringify(result, null, 2)}\n`);
      return result;
    } finally {
      logger.setLogLevel(level);
      document.destroy();
    }
  } catch (error) {
    await stopRuntime(runtime);
    rmSync(folder, { recursive: true, force: true });
    throw error;
  } finally {
    await stopRuntime(runtime);
  }
}

/** Seeds (once, kept in `cacheDir`) and measures. */
export async function measureConsole(cacheDir: string, options: ConsoleBenchOptions): Promise<ConsoleTimings & { cached: boolean }> {
  const configFile = join(repoRoot, 'symbiont.config.json');
  const folder = seedFolder(cacheDir, options);
  const marker = join(folder, 'seeded.json');
  const cached = existsSync(marker);
  if (!cached) process.stderr.write(`bench: console: seeding ${options.evaluations} evaluations into ${folder} (kept for later runs)\n`);
  const { seeded, seedMs } = cached ? (JSON.parse(readFileSync(marker, 'utf8')) as SeededFolder) : await seedRuntime(folder, configFile, options);
  let runtime: ChildProcess | undefined;
  try {
    const dataDir = join(folder, '.symbiont');
    runtime = await startRuntime(configFile, dataDir);
    const endpoints = JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8')) as Endpoints;
    const token = endpoints.tokens.admin;
    const health = await timeApi(`${endpoints.api}/health`, token, options.apiRounds);
    const list = await timeApi(`${endpoints.api}${LIST_PATH}`, token, options.apiRounds);
    const trendCall = await timeApi(`${endpoints.api}${TREND_PATH}`, token, Math.ceil(options.apiRounds / 2));
    const inBrowser = existsSync(CHROMIUM) ? await measureInBrowser(endpoints, options.navigations) : undefined;
    // Each page's paint stands beside the very call it made, timed here as the API figures are.
    const browser = inBrowser && {
      ...inBrowser,
      evaluationsApiMs: inBrowser.evaluationsApiPath === LIST_PATH ? list.ms : (await timeApi(`${endpoints.api}${inBrowser.evaluationsApiPath}`, token, options.apiRounds)).ms,
      trendApiMs: inBrowser.trendApiPath === TREND_PATH ? trendCall.ms : (await timeApi(`${endpoints.api}${inBrowser.trendApiPath}`, token, Math.ceil(options.apiRounds / 2))).ms,
    };
    return { cached, seeded, seedMs, healthMs: health.ms, listMs: list.ms, listBytes: list.bytes, trendMs: trendCall.ms, trendBytes: trendCall.bytes, ...(browser ? { browser } : {}) };
  } finally {
    await stopRuntime(runtime);
  }
}

const KiB = 1024;

export const consoleBenchmark: Benchmark = {
  name: 'console',
  description: 'the console with 10,000 seeded evaluations: API response time of the evaluations list and the trend, and the pages’ first meaningful paint in headless Chromium beside it',
  async run({ dataDir, quick }) {
    const t = await measureConsole(dataDir, quick ? { evaluations: 1_000, heads: 50, apiRounds: 5, navigations: 2 } : { evaluations: 10_000, heads: 200, apiRounds: 15, navigations: 5 });
    const s = t.seeded;
    const data = `${s.evaluations.toLocaleString('en')} evaluations, ${s.heads} heads`;
    const figures: Figure[] = [
      {
        metric: `API GET ${LIST_PATH} (${data})`,
        value: t.listMs,
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'GET /health round trip', value: t.healthMs },
        note: `${(t.listBytes / KiB).toFixed(0)} KiB; seeded in ${(t.seedMs / 1000).toFixed(0)} s${t.cached ? ' (kept from an earlier run)' : ''}: ${s.regressions} regressions on ${s.regressedHeads} heads, ${s.failed} failed, ${s.cancelled} cancelled`,
      },
      {
        metric: `API GET ${TREND_PATH} (${data})`,
        value: t.trendMs,
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'GET /health round trip', value: t.healthMs },
        note: `${(t.trendBytes / KiB).toFixed(0)} KiB`,
      },
    ];
    if (t.browser) {
      const b = t.browser;
      figures.push(
        {
          metric: `console ${CONSOLE_PAGES.evaluations.hash}: first meaningful paint (${CONSOLE_PAGES.evaluations.selector})`,
          value: b.evaluationsPaintMs,
          unit: 'ms',
          better: 'lower',
          baseline: { label: `API GET ${b.evaluationsApiPath}, the page's own call`, value: b.evaluationsApiMs },
        },
        {
          metric: `console ${CONSOLE_PAGES.trend.hash}: first meaningful paint (${CONSOLE_PAGES.trend.selector})`,
          value: b.trendPaintMs,
          unit: 'ms',
          better: 'lower',
          baseline: { label: `API GET ${b.trendApiPath}, the page's own call`, value: b.trendApiMs },
        },
        {
          metric: `console ${CONSOLE_PAGES.evaluations.hash}: JS heap with ${s.evaluations.toLocaleString('en')} evaluations stored`,
          value: b.evaluationsHeapMb,
          unit: 'MB',
          better: 'lower',
          baseline: { label: `${CONSOLE_PAGES.datasets.hash} (two datasets)`, value: b.datasetsHeapMb },
          note: `${b.evaluationsRows} rows shown; ${b.evaluationsApiCalls} /evaluations call(s), ${(b.evaluationsApiBytes / KiB).toFixed(0)} KiB`,
        },
      );
    }
    return figures;
  },
};
