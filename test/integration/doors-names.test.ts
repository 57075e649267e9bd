import { request as httpRequest, createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '#api/api';
import { parseLandingKey } from '#ingest/landing-keys';
import { rejectedOriginalKey } from '#ingest/reject';
import { createHttpAdapter, MAX_BODY_BYTES } from '../../local/http-adapter.ts';
import { resolveSftpPath } from '../../local/sftp-paths.ts';
import { bearer, config, localAuthenticator, MemoryUploads } from '../unit/api-fixtures.ts';
import { notebook, papermillTemplate } from '../unit/reports-fixtures.ts';

/**
 * Names that try to get somewhere they should not: `../`, CR/LF, NUL, backslashes and odd Unicode
 * (a right-to-left override, zero-width characters, a byte-order mark, decomposed accents, very
 * long names) in upload file names, template names, report ids, dataset names in paths, landing
 * keys, SFTP paths and HTTP headers. Each is refused with a 4xx naming what is wrong, or recorded
 * as rejected with the reason — never a 5xx, never a crash, never a key outside its place.
 */

const odd: readonly (readonly [string, string])[] = [
  ['a parent folder', '../x.csv'],
  ['a path', 'a/b.csv'],
  ['a backslash path', '..\\..\\x.csv'],
  ['CR/LF', 'a\r\nb.csv'],
  ['NUL', 'a\u0000.csv'],
  ['a right-to-left override', 'invoice\u202Ecsv.exe'],
  ['a zero-width space', 'da\u200Bta.csv'],
  ['a byte-order mark', '\uFEFFdata.csv'],
  ['a decomposed accent', 'cafe\u0301.csv'],
  ['a very long name', `${'x'.repeat(300)}.csv`],
];

let server: Server;
let port: number;

beforeAll(async () => {
  const api = createApi({ store: new MemoryUploads(), config, authenticator: localAuthenticator });
  server = createServer(createHttpAdapter({ handler: (event) => api.handle(event) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** One request with the path sent exactly as given (no URL normalisation of `..`). */
function send(method: string, rawPath: string, body?: unknown, headers: Record<string, string> = bearer('admin')) {
  return new Promise<{ status: number; error?: { code: string; message: string; details?: unknown } }>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path: rawPath, headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let error;
          try {
            error = JSON.parse(text).error;
          } catch {
            error = undefined;
          }
          resolve({ status: res.statusCode ?? 0, error });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A raw HTTP/1.1 request on a socket: what no well-behaved client would send. Answers the status line. */
function sendRaw(lines: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(lines));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('upload file names in POST /datasets/{name}/uploads', () => {
  it.each(odd)('refuses a name with %s, naming the field', async (_what, file) => {
    // Act
    const answer = await send('POST', '/datasets/readings/uploads', { file }, bearer('uploader'));

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.error?.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'body.file' })]));
  });

  it.each(['.hidden.csv', 'a.csv.filepart', 'a.csv.result.txt', '..'])('refuses %s, which ingest would never take', async (file) => {
    // Act
    const answer = await send('POST', '/datasets/readings/uploads', { file }, bearer('uploader'));

    // Assess
    expect(answer.status).toBe(400);
  });

  it('takes a name with accents and spaces in normal form C past validation', async () => {
    // Act: this API has no presigner, so a name that passes validation fails after it (a 5xx), never as a 400.
    const answer = await send('POST', '/datasets/readings/uploads', { file: 'relevés de mars.csv' }, bearer('uploader'));

    // Assess
    expect(answer.status).toBeGreaterThanOrEqual(500);
  });
});

describe('names in paths', () => {
  const templateNames = ['.hidden', '..%2F..%2Fetc', 'a%2Fb', 'a%5Cb', 'a%00', 'a%0D%0Ab', 'a%E2%80%AEb', 'a%E2%80%8Bb', 'x'.repeat(65)];

  it.each(templateNames)('PUT /templates/%s answers 400', async (name) => {
    // Act
    const answer = await send('PUT', `/templates/${name}`, papermillTemplate());

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.error?.details).toEqual([expect.objectContaining({ field: 'params.name' })]);
  });

  it.each(['..%2F..%2Fx', '01JH2QK7W3M9XG5V8RZB4TNC6D%00', '01JH2QK7W3M9XG5V8RZB4TNC6D%0D%0A', '01JH2QK7W3M9XG5V8RZB4TN%E2%80%AE', 'x'.repeat(300)])(
    'GET /reports/%s answers 400',
    async (id) => {
      // Act
      const answer = await send('GET', `/reports/${id}`);

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.error?.details).toEqual([expect.objectContaining({ field: 'params.id' })]);
    },
  );

  it.each(['..%2Fsites', 'readings%00', 'readings%0D%0AX-Injected:%201', 'read%E2%80%8Bings', 'constructor', '__proto__'])(
    'GET /datasets/%s answers 400 or 404, never a 5xx',
    async (name) => {
      // Act
      const answer = await send('GET', `/datasets/${name}`, undefined, bearer('uploader'));

      // Assess
      expect([400, 404]).toContain(answer.status);
    },
  );

  it.each(['/datasets/readings/../../sftp-users', '/datasets/%2E%2E/%2e%2e/sftp-users', '/uploads/..%2F..%2Fsftp-users'])(
    'resolves dot segments in %s before routing, so they reach no route the caller may not use',
    async (path) => {
      // Act
      const answer = await send('GET', path, undefined, bearer('uploader'));

      // Assess: either the resolved route, which refuses the uploader, or a bad id.
      expect([400, 403]).toContain(answer.status);
    },
  );

  it('answers 400 for malformed percent-encoding', async () => {
    // Act
    const answer = await send('GET', '/uploads/%E0%A4%A');

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.error?.message).toContain('malformed percent-encoding');
  });

  it('templates named by the notebook itself cannot rename the template', async () => {
    // Act: the name is the path's; a notebook's metadata naming another is just metadata.
    const nb = { ...notebook([]), metadata: { ...notebook([]).metadata, name: '../../etc/passwd' } };
    const answer = await send('PUT', '/templates/..%2F..%2Fetc%2Fpasswd', nb);

    // Assess
    expect(answer.status).toBe(400);
  });
});

describe('HTTP headers', () => {
  it.each([
    ['NUL in a header value', 'X-Test: a\u0000b'],
    ['a bare CR in a header value', 'X-Test: a\rb'],
    ['a space in a header name', 'X Test: a'],
    ['an Authorization header split by a bare LF', 'Authorization: Bearer x\nX-Role: admin'],
  ])('refuses %s with 400 and keeps serving', async (_what, header) => {
    // Act
    const status = await sendRaw(`GET /uploads HTTP/1.1\r\nHost: localhost\r\n${header}\r\nConnection: close\r\n\r\n`);
    const after = await send('GET', '/health', undefined, {});

    // Assess
    expect(status).toMatch(/^HTTP\/1\.1 400 /);
    expect(after.status).toBe(200);
  });

  it('answers 413 to a body announced over 10 MiB without reading it, and keeps serving', async () => {
    // Act
    const status = await sendRaw(`POST /datasets/readings/uploads HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n{}`);
    const after = await send('GET', '/health', undefined, {});

    // Assess
    expect(status).toMatch(/^HTTP\/1\.1 413 /);
    expect(after.status).toBe(200);
  });

  it('drops a chunked body that grows past 10 MiB, and keeps serving', async () => {
    // Act: the body never says its size; the adapter stops reading at the limit and closes.
    const answer = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/datasets/readings/uploads', headers: { ...bearer('uploader'), 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
      req.on('response', (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (error) => resolve(`closed: ${(error as NodeJS.ErrnoException).code}`));
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const more = () => {
        while (sent < 12 && req.write(chunk)) sent++;
        if (sent < 12) req.once('drain', () => (sent++, more()));
        else req.end();
      };
      more();
    });
    const after = await send('GET', '/health', undefined, {});

    // Assess
    expect(answer).toMatch(/^closed: (ECONNRESET|EPIPE)$/);
    expect(after.status).toBe(200);
  });

  it('takes a header with odd Unicode as bytes, and the token it carries is unknown (401)', async () => {
    // Act: UTF-8 bytes of a right-to-left override in the token.
    const status = await sendRaw(`GET /uploads HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${Buffer.from('admin-token\u202E0123456789abcdef', 'utf8').toString('latin1')}\r\nConnection: close\r\n\r\n`);

    // Assess
    expect(status).toMatch(/^HTTP\/1\.1 401 /);
  });
});

describe('landing keys with odd file names', () => {
  it.each(odd.filter(([, name]) => !name.includes('/') && !name.startsWith('.')))('records %s under api/ as rejected with the reason, its original kept under a plain name', (_what, file) => {
    // Act
    const parsed = parseLandingKey(`api/readings/01JH2QK7W3M9XG5V8RZB4TNC6D/${file}`);

    // Assess
    expect(parsed).toMatchObject({ kind: 'malformed', source: 'api', reason: expect.stringMatching(/^the file name contains .+; rename the file/) });
    expect(rejectedOriginalKey('01JH2QK7W3M9XG5V8RZB4TNC6D', file)).toBe('rejected/01JH2QK7W3M9XG5V8RZB4TNC6D/original');
  });

  it.each(['api/readings/slot/../../../x.csv', 'api/readings/../sites/slot/x.csv', 'sftp/alice/readings/../../bob/readings/x.csv', 'api/readings/slot/..'])(
    'reads %s as no upload to take (skipped or malformed), never as another dataset’s or user’s',
    (key) => {
      // Act
      const parsed = parseLandingKey(key);

      // Assess
      expect(['skip', 'malformed']).toContain(parsed.kind);
    },
  );

  it('records an SFTP file with a newline (Transfer Family does not check names) as rejected for the same reason', () => {
    // Act
    const parsed = parseLandingKey('sftp/alice/readings/a\nb.csv');

    // Assess
    expect(parsed).toMatchObject({ kind: 'malformed', source: 'sftp', sender: 'alice', reason: expect.stringContaining('control character') });
  });

  it('refuses over local SFTP exactly the names the API and ingest refuse', () => {
    // Act
    const refused = odd.filter(([, name]) => !name.includes('/') && !name.includes('\\')).map(([, name]) => resolveSftpPath('alice', ['readings'], `/readings/${name}`).kind);

    // Assess
    expect(new Set(refused)).toEqual(new Set(['refused']));
  });
});
