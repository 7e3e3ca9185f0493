// Errors the API server answers, as the client sees them: an ApiStatusError carries the server's
// metav1.Status, and the is* predicates classify it the way apimachinery's api/errors does (by
// reason, falling back to the HTTP code when the reason is unknown).
import type { Status, StatusDetails } from '../api/types/meta_v1.ts';

/** metav1.StatusReason values. */
export const StatusReason = {
  Unknown: '',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  NotFound: 'NotFound',
  AlreadyExists: 'AlreadyExists',
  Conflict: 'Conflict',
  Gone: 'Gone',
  Invalid: 'Invalid',
  ServerTimeout: 'ServerTimeout',
  Timeout: 'Timeout',
  TooManyRequests: 'TooManyRequests',
  BadRequest: 'BadRequest',
  MethodNotAllowed: 'MethodNotAllowed',
  NotAcceptable: 'NotAcceptable',
  RequestEntityTooLarge: 'RequestEntityTooLarge',
  UnsupportedMediaType: 'UnsupportedMediaType',
  InternalError: 'InternalError',
  Expired: 'Expired',
  ServiceUnavailable: 'ServiceUnavailable',
} as const;
export type StatusReason = (typeof StatusReason)[keyof typeof StatusReason];

/** A failed API call: the Status the server sent (or one synthesized from a non-Status reply). */
export class ApiStatusError extends Error {
  readonly status: Status;
  /** Response headers, when the error came from an HTTP reply (empty for watch ERROR events). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: Status, headers: Readonly<Record<string, string>> = {}) {
    super(status.message ?? `the server responded with the status code ${status.code ?? 0}`);
    this.name = 'ApiStatusError';
    this.status = status;
    this.headers = headers;
  }

  /** HTTP code of the Status (0 when it has none). */
  get code(): number {
    return this.status.code ?? 0;
  }

  get reason(): string {
    return this.status.reason ?? '';
  }

  get details(): StatusDetails | undefined {
    return this.status.details;
  }
}

/**
 * The Status for a reply whose body is not a Status, with the message client-go prints for
 * that code (rest.newUnstructuredResponseError / errors.NewGenericServerResponse).
 */
export function statusFromResponse(code: number, body: string, verb: string, retryAfterSeconds?: number): Status {
  try {
    const parsed = JSON.parse(body) as Status;
    if (parsed && typeof parsed === 'object' && parsed.kind === 'Status' && typeof parsed.code === 'number') return parsed;
  } catch { /* not JSON: synthesize below */ }
  const [reason, message] = genericReason(code, verb);
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  const details: StatusDetails = {};
  const trimmed = body.trim();
  if (trimmed !== '') details.causes = [{ reason: 'UnexpectedServerResponse', message: trimmed.slice(0, 1024) }];
  if (retryAfterSeconds !== undefined) details.retryAfterSeconds = retryAfterSeconds;
  if (Object.keys(details).length > 0) status.details = details;
  return status;
}

function genericReason(code: number, verb: string): [string, string] {
  switch (code) {
    case 409: return [StatusReason.Conflict, 'the server reported a conflict'];
    case 404: return [StatusReason.NotFound, 'the server could not find the requested resource'];
    case 400: return [StatusReason.BadRequest, 'the server rejected our request for an unknown reason'];
    case 401: return [StatusReason.Unauthorized, 'the server has asked for the client to provide credentials'];
    case 403: return [StatusReason.Forbidden, 'the server does not allow access to the requested resource'];
    case 405: return [StatusReason.MethodNotAllowed, 'the server does not allow this method on the requested resource'];
    case 406: return [StatusReason.NotAcceptable, 'the server was unable to respond with a content type that the client supports'];
    case 410: return [StatusReason.Gone, 'the server no longer has the requested resource'];
    case 413: return [StatusReason.RequestEntityTooLarge, 'the server has rejected the request because it is too large'];
    case 415: return [StatusReason.UnsupportedMediaType, 'the server was unable to respond with a content type that the client supports'];
    case 422: return [StatusReason.Invalid, 'the server rejected our request due to an error in our request'];
    case 429: return [StatusReason.TooManyRequests, 'the server has received too many requests and has asked us to try again later'];
    case 500: return [StatusReason.InternalError, 'an error on the server has prevented the request from succeeding'];
    case 503: return [StatusReason.ServiceUnavailable, 'the server is currently unable to handle the request'];
    case 504: return [StatusReason.Timeout, `the server was unable to return a response in the time allotted, but may still be processing the request (${verb})`];
    default:
      if (code >= 500) return [StatusReason.InternalError, `an error on the server ("") has prevented the request from succeeding (${verb})`];
      return [StatusReason.Unknown, `the server responded with the status code ${code} but did not return more information (${verb})`];
  }
}

const KNOWN_REASON_CODES: Readonly<Record<string, number>> = {
  [StatusReason.Unauthorized]: 401,
  [StatusReason.Forbidden]: 403,
  [StatusReason.NotFound]: 404,
  [StatusReason.AlreadyExists]: 409,
  [StatusReason.Conflict]: 409,
  [StatusReason.Gone]: 410,
  [StatusReason.Invalid]: 422,
  [StatusReason.ServerTimeout]: 500,
  [StatusReason.Timeout]: 504,
  [StatusReason.TooManyRequests]: 429,
  [StatusReason.BadRequest]: 400,
  [StatusReason.MethodNotAllowed]: 405,
  [StatusReason.NotAcceptable]: 406,
  [StatusReason.RequestEntityTooLarge]: 413,
  [StatusReason.UnsupportedMediaType]: 415,
  [StatusReason.InternalError]: 500,
  [StatusReason.Expired]: 410,
  [StatusReason.ServiceUnavailable]: 503,
};

/** The reason and code of `err`, or undefined when it is not an API error. */
function reasonAndCode(err: unknown): { reason: string; code: number } | undefined {
  if (!(err instanceof ApiStatusError)) return undefined;
  return { reason: err.reason, code: err.code };
}

/** Matches on reason; when the reason is not one apimachinery knows, on the code (as upstream). */
function matches(err: unknown, reason: string, code: number): boolean {
  const rc = reasonAndCode(err);
  if (!rc) return false;
  if (rc.reason === reason) return true;
  return !(rc.reason in KNOWN_REASON_CODES) && rc.code === code;
}

/** The object (or resource) does not exist. */
export function isNotFound(err: unknown): boolean {
  return matches(err, StatusReason.NotFound, 404);
}

/** A create found an object of that name already. */
export function isAlreadyExists(err: unknown): boolean {
  return reasonAndCode(err)?.reason === StatusReason.AlreadyExists;
}

/** A write lost an optimistic-concurrency race (resourceVersion precondition). */
export function isConflict(err: unknown): boolean {
  return matches(err, StatusReason.Conflict, 409);
}

/** 410 Gone. */
export function isGone(err: unknown): boolean {
  return matches(err, StatusReason.Gone, 410);
}

/** 410 Expired: the requested resourceVersion (or continue token) is too old. */
export function isResourceExpired(err: unknown): boolean {
  return reasonAndCode(err)?.reason === StatusReason.Expired;
}

/** Either flavour of 410: what makes a reflector relist from scratch. */
export function isExpiredOrGone(err: unknown): boolean {
  return isResourceExpired(err) || isGone(err);
}

/** The server asked us to slow down (429). */
export function isTooManyRequests(err: unknown): boolean {
  return matches(err, StatusReason.TooManyRequests, 429);
}

/** Validation failed (422). */
export function isInvalid(err: unknown): boolean {
  return matches(err, StatusReason.Invalid, 422);
}

/** 400 BadRequest. */
export function isBadRequest(err: unknown): boolean {
  return matches(err, StatusReason.BadRequest, 400);
}

/** 403 Forbidden (authorization, or admission such as a terminating namespace). */
export function isForbidden(err: unknown): boolean {
  return matches(err, StatusReason.Forbidden, 403);
}

/** 401 Unauthorized. */
export function isUnauthorized(err: unknown): boolean {
  return matches(err, StatusReason.Unauthorized, 401);
}

/** 405 MethodNotAllowed. */
export function isMethodNotAllowed(err: unknown): boolean {
  return matches(err, StatusReason.MethodNotAllowed, 405);
}

/** 504 Timeout or 500 ServerTimeout. */
export function isTimeout(err: unknown): boolean {
  return matches(err, StatusReason.Timeout, 504) || reasonAndCode(err)?.reason === StatusReason.ServerTimeout;
}

/** 500 InternalError. */
export function isInternalError(err: unknown): boolean {
  return matches(err, StatusReason.InternalError, 500);
}

/** 503 ServiceUnavailable. */
export function isServiceUnavailable(err: unknown): boolean {
  return matches(err, StatusReason.ServiceUnavailable, 503);
}

/** A watch or list asked for a resourceVersion the server has not reached yet (504 with that cause). */
export function isTooLargeResourceVersion(err: unknown): boolean {
  if (!(err instanceof ApiStatusError) || err.code !== 504) return false;
  return (err.details?.causes ?? []).some((c) => c.reason === 'ResourceVersionTooLarge');
}

/** True when the Status has a cause with this reason (e.g. "NamespaceTerminating"). */
export function hasStatusCause(err: unknown, cause: string): boolean {
  if (!(err instanceof ApiStatusError)) return false;
  return (err.details?.causes ?? []).some((c) => c.reason === cause);
}

/** A network-level failure (no HTTP answer): refused, reset, closed session, timed out. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof ApiStatusError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (
    code.startsWith('ECONN') || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' || code === 'EAI_AGAIN' || code.startsWith('ERR_HTTP2') || code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'UND_ERR_SOCKET' || code === 'ECLIENTCLOSED'
  );
}
