import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Signature Version 4 checks in front of the local S3. s3rver checks only the old V2 signatures
 * (LOCAL-STACK.md): a tampered or re-pointed presigned URL, or a request with no signature at all,
 * would be served locally although S3 refuses it. So the local runtime checks V4 itself, as S3 does
 * (AWS docs, "Authenticating Requests: Using Query Parameters" and "…: Using the Authorization
 * Header"): it rebuilds the canonical request from what arrived, derives the signing key from the
 * local secret, and compares signatures in constant time; an expired presigned URL or a request
 * dated too far from now is refused too. Local behaviour then matches AWS for every S3 client.
 */

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Why a request is refused, as S3 says it. */
export interface S3Refusal {
  readonly status: number;
  readonly code: 'AccessDenied' | 'SignatureDoesNotMatch' | 'InvalidAccessKeyId' | 'AuthorizationQueryParametersError' | 'RequestTimeTooSkewed' | 'InvalidObjectName';
  readonly message: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far a header-signed request's date may be from now (S3 allows 15 minutes). */
const MAX_SKEW_MS = 15 * 60 * 1000;
/** The longest a presigned URL may live (7 days, as S3). */
const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;

/** RFC 3986 encoding, as SigV4 wants it: everything but unreserved characters. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: Buffer | string, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** `20250101T000000Z` → epoch milliseconds, or NaN. */
function parseAmzDate(text: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
}

/** The query as sent: names and values decoded once (`+` stays a plus, as S3 reads it). */
function parseQuery(raw: string): [string, string][] {
  if (raw === '') return [];
  return raw.split('&').map((part) => {
    const at = part.indexOf('=');
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    return at < 0 ? [decode(part), ''] : [decode(part.slice(0, at)), decode(part.slice(at + 1))];
  });
}

function headerValue(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
}

interface SignedParts {
  readonly accessKeyId: string;
  readonly scope: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly amzDate: string;
  readonly signedHeaders: string[];
  readonly signature: string;
  readonly payloadHash: string;
}

/** The signature S3 would compute for this request and these parts. */
function expectedSignature(req: IncomingMessage, parts: SignedParts, query: [string, string][], secret: string): string {
  const [path = '/'] = (req.url ?? '/').split('?');
  const canonicalQuery = query
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const canonicalHeaders = parts.signedHeaders.map((name) => `${name}:${headerValue(req, name)}\n`).join('');
  const canonicalRequest = [req.method ?? 'GET', path, canonicalQuery, canonicalHeaders, parts.signedHeaders.join(';'), parts.payloadHash].join('\n');
  const stringToSign = [ALGORITHM, parts.amzDate, parts.scope, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, parts.date), parts.region), parts.service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** `AK/20250101/us-east-1/s3/aws4_request` → its parts, or `undefined` when malformed. */
function parseCredential(credential: string): { accessKeyId: string; date: string; region: string; service: string; scope: string } | undefined {
  const [accessKeyId, date, region, service, terminator, ...rest] = credential.split('/');
  if (!accessKeyId || !date || !region || !service || terminator !== 'aws4_request' || rest.length > 0) return undefined;
  return { accessKeyId, date, region, service, scope: `${date}/${region}/${service}/aws4_request` };
}

/**
 * Checks a request's V4 signature (presigned query or Authorization header); answers why it is
 * refused, or `undefined` when S3 would serve it. Requests signed the old V2 way are left to
 * s3rver, which checks those itself; CORS preflights carry no signature, in S3 as here.
 */
export function checkS3Signature(req: IncomingMessage, credentials: S3Credentials, now = Date.now()): S3Refusal | undefined {
  const raw = req.url ?? '/';
  const query = parseQuery(raw.includes('?') ? raw.slice(raw.indexOf('?') + 1) : '');
  const param = (name: string) => query.find(([n]) => n === name)?.[1];
  const authorization = headerValue(req, 'authorization');
  const presigned = param('X-Amz-Algorithm') !== undefined;

  if (req.method === 'OPTIONS') return undefined;
  if (!presigned && authorization === '') {
    if (param('Signature') !== undefined) return undefined;
    return { status: 403, code: 'AccessDenied', message: 'Anonymous access is not allowed: sign the request, or use a presigned URL' };
  }
  if (!presigned && !authorization.startsWith(`${ALGORITHM} `)) return undefined;

  let parts: SignedParts;
  if (presigned) {
    const credential = parseCredential(param('X-Amz-Credential') ?? '');
    const expires = Number(param('X-Amz-Expires'));
    const signature = param('X-Amz-Signature');
    const signedHeaders = param('X-Amz-SignedHeaders');
    const amzDate = param('X-Amz-Date') ?? '';
    if (param('X-Amz-Algorithm') !== ALGORITHM || !credential || !signature || !signedHeaders || !Number.isInteger(expires) || Number.isNaN(parseAmzDate(amzDate))) {
      return { status: 400, code: 'AuthorizationQueryParametersError', message: 'The presigned URL lacks or garbles X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders or X-Amz-Signature' };
    }
    if (expires < 1 || expires > MAX_EXPIRES_SECONDS) {
      return { status: 400, code: 'AuthorizationQueryParametersError', message: `X-Amz-Expires must be 1 to ${MAX_EXPIRES_SECONDS} seconds` };
    }
    if (now > parseAmzDate(amzDate) + expires * 1000) return { status: 403, code: 'AccessDenied', message: 'Request has expired' };
    parts = { ...credential, amzDate, signature, signedHeaders: signedHeaders.split(';'), payloadHash: param('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD' };
  } else {
    const fields = Object.fromEntries(
      authorization
        .slice(ALGORITHM.length + 1)
        .split(',')
        .map((field) => field.trim().split('=') as [string, string]),
    );
    const credential = parseCredential(fields.Credential ?? '');
    const amzDate = headerValue(req, 'x-amz-date');
    const payloadHash = headerValue(req, 'x-amz-content-sha256');
    if (!credential || !fields.Signature || !fields.SignedHeaders || Number.isNaN(parseAmzDate(amzDate)) || payloadHash === '') {
      return { status: 400, code: 'AuthorizationQueryParametersError', message: 'The Authorization header lacks or garbles Credential, SignedHeaders or Signature, or x-amz-date / x-amz-content-sha256 is missing' };
    }
    if (Math.abs(now - parseAmzDate(amzDate)) > MAX_SKEW_MS) {
      return { status: 403, code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the current time is too large' };
    }
    parts = { ...credential, amzDate, signature: fields.Signature, signedHeaders: fields.SignedHeaders.split(';'), payloadHash };
  }

  if (parts.accessKeyId !== credentials.accessKeyId) {
    return { status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records' };
  }
  if (!parts.signedHeaders.includes('host') || parts.amzDate.slice(0, 8) !== parts.date) {
    return { status: 403, code: 'SignatureDoesNotMatch', message: 'The signature must cover the host header and be dated on its credential scope’s day' };
  }
  const expected = Buffer.from(expectedSignature(req, parts, query, credentials.secretAccessKey), 'utf8');
  const given = Buffer.from(parts.signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  }
  return undefined;
}

/**
 * Refuses an object key with a `.` or `..` segment (`api/x/../../y`). In S3 a key is only a name,
 * but s3rver stores objects as files under its folder and would write such a key outside it.
 * Symbiont never makes such a key (file names pass the shared name rule), so only a hand-made
 * request meets this.
 */
export function checkS3Key(req: IncomingMessage): S3Refusal | undefined {
  const [path = '/'] = (req.url ?? '/').split('?');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return { status: 400, code: 'AuthorizationQueryParametersError', message: 'The request path is not valid percent-encoding' };
  }
  if (decoded.split('/').some((segment) => segment === '.' || segment === '..')) {
    return { status: 400, code: 'InvalidObjectName', message: 'The local S3 stores no key with a "." or ".." segment (it would be written outside its folder)' };
  }
  return undefined;
}

/** Answers a refusal as S3 does: an XML error document. */
export function sendS3Refusal(res: ServerResponse, refusal: S3Refusal): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message></Error>`;
  res.writeHead(refusal.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
