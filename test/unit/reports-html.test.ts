import { describe, expect, it } from 'vitest';
import type { NotebookCell } from '#reports/notebook';
import { renderNotebookHtml } from '#reports/render-html';
import { codeCell, markdownCell, notebook } from './reports-fixtures.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function executed(source: string, outputs: NotebookCell['outputs'], count = 1): NotebookCell {
  return { ...codeCell(source), execution_count: count, outputs };
}

/** Every URL the page would load by itself: src, link href, CSS url(), imports. */
function loadedUrls(html: string): string[] {
  const found = [...html.matchAll(/\ssrc="([^"]*)"/g)].map((m) => m[1]!);
  found.push(...[...html.matchAll(/<link[^>]*href="([^"]*)"/g)].map((m) => m[1]!));
  found.push(...[...html.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1]!));
  found.push(...[...html.matchAll(/@import\s+([^;]+)/g)].map((m) => m[1]!));
  return found.filter((url) => !url.startsWith('data:'));
}

describe('renderNotebookHtml', () => {
  it('renders markdown, text, HTML tables, PNG and SVG outputs into one page that loads nothing', () => {
    // Prepare
    const nb = notebook([
      markdownCell('# Title\n\nSome **bold** text and a [link](https://example.org).'),
      executed('print("hi")', [{ output_type: 'stream', name: 'stdout', text: ['hi\n'] }]),
      executed('df', [{ output_type: 'execute_result', execution_count: 2, data: { 'text/html': '<table class="dataframe"><tr><td>1</td></tr></table>', 'text/plain': 'x' }, metadata: {} }], 2),
      executed('plot()', [{ output_type: 'display_data', data: { 'image/png': PNG, 'text/plain': '<Figure>' }, metadata: {} }], 3),
      executed('svg()', [{ output_type: 'display_data', data: { 'image/svg+xml': '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>' }, metadata: {} }], 4),
    ]);

    // Act
    const html = renderNotebookHtml(nb, { title: 'Report' });

    // Assess
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<pre class="output-stream stdout">hi\n</pre>');
    expect(html).toContain('<table class="dataframe"><tr><td>1</td></tr></table>');
    expect(html).toContain(`src="data:image/png;base64,${PNG}"`);
    expect(html).toMatch(/src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+"/);
    expect(html).not.toMatch(/<script/i);
    expect(loadedUrls(html)).toEqual([]);
  });

  it('removes scripts, event handlers and remote images from notebook HTML and markdown', () => {
    // Prepare
    const nb = notebook([
      markdownCell('![remote](https://cdn.example/x.png)\n\n<script>alert(1)</script><img src="x" onerror="alert(2)">'),
      executed('widget', [{ output_type: 'display_data', data: { 'text/html': '<div onclick="steal()">ok</div><script src="https://cdn.example/require.js"></script><iframe src="https://evil"></iframe><p style="background:url(https://t.example/p.gif)">s</p>' }, metadata: {} }]),
    ]);

    // Act
    const html = renderNotebookHtml(nb, { title: 'Report' });

    // Assess
    expect(html).not.toMatch(/<script|onclick|onerror|<iframe|cdn\.example|t\.example/i);
    expect(html).toContain('<div>ok</div>');
    expect(loadedUrls(html)).toEqual([]);
  });

  it('shows a markdown attachment inline', () => {
    // Prepare
    const cell = markdownCell('![chart](attachment:chart.png)');
    cell.attachments = { 'chart.png': { 'image/png': PNG } };

    // Act
    const html = renderNotebookHtml(notebook([cell]), { title: 'Report' });

    // Assess
    expect(html).toContain(`src="data:image/png;base64,${PNG}"`);
  });

  it('keeps the colours of a traceback', () => {
    // Prepare
    const nb = notebook([
      executed('1/0', [{ output_type: 'error', ename: 'ZeroDivisionError', evalue: 'division by zero', traceback: ['\u001b[0;31mZeroDivisionError\u001b[0m: division by <zero>'] }]),
    ]);

    // Act
    const html = renderNotebookHtml(nb, { title: 'Report' });

    // Assess
    expect(html).toContain('<span style="color:#A00">ZeroDivisionError</span>: division by &lt;zero&gt;');
  });

  it('puts a banner at the top that links to the failing cell, and marks the cell', () => {
    // Prepare
    const nb = notebook([executed('x = 1', []), executed('1/0', [{ output_type: 'error', ename: 'ZeroDivisionError', evalue: 'division by zero', traceback: [] }], 2), codeCell('y = 2')]);

    // Act
    const html = renderNotebookHtml(nb, { title: 'Report', failure: { cell: 1, name: 'ZeroDivisionError', message: 'division by zero' } });

    // Assess
    expect(html.indexOf('class="banner"')).toBeLessThan(html.indexOf('<main>'));
    expect(html).toContain('It stopped at <a href="#cell-2">cell 2</a>: <code>ZeroDivisionError: division by zero</code>');
    expect(html).toMatch(/<section class="cell code failed" id="cell-2">/);
  });

  it('starts with the code hidden when asked, and can always show it', () => {
    // Act
    const hidden = renderNotebookHtml(notebook([codeCell('x')]), { title: 'R', hideCode: true });
    const shown = renderNotebookHtml(notebook([codeCell('x')]), { title: 'R' });

    // Assess
    expect(hidden).toContain('<input type="checkbox" id="hide-code" class="toggle" checked>');
    expect(shown).toContain('<input type="checkbox" id="hide-code" class="toggle">');
    expect(shown).toContain('.toggle:checked~main .input');
  });

  it('escapes code, titles and facts', () => {
    // Act
    const html = renderNotebookHtml(notebook([codeCell('if a < b and c > d: print("&")')]), { title: '<b>t</b>', facts: [['who', '<me>']] });

    // Assess
    expect(html).toContain('if a &lt; b and c &gt; d: print(&quot;&amp;&quot;)');
    expect(html).toContain('<title>&lt;b&gt;t&lt;/b&gt;</title>');
    expect(html).toContain('<dd>&lt;me&gt;</dd>');
  });
});
