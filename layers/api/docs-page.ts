import { createHash } from 'node:crypto';

/**
 * `GET /docs`: a self-contained page that fetches `openapi.json` and lists each route with its
 * roles, parameters, body and answers, and the schemas. No CDN: it must open offline and behind
 * the stack's Content-Security-Policy. The document is fetched from beside the page so that it
 * works under a named stage (`/dev/docs` → `/dev/openapi.json`) as well as locally. Everything
 * taken from the document is inserted as text, never as HTML.
 */

const style = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 1.5rem; color: #1d232a; }
h1 { margin-bottom: 0; } .lede { color: #555; margin-top: .25rem; }
section.op { border: 1px solid #d4d9de; border-radius: 6px; margin: 1rem 0; padding: .5rem 1rem; }
.method { display: inline-block; min-width: 4rem; font-weight: 700; text-transform: uppercase; }
.method.get { color: #0a6b2e; } .method.post { color: #1c4fa3; } .method.put, .method.patch { color: #8a5a00; } .method.delete { color: #a31c1c; }
code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
pre { background: #f5f7f9; padding: .5rem; overflow-x: auto; }
table { border-collapse: collapse; } td, th { text-align: left; padding: .15rem .75rem .15rem 0; vertical-align: top; }
.access { color: #555; font-size: 13px; }
`;

const script = `
const el = (tag, attrs, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
};
const json = (value) => el('pre', {}, JSON.stringify(value, null, 2));
const typeOf = (schema) => !schema ? '' : schema.$ref ? schema.$ref.split('/').pop() : schema.enum ? schema.enum.join(' | ') : (schema.type || '') + (schema.format ? ' (' + schema.format + ')' : '');
function renderOperation(path, method, op) {
  const section = el('section', { class: 'op', id: op.operationId || method + path });
  section.append(el('h3', {}, el('span', { class: 'method ' + method }, method), ' ', el('code', {}, path)));
  if (op.summary) section.append(el('p', {}, op.summary));
  const access = op['x-symbiont-access'];
  section.append(el('p', { class: 'access' }, access === 'public' ? 'Public' : 'Roles: ' + (access || []).join(', ')));
  if (op.parameters && op.parameters.length) {
    const rows = op.parameters.map((p) => el('tr', {}, el('td', {}, el('code', {}, p.name)), el('td', {}, p.in), el('td', {}, typeOf(p.schema)), el('td', {}, p.required ? 'required' : 'optional'), el('td', {}, p.description || (p.schema && p.schema.description) || '')));
    section.append(el('h4', {}, 'Parameters'), el('table', {}, el('tr', {}, ...['name', 'in', 'type', '', 'description'].map((h) => el('th', {}, h))), ...rows));
  }
  const body = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
  if (body) section.append(el('h4', {}, 'Body'), json(body.schema));
  const answers = Object.entries(op.responses || {}).map(([status, r]) => {
    const content = r.content ? Object.entries(r.content)[0] : undefined;
    return el('tr', {}, el('td', {}, status), el('td', {}, content ? content[0] + ' ' + typeOf(content[1].schema) : ''), el('td', {}, r.description || ''));
  });
  section.append(el('h4', {}, 'Answers'), el('table', {}, ...answers));
  return section;
}
async function main() {
  const root = document.getElementById('content');
  try {
    // Beside this page, whatever stage prefix or trailing slash its own path has.
    const page = location.pathname.replace(/[/]+$/, '');
    const response = await fetch(page.slice(0, page.lastIndexOf('/') + 1) + 'openapi.json', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error('openapi.json answered ' + response.status);
    const doc = await response.json();
    document.title = doc.info.title + ' ' + doc.info.version;
    root.replaceChildren(el('h1', {}, doc.info.title, ' ', el('small', {}, doc.info.version)), el('p', { class: 'lede' }, doc.info.description || ''));
    for (const [path, item] of Object.entries(doc.paths || {})) {
      for (const [method, op] of Object.entries(item)) root.append(renderOperation(path, method, op));
    }
    root.append(el('h2', {}, 'Schemas'));
    for (const [name, schema] of Object.entries((doc.components && doc.components.schemas) || {})) {
      root.append(el('h3', { id: 'schema-' + name }, name), json(schema));
    }
  } catch (error) {
    root.replaceChildren(el('p', {}, 'Could not load openapi.json: ' + error.message));
  }
}
main();
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page's HTML. */
export const docsPageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Symbiont API</title>
<style>${style}</style>
</head>
<body>
<main id="content"><p>Loading openapi.json…</p></main>
<script>${script}</script>
</body>
</html>
`;

/** Allows exactly the page's own inline style and script, and fetching from its origin. */
export const docsPageHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': `default-src 'none'; script-src ${hash(script)}; style-src ${hash(style)}; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'`,
  'cache-control': 'no-cache',
};
