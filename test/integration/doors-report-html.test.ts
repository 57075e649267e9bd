import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotebookCell } from '#reports/notebook';
import { renderNotebookHtml } from '#reports/render-html';
import { codeCell, markdownCell, notebook } from '../unit/reports-fixtures.ts';

/**
 * A report whose notebook tries to run script: every place a template's author or its outputs
 * put text into report.html (HTML, markdown, SVG and JavaScript outputs, streams, tracebacks,
 * code, title, facts, the failure banner) carries a payload that, if it ran, would set
 * `window.pwned` or open a dialog. The rendered page is checked as markup (always) and opened in
 * headless Chromium (when Debian's chromium is installed, as in the console test): nothing runs,
 * and nothing in the page can run script when clicked, submitted or loaded.
 */

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

/** HTML that has run script in some browser or sanitizer at some time. */
const htmlPayloads = [
  '<script>window.pwned = "script"</script>',
  '<img src="x" onerror="window.pwned = \'onerror\'">',
  '<a href="javascript:window.pwned=\'link\'">open</a>',
  '<a href="JaVaScRiPt&#x3a;window.pwned=\'entity-link\'">open</a>',
  '<a href=" &#14; javascript:window.pwned=\'spaced-link\'">open</a>',
  '<a href="data:text/html,<script>window.pwned=\'data-link\'</script>">open</a>',
  '<iframe src="data:text/html,<script>parent.pwned=\'iframe\'</script>"></iframe>',
  '<iframe srcdoc="<script>parent.pwned=\'srcdoc\'</script>"></iframe>',
  '<svg><script>window.pwned = "svg-script"</script></svg>',
  '<svg onload="window.pwned = \'svg-onload\'"><a xlink:href="javascript:window.pwned=\'svg-link\'"><text>t</text></a></svg>',
  '<object data="javascript:window.pwned=\'object\'"></object><embed src="javascript:window.pwned=\'embed\'">',
  '<form action="javascript:window.pwned=\'form\'"><button formaction="javascript:window.pwned=\'button\'">go</button></form>',
  '<meta http-equiv="refresh" content="0;url=javascript:window.pwned=\'refresh\'">',
  '<base href="javascript:/">',
  '<math><mtext><table><mglyph><style><img src=x onerror="window.pwned=\'mxss\'">',
  '<details open ontoggle="window.pwned = \'ontoggle\'"><summary>s</summary></details>',
  '<div style="background-image: url(javascript:window.pwned=\'css\')">css</div><style>@import "https://t.example/x.css";</style>',
  '<img src="data:text/html;base64,PHNjcmlwdD53aW5kb3cucHduZWQ9MTwvc2NyaXB0Pg==">',
  '<noscript><p title="</noscript><img src=x onerror=window.pwned=\'noscript\'>"></noscript>',
];

const markdownPayloads = [
  '[click](javascript:window.pwned=\'md-link\')',
  '[click](JAVASCRIPT:window.pwned=\'md-link-upper\')',
  '![img](javascript:window.pwned=\'md-img\')',
  '<script>window.pwned = "md-script"</script>',
  '<a href="javascript:window.pwned=\'md-html-link\'">x</a>',
].join('\n\n');

const scriptText = '</pre></code><script>window.pwned = "escaped"</script>';

function executed(source: string, outputs: NotebookCell['outputs']): NotebookCell {
  return { ...codeCell(source), execution_count: 1, outputs };
}

function hostileReport(): string {
  const nb = notebook([
    markdownCell(markdownPayloads),
    executed(scriptText, [
      ...htmlPayloads.map((html) => ({ output_type: 'display_data' as const, data: { 'text/html': html }, metadata: {} })),
      { output_type: 'display_data', data: { 'text/markdown': markdownPayloads }, metadata: {} },
      { output_type: 'display_data', data: { 'image/svg+xml': '<svg xmlns="http://www.w3.org/2000/svg" onload="window.pwned=\'svg-image\'"><script>window.pwned="svg-image-script"</script></svg>' }, metadata: {} },
      { output_type: 'display_data', data: { 'application/javascript': 'window.pwned = "application/javascript"' }, metadata: {} },
      { output_type: 'execute_result', execution_count: 1, data: { 'text/plain': scriptText }, metadata: {} },
      { output_type: 'stream', name: 'stdout', text: scriptText },
      { output_type: 'error', ename: 'Oops', evalue: scriptText, traceback: [`\u001b[31m${scriptText}\u001b[0m`] },
    ]),
  ]);
  return renderNotebookHtml(nb, {
    title: `<script>window.pwned="title"</script>`,
    facts: [['template', '"><script>window.pwned="fact"</script>']],
    failure: { cell: 1, name: '<img src=x onerror=window.pwned="banner">', message: scriptText },
  });
}

describe('report.html of a notebook that tries to run script', () => {
  const html = hostileReport();

  it('has no script, frame, object, form, refresh or base element', () => {
    // Assess
    expect(html).not.toMatch(/<(script|iframe|frame|object|embed|form|base)\b/i);
    expect(html).not.toMatch(/<meta[^>]*http-equiv/i);
    expect(html).not.toMatch(/@import/i);
  });

  it('has no event-handler attribute', () => {
    // Assess: an attribute named on… inside a tag (escaped text shows as &lt;…, which is no tag).
    const tags = (html.match(/<[a-z](?:"[^"]*"|'[^']*'|[^>])*>/gi) ?? []).map((tag) => tag.replace(/"[^"]*"|'[^']*'/g, '""'));
    expect(tags.filter((tag) => /\son\w+\s*=/i.test(tag))).toEqual([]);
  });

  it('links only to http, https, mailto and the page itself, and loads images only from data:image', () => {
    // Act
    const hrefs = [...html.matchAll(/\s(?:href|xlink:href|action|formaction)\s*=\s*"([^"]*)"/gi)].map((m) => m[1]!);
    const srcs = [...html.matchAll(/\ssrc\s*=\s*"([^"]*)"/gi)].map((m) => m[1]!);

    // Assess
    expect(hrefs.filter((href) => !/^(https?:|mailto:|#)/i.test(href))).toEqual([]);
    expect(srcs.filter((src) => !src.startsWith('data:image/'))).toEqual([]);
    expect(html).not.toMatch(/javascript:/i);
  });

  it('still shows the harmless parts of the hostile outputs', () => {
    // Assess: the sanitizer removed the attacks, not the report.
    expect(html).toContain('&lt;/pre&gt;&lt;/code&gt;&lt;script&gt;');
    expect(html).toContain('(output of type application/javascript not shown)');
    expect(html).toContain('<summary>s</summary>');
  });
});

describe.skipIf(!hasChromium)('report.html opened in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('runs no script when loaded, when every link and button is clicked, or when every form is submitted', async () => {
    // Prepare
    const page = await browser.newPage({ javaScriptEnabled: true });
    const dialogs: string[] = [];
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    // Nothing may be fetched either: every request but the page itself is refused and recorded.
    const requests: string[] = [];
    await page.route('**/*', async (route) => {
      requests.push(route.request().url());
      await route.abort();
    });

    // Act
    await page.setContent(hostileReport(), { waitUntil: 'load' });
    const clickable = await page.$$('a, button, summary, label');
    for (const element of clickable) {
      const href = await element.getAttribute('href');
      if (href && !href.startsWith('#')) continue; // leaving the page runs nothing in it
      await element.click({ timeout: 1000, force: true }).catch(() => undefined);
    }
    // A string, evaluated in the page: this file is compiled without the DOM's types.
    const state = await page.evaluate<{ pwned: unknown; scripts: number; handlers: string[]; scriptLinks: string[] }>(`({
      pwned: window.pwned,
      scripts: document.querySelectorAll('script, iframe, frame, object, embed, form, base, meta[http-equiv]').length,
      handlers: [...document.querySelectorAll('*')].flatMap((el) => [...el.attributes].filter((a) => a.name.toLowerCase().startsWith('on')).map((a) => el.tagName + ' ' + a.name)),
      scriptLinks: [...document.querySelectorAll('[href]')].map((el) => el.href).filter((href) => /^(javascript|data|vbscript):/i.test(href)),
    })`);

    // Assess
    expect(state).toEqual({ pwned: undefined, scripts: 0, handlers: [], scriptLinks: [] });
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  }, 120_000);

  it('sees script that does run (the check above can fail)', async () => {
    // Prepare
    const page = await browser.newPage({ javaScriptEnabled: true });

    // Act: the first payload, unsanitized.
    await page.setContent(`<!doctype html><body>${htmlPayloads[1]}</body>`, { waitUntil: 'load' });
    await page.waitForFunction('window.pwned !== undefined', undefined, { timeout: 10_000 });

    // Assess
    expect(await page.evaluate<unknown>('window.pwned')).toBe('onerror');
    await page.close();
  }, 60_000);
});
