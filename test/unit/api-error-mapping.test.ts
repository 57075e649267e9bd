import { describe, expect, it } from 'vitest';
import { errorResponse } from '#api/error-mapping';
import { CapabilityUnavailableError } from '#api/errors';
import { BadRequestError, SymbiontError } from '#shared/errors';

/** Errors become HTTP answers in one place: what reaches the caller, and what stays in the log. */
describe('errorResponse', () => {
  it('passes a 4xx error’s message and details to the caller', () => {
    const result = errorResponse(new BadRequestError('limit must be 1 to 100', { limit: 0 }), 'r1');
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body as string)).toEqual({ error: { code: 'bad_request', message: 'limit must be 1 to 100', details: { limit: 0 } } });
  });

  it('answers a capability the API was built without as 503, saying which', () => {
    const result = errorResponse(new CapabilityUnavailableError('dead-letter queues are not available from this API'), 'r2');
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body as string)).toEqual({ error: { code: 'unavailable', message: 'dead-letter queues are not available from this API' } });
  });

  it('hides an internal error behind the request id', () => {
    const result = errorResponse(new SymbiontError('table symbiont-dev throttled at partition 7'), 'r3');
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('partition');
    expect(JSON.parse(result.body as string)).toMatchObject({ error: { code: 'internal', details: { requestId: 'r3' } } });
  });
});
