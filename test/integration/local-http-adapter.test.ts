import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIGatewayProxyEventV2Schema } from '@aws-lambda-powertools/parser/schemas';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpAdapter } from '#local/http-adapter';

/**
 * The HTTP adapter on a real loopback server, with a handler that records the events it gets and
 * answers what a test tells it to.
 */
describe('local HTTP adapter', () => {
  const events: APIGatewayProxyEventV2[] = [];
  let answer: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2<unknown>>;
  let server: Server;
  let base: string;
  const knownToken = 'scientist-0123456789abcdefghijklmnop';

  beforeAll(async () => {
    server = createServer(
      createHttpAdapter({
        handler: async (event) => {
          events.push(structuredClone(event));
          return answer(event);
        },
        browserTokens: { cookie: 'symbiont_token', isKnown: (token) => token === knownToken },
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    events.length = 0;
    answer = async () => ({ statusCode: 204, headers: {}, body: '' });
  });

  it('builds a payload format 2.0 event for the $default route', async () => {
    // Act
    await fetch(`${base}/uploads/01ABC?status=received&status=failed&limit=5`, {
      headers: { 'X-Custom-Header': 'Value', cookie: 'a=1; b=2', 'user-agent': 'test-agent' },
    });

    // Assess
    const [event] = events;
    expect(APIGatewayProxyEventV2Schema.safeParse(event).success).toBe(true);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/uploads/01ABC',
      rawQueryString: 'status=received&status=failed&limit=5',
      queryStringParameters: { status: 'received,failed', limit: '5' },
      cookies: ['a=1', 'b=2'],
      headers: { 'x-custom-header': 'Value' },
      isBase64Encoded: false,
      requestContext: {
        routeKey: '$default',
        stage: '$default',
        http: { method: 'GET', path: '/uploads/01ABC', sourceIp: '127.0.0.1', userAgent: 'test-agent', protocol: 'HTTP/1.1' },
      },
    });
    expect(event?.headers.cookie).toBeUndefined();
    expect(event?.requestContext.time).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
  });

  it('passes a JSON body as text and a binary body base64-encoded', async () => {
    // Prepare
    const binary = Buffer.from([0, 255, 1, 254, 2]);

    // Act
    await fetch(`${base}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ré"}' });
    await fetch(`${base}/bytes`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: binary });

    // Assess
    expect(events[0]).toMatchObject({ body: '{"name":"ré"}', isBase64Encoded: false });
    expect(events[1]).toMatchObject({ body: binary.toString('base64'), isBase64Encoded: true });
  });

  it('writes back the status, headers, cookies and decoded body of a structured result', async () => {
    // Prepare
    answer = async () => ({
      statusCode: 201,
      headers: { 'Content-Type': 'application/octet-stream', 'x-request-id': 'r-1' },
      cookies: ['one=1; Path=/', 'two=2; Path=/'],
      body: Buffer.from('bytes\u0000here').toString('base64'),
      isBase64Encoded: true,
    });

    // Act
    const response = await fetch(`${base}/anything`);

    // Assess
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('x-request-id')).toBe('r-1');
    expect(response.headers.getSetCookie()).toEqual(['one=1; Path=/', 'two=2; Path=/']);
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('bytes\u0000here');
  });

  it('answers a result without a status code as 200 JSON, as API Gateway does', async () => {
    // Prepare
    answer = async () => ({ hello: 'world' }) as unknown as APIGatewayProxyResultV2<unknown>;

    // Act
    const response = await fetch(`${base}/bare`);

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ hello: 'world' });
  });

  it('answers 500 without internals when the handler throws', async () => {
    // Prepare
    answer = async () => {
      throw new Error('secret database detail');
    };

    // Act
    const response = await fetch(`${base}/boom`);

    // Assess
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('secret');
  });

  it('turns ?token= into a session cookie and redirects to the same page without it', async () => {
    // Act
    const response = await fetch(`${base}/console/?token=${knownToken}&tab=uploads`, { redirect: 'manual' });

    // Assess
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/console/?tab=uploads');
    expect(response.headers.get('set-cookie')).toBe(`symbiont_token=${knownToken}; Path=/; HttpOnly; SameSite=Strict`);
    expect(events).toHaveLength(0);
  });

  it('hands the session cookie to the router as a bearer token', async () => {
    // Act
    await fetch(`${base}/uploads`, { headers: { cookie: `symbiont_token=${knownToken}` } });

    // Assess
    expect(events[0]?.headers.authorization).toBe(`Bearer ${knownToken}`);
  });

  it('passes an unknown ?token= through to the router untouched', async () => {
    // Act
    await fetch(`${base}/uploads?token=guess`, { redirect: 'manual' });

    // Assess
    expect(events[0]?.queryStringParameters).toEqual({ token: 'guess' });
    expect(events[0]?.headers.authorization).toBeUndefined();
  });
});
