// Classification of API errors by reason with the code as fallback, as apimachinery does, and the
// Status synthesized for replies that are not a Status.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Status } from '../api/types/meta_v1.ts';
import {
  ApiStatusError, hasStatusCause, isAlreadyExists, isConflict, isConnectionError, isExpiredOrGone, isGone, isNotFound,
  isResourceExpired, isTooLargeResourceVersion, isTooManyRequests, statusFromResponse,
} from './api_errors.ts';

function err(code: number, reason: string, extra: Partial<Status> = {}): ApiStatusError {
  return new ApiStatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'm', reason, code, ...extra });
}

describe('API error predicates', () => {
  test('match on reason', () => {
    assert.ok(isNotFound(err(404, 'NotFound')));
    assert.ok(isAlreadyExists(err(409, 'AlreadyExists')));
    assert.ok(!isConflict(err(409, 'AlreadyExists')), 'AlreadyExists is not a Conflict though both are 409');
    assert.ok(isConflict(err(409, 'Conflict')));
    assert.ok(isGone(err(410, 'Gone')));
    assert.ok(isResourceExpired(err(410, 'Expired')));
    assert.ok(!isGone(err(410, 'Expired')));
    assert.ok(isExpiredOrGone(err(410, 'Expired')) && isExpiredOrGone(err(410, 'Gone')));
    assert.ok(isTooManyRequests(err(429, 'TooManyRequests')));
  });

  test('fall back to the code only when the reason is unknown', () => {
    assert.ok(isNotFound(err(404, '')));
    assert.ok(isNotFound(err(404, 'SomethingNew')));
    assert.ok(!isNotFound(err(404, 'Forbidden')));
    assert.ok(!isNotFound(new Error('not an API error')));
  });

  test('recognize causes and too-large resource versions', () => {
    const e = err(504, 'Timeout', { details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 } });
    assert.ok(isTooLargeResourceVersion(e));
    assert.ok(hasStatusCause(e, 'ResourceVersionTooLarge'));
    assert.ok(!hasStatusCause(e, 'NamespaceTerminating'));
  });

  test('connection errors are told apart from API errors', () => {
    assert.ok(isConnectionError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })));
    assert.ok(isConnectionError(Object.assign(new Error('x'), { code: 'ERR_HTTP2_GOAWAY_SESSION' })));
    assert.ok(!isConnectionError(err(500, 'InternalError')));
    assert.ok(!isConnectionError(new Error('plain')));
  });
});

describe('statusFromResponse', () => {
  test('returns the server Status as is', () => {
    const s = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "x" not found', reason: 'NotFound', code: 404 };
    assert.deepEqual(statusFromResponse(404, JSON.stringify(s), 'get'), s);
  });

  test('synthesizes upstream reasons and messages for other bodies', () => {
    const s = statusFromResponse(404, '<html>nope</html>', 'get /x');
    assert.equal(s.reason, 'NotFound');
    assert.equal(s.message, 'the server could not find the requested resource');
    assert.equal(s.details?.causes?.[0]?.reason, 'UnexpectedServerResponse');
    const t = statusFromResponse(418, '', 'get /x');
    assert.equal(t.reason, '');
    assert.equal(t.code, 418);
    assert.match(t.message ?? '', /status code 418/);
  });
});
