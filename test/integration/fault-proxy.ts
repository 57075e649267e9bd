import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A reverse proxy the fault-injection tests put between the handlers and an emulator (the local
 * runtime's `interpose` option). Each rule matches requests (method, path, a DynamoDB target) and
 * does one thing to them: answer an error instead of forwarding, or forward and cut the response
 * body after some bytes (a connection lost mid-file). A rule fires a given number of times, or
 * until it is cleared (a full disk), so a test says exactly how long a dependency is broken.
 */

export interface FaultMatch {
  readonly method?: string;
  /** A test of the path (with query), e.g. `/symbiont-dev-data/`. */
  readonly path?: RegExp;
  /** DynamoDB's operation, from `X-Amz-Target` (`PutItem`, `UpdateItem`, …). */
  readonly target?: RegExp;
  /** A test of the request body (DynamoDB's JSON, e.g. the key written); only for DynamoDB. */
  readonly body?: RegExp;
}

export type FaultAction =
  | { readonly kind: 'answer'; readonly status: number; readonly code: string; readonly message: string }
  | { readonly kind: 'cut'; readonly afterBytes: number };

export interface FaultRule {
  readonly match: FaultMatch;
  readonly action: FaultAction;
  /** Requests it fires on. @default Infinity (until cleared) */
  readonly times?: number;
}

export interface FaultProxy {
  readonly url: string;
  /** Adds a rule; answers a handle that says how often it fired and removes it. */
  inject(rule: FaultRule): InjectedFault;
  /** Removes every rule. */
  clear(): void;
  close(): Promise<void>;
}

export interface InjectedFault {
  /** Requests it fired on so far. */
  readonly fired: () => number;
  remove(): void;
}

/** An S3-style error (XML) or a DynamoDB-style one (JSON), as each SDK reads it. */
function errorBody(service: 's3' | 'dynamodb', code: string, message: string): { type: string; body: string } {
  return service === 's3'
    ? { type: 'application/xml', body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>` }
    : { type: 'application/x-amz-json-1.0', body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message }) };
}

export async function startFaultProxy(service: 's3' | 'dynamodb', target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const rules: { rule: FaultRule; fired: number; left: number }[] = [];

  const matches = (match: FaultMatch, req: IncomingMessage, body: Buffer | undefined) =>
    (match.method === undefined || match.method === req.method) &&
    (match.path === undefined || match.path.test(req.url ?? '')) &&
    (match.target === undefined || match.target.test(String(req.headers['x-amz-target'] ?? ''))) &&
    (match.body === undefined || (body !== undefined && match.body.test(body.toString('utf8'))));

  // DynamoDB's bodies are small JSON: read whole, so rules can match what is written.
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (service !== 'dynamodb') return serve(req, res, undefined);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => serve(req, res, Buffer.concat(chunks)));
  };

  const serve = (req: IncomingMessage, res: ServerResponse, body: Buffer | undefined) => {
    const active = rules.find((r) => r.left > 0 && matches(r.rule.match, req, body));
    if (active) {
      active.fired += 1;
      active.left -= 1;
    }
    const action = active?.rule.action;
    if (action?.kind === 'answer') {
      const answer = () => {
        const { type, body: text } = errorBody(service, action.code, action.message);
        res.writeHead(action.status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'x-amzn-errortype': action.code });
        res.end(text);
      };
      // The request body is read and dropped, as a server that refuses it would.
      if (body !== undefined) return answer();
      req.resume();
      req.once('end', answer);
      return;
    }
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (action?.kind !== 'cut') {
          answer.pipe(res);
          return;
        }
        // Forward the first bytes, then drop the connection: the reader sees the body end early.
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= action.afterBytes) return;
          const part = chunk.subarray(0, action.afterBytes - sent);
          sent += part.length;
          res.write(part);
          if (sent >= action.afterBytes) {
            answer.destroy();
            res.socket?.destroy();
          }
        });
        answer.on('end', () => res.end());
      },
    );
    forwarded.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    if (body !== undefined) forwarded.end(body);
    else req.pipe(forwarded);
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    inject(rule) {
      const entry = { rule, fired: 0, left: rule.times ?? Number.POSITIVE_INFINITY };
      rules.push(entry);
      return {
        fired: () => entry.fired,
        remove: () => {
          const at = rules.indexOf(entry);
          if (at >= 0) rules.splice(at, 1);
        },
      };
    },
    clear: () => void rules.splice(0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
