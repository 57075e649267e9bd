import AnsiToHtml from 'ansi-to-html';
import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { cellTags, INJECTED_TAG, PARAMETERS_TAG, sourceText, type MultilineString, type Notebook, type NotebookCell, type NotebookOutput } from './notebook.ts';

/**
 * Symbiont's own notebook → HTML renderer. nbconvert's HTML templates load require.js and MathJax
 * from a CDN; a report must open offline, anywhere, forever, so this writes one self-contained
 * page: the CSS inline, images as data URIs, no script at all (the code toggle is a CSS checkbox).
 * Notebook HTML and markdown are sanitised: no scripts, no event handlers, no iframes, and images
 * only from data URIs, so opening a report never reaches the network.
 */

export interface RenderOptions {
  /** Page title. */
  readonly title: string;
  /** Start with the code hidden (readers who want results only); the page can still show it. */
  readonly hideCode?: boolean;
  /** Lines shown under the title: template, parameters, dataset version, when. */
  readonly facts?: readonly (readonly [string, string])[];
  /** When the run stopped at a failing cell: the banner at the top links to that cell. */
  readonly failure?: { readonly cell?: number; readonly name: string; readonly message: string };
}

const markdown = new Marked({ gfm: true, breaks: false });

/** What notebook HTML and markdown may keep. */
const sanitizeOptions: sanitizeHtml.IOptions = {
  allowedTags: [
    ...sanitizeHtml.defaults.allowedTags,
    'img', 'del', 'ins', 'sup', 'sub', 'details', 'summary', 'figure', 'figcaption', 'colgroup', 'col', 'span', 'div', 'kbd', 'samp', 'var',
  ],
  allowedAttributes: {
    '*': ['class', 'id', 'title', 'align', 'style', 'colspan', 'rowspan', 'border', 'width', 'height', 'valign', 'lang', 'dir'],
    a: ['href', 'name', 'target', 'rel'],
    img: ['src', 'alt', 'width', 'height'],
    ol: ['start', 'type'],
    td: ['colspan', 'rowspan', 'style', 'class'],
    th: ['colspan', 'rowspan', 'style', 'class', 'scope'],
  },
  // Links may point anywhere (following one is the reader's choice); images load only from the page itself.
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['data'] },
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  // `url(...)` in a style attribute would fetch: styles may not name one.
  allowedStyles: {
    '*': {
      color: [/^[#\w(),.\s%]+$/],
      'background-color': [/^[#\w(),.\s%]+$/],
      'text-align': [/^\w+$/],
      'font-weight': [/^\w+$/],
      'font-style': [/^\w+$/],
      'vertical-align': [/^\w+$/],
      width: [/^[\d.]+(px|%|em|rem)?$/],
      'white-space': [/^[\w-]+$/],
    },
  },
  disallowedTagsMode: 'discard',
  // Relative sources too would be fetched (relative to wherever the page is opened from).
  transformTags: {
    img: (tagName, attribs) => {
      const { src, ...rest } = attribs;
      return { tagName, attribs: src?.startsWith('data:image/') ? { ...rest, src } : rest };
    },
  },
};

function clean(html: string): string {
  return sanitizeHtml(html, sanitizeOptions);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** ANSI colours (tracebacks, coloured logs) as spans, everything else escaped. */
function ansiToHtml(text: string): string {
  return new AnsiToHtml({ escapeXML: true, fg: '#1f2328', bg: '#ffffff', newline: false }).toHtml(text);
}

const text = (value: MultilineString | unknown): string => (Array.isArray(value) ? value.join('') : typeof value === 'string' ? value : JSON.stringify(value, null, 2));

/** Markdown with `attachment:` images resolved from the cell's attachments. */
function renderMarkdown(source: string, attachments: NotebookCell['attachments']): string {
  const resolved = attachments
    ? source.replace(/attachment:([^\s)"']+)/g, (whole, name: string) => {
        const bundle = attachments[decodeURIComponent(name)];
        if (!bundle) return whole;
        const [mime, data] = Object.entries(bundle)[0] ?? [];
        return mime && data ? `data:${mime};base64,${text(data).replace(/\s/g, '')}` : whole;
      })
    : source;
  return clean(markdown.parse(resolved, { async: false }));
}

/** Which representation of a rich output is shown, best first (as Jupyter chooses). */
const MIME_ORDER = ['text/html', 'image/svg+xml', 'image/png', 'image/jpeg', 'image/gif', 'text/markdown', 'text/latex', 'application/json', 'text/plain'] as const;

function renderData(data: Record<string, unknown>): string {
  const mime = MIME_ORDER.find((m) => data[m] !== undefined);
  if (!mime) return `<pre class="output-text">${escapeHtml(`(output of type ${Object.keys(data).join(', ')} not shown)`)}</pre>`;
  const value = data[mime];
  switch (mime) {
    case 'text/html':
      return `<div class="output-html">${clean(text(value))}</div>`;
    case 'image/svg+xml':
      // As an image, an SVG cannot run script or fetch anything.
      return `<img class="output-image" alt="figure" src="data:image/svg+xml;base64,${Buffer.from(text(value), 'utf8').toString('base64')}">`;
    case 'image/png':
    case 'image/jpeg':
    case 'image/gif':
      return `<img class="output-image" alt="figure" src="data:${mime};base64,${text(value).replace(/\s/g, '')}">`;
    case 'text/markdown':
      return `<div class="output-markdown">${renderMarkdown(text(value), undefined)}</div>`;
    case 'text/latex':
      return `<pre class="output-text output-latex">${escapeHtml(text(value))}</pre>`;
    case 'application/json':
      return `<pre class="output-text">${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
    case 'text/plain':
      return `<pre class="output-text">${ansiToHtml(text(value))}</pre>`;
  }
}

function renderOutput(output: NotebookOutput): string {
  switch (output.output_type) {
    case 'stream':
      return `<pre class="output-stream ${output.name === 'stderr' ? 'stderr' : 'stdout'}">${ansiToHtml(text(output.text ?? ''))}</pre>`;
    case 'error':
      return `<pre class="output-error">${ansiToHtml((output.traceback ?? [`${output.ename}: ${output.evalue}`]).join('\n'))}</pre>`;
    case 'execute_result':
    case 'display_data':
      return renderData(output.data ?? {});
    default:
      return '';
  }
}

function renderCell(cell: NotebookCell, index: number, failedCell: number | undefined, language: string): string {
  const id = `cell-${index + 1}`;
  const source = sourceText(cell.source);
  const tags = cellTags(cell);
  if (cell.cell_type === 'markdown') {
    return `<section class="cell markdown" id="${id}">${renderMarkdown(source, cell.attachments)}</section>`;
  }
  if (cell.cell_type === 'raw') {
    return `<section class="cell raw" id="${id}"><pre>${escapeHtml(source)}</pre></section>`;
  }
  const failed = index === failedCell;
  const classes = ['cell', 'code', ...(failed ? ['failed'] : []), ...(tags.includes(INJECTED_TAG) ? ['injected'] : []), ...(tags.includes(PARAMETERS_TAG) ? ['parameters'] : [])];
  const prompt = cell.execution_count === null || cell.execution_count === undefined ? '[ ]' : `[${cell.execution_count}]`;
  const label = tags.includes(INJECTED_TAG) ? '<div class="cell-label">Injected parameters</div>' : tags.includes(PARAMETERS_TAG) ? '<div class="cell-label">Parameters (defaults)</div>' : '';
  const failedLabel = failed ? '<div class="cell-label failed-label">This cell failed</div>' : '';
  const outputs = (cell.outputs ?? []).map(renderOutput).join('');
  return (
    `<section class="${classes.join(' ')}" id="${id}">${failedLabel}` +
    `<div class="input">${label}<div class="prompt">${prompt}</div><pre class="source language-${escapeHtml(language)}"><code>${escapeHtml(source)}</code></pre></div>` +
    (outputs ? `<div class="outputs">${outputs}</div>` : '') +
    `</section>`
  );
}

/** One self-contained HTML page for an executed (or partly executed) notebook. */
export function renderNotebookHtml(notebook: Notebook, options: RenderOptions): string {
  const language = (notebook.metadata.kernelspec?.language ?? notebook.metadata.language_info?.name ?? 'python').toLowerCase();
  const failure = options.failure;
  const banner = failure
    ? `<div class="banner" role="alert"><strong>This report failed.</strong> ${
        failure.cell === undefined ? '' : `It stopped at <a href="#cell-${failure.cell + 1}">cell ${failure.cell + 1}</a>: `
      }<code>${escapeHtml(failure.name)}${failure.message ? `: ${escapeHtml(failure.message)}` : ''}</code>. The cells before it ran; the ones after did not.</div>`
    : '';
  const facts = (options.facts ?? []).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  const cells = notebook.cells.map((cell, i) => renderCell(cell, i, failure?.cell, language)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Symbiont report renderer">
<title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<input type="checkbox" id="hide-code" class="toggle"${options.hideCode ? ' checked' : ''}>
<header>
<h1>${escapeHtml(options.title)}</h1>
${facts ? `<dl class="facts">${facts}</dl>` : ''}
<label for="hide-code" class="toggle-label">Hide code</label>
</header>
${banner}
<main>
${cells}
</main>
</body>
</html>
`;
}

const STYLE = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--code-bg:#f6f8fa;--fail:#cf222e;--fail-bg:#ffebe9;--accent:#0969da}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:#fff}
header,main,.banner{max-width:1040px;margin:0 auto;padding:0 24px}
header{padding-top:24px;padding-bottom:8px;border-bottom:1px solid var(--line);position:relative}
h1{font-size:24px;margin:0 0 8px}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0 0 8px;font-size:13px;color:var(--muted)}
.facts dt{font-weight:600}.facts dd{margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.toggle{position:absolute;left:-9999px}
.toggle-label{position:absolute;right:24px;top:28px;font-size:13px;border:1px solid var(--line);border-radius:6px;padding:4px 10px;cursor:pointer;user-select:none;background:var(--code-bg)}
.toggle:checked~header .toggle-label{background:var(--accent);color:#fff;border-color:var(--accent)}
.toggle:checked~main .input,.toggle:checked~main .cell.injected,.toggle:checked~main .cell.parameters{display:none}
.banner{margin:16px auto;padding:12px 16px;border:1px solid var(--fail);background:var(--fail-bg);border-radius:6px;max-width:992px}
.banner a{color:var(--fail);font-weight:600}
main{padding-bottom:48px}
.cell{margin:16px 0}
.cell.markdown img{max-width:100%}
.cell.failed{border-left:4px solid var(--fail);padding-left:12px;background:linear-gradient(90deg,var(--fail-bg),transparent 40%)}
.cell-label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;margin-bottom:2px}
.failed-label{color:var(--fail);font-weight:600}
.input{position:relative}
.prompt{position:absolute;left:-56px;width:48px;text-align:right;color:var(--muted);font:12px ui-monospace,monospace;padding-top:10px}
pre{margin:0;overflow-x:auto;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word}
.source{background:var(--code-bg);border:1px solid var(--line);border-radius:6px;padding:8px 12px}
.outputs{padding:6px 0 0 12px}
.outputs>*{margin:4px 0}
.output-stream.stderr{background:#fff8c5;padding:4px 8px;border-radius:4px}
.output-error{background:var(--fail-bg);padding:8px 12px;border-radius:6px}
.output-image{max-width:100%;height:auto;display:block}
.output-html{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:right}
thead th{background:var(--code-bg)}
tbody tr:nth-child(odd){background:#fafbfc}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
a{color:var(--accent)}
@media print{.toggle-label{display:none}}
`;
