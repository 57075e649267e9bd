import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { progressBar, putFile, TransferError } from '../../cli/transfer.ts';

/** Moving bytes to presigned URLs, and the progress bar drawn while they move. */

const dir = mkdtempSync(join(tmpdir(), 'symbiont-transfer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback server that records one PUT and answers `status`. */
async function receiver(status: number, body = '') {
  const seen: { method?: string; url?: string; headers?: IncomingHttpHeaders; body: Buffer[] } = { body: [] };
  const server = createServer((req, res) => {
    seen.method = req.method;
    seen.url = req.url;
    seen.headers = req.headers;
    req.on('data', (chunk: Buffer) => seen.body.push(chunk));
    req.on('end', () => res.writeHead(status).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/symbiont-dev-landing/api/readings/01JH3AAAAAAAAAAAAAAAAAAAAA/a.csv?X-Amz-Signature=x`;
  return { url, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('putFile', () => {
  it('PUTs the file with its length to the presigned URL, reporting progress', async () => {
    // Prepare
    const file = join(dir, 'a.csv');
    writeFileSync(file, 'sensor_id\nS0001\n');
    const server = await receiver(200);
    const moved: number[] = [];

    // Act
    await putFile({ url: server.url, path: file, progress: { advance: (n) => moved.push(n), done: () => undefined } });
    await server.close();

    // Assess
    expect(server.seen.method).toBe('PUT');
    expect(server.seen.url).toMatch(/^\/symbiont-dev-landing\/api\/readings\/.*X-Amz-Signature=x$/);
    expect(server.seen.headers?.['content-length']).toBe('16');
    expect(Buffer.concat(server.seen.body).toString()).toBe('sensor_id\nS0001\n');
    expect(moved.reduce((a, b) => a + b, 0)).toBe(16);
  });

  it('says the URL expired when S3 answers so', async () => {
    const file = join(dir, 'b.csv');
    writeFileSync(file, 'x\n');
    const server = await receiver(403, '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');

    const sent = putFile({ url: server.url, path: file });

    await expect(sent).rejects.toThrow(TransferError);
    await expect(sent).rejects.toThrow(/HTTP 403 \(the URL expired: ask for a new slot\)/);
    await server.close();
  });
});

describe('progressBar', () => {
  it('draws nothing when stderr is not a terminal', () => {
    let written = '';
    const bar = progressBar((text) => void (written += text), false, 'a.csv', 100);

    bar.advance(50);
    bar.done();

    expect(written).toBe('');
  });

  it('ends with a full bar and the sizes on a terminal', () => {
    let written = '';
    const bar = progressBar((text) => void (written += text), true, 'a.csv', 2048);

    bar.advance(1024);
    bar.advance(1024);
    bar.done();

    expect(written.split('\r').at(-1)).toMatch(/^a\.csv \[#{24}\] 100% 2\.0 KiB \/ 2\.0 KiB\x1b\[K\n$/);
  });
});
