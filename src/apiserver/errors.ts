// metav1.Status errors, mapped in exactly one place: every handler throws an ApiError (or a storage
// fault, translated here) and the HTTP layer writes `err.status` as the body and `err.status.code`
// as the HTTP status. Reasons, messages and detail fields follow apimachinery's api/errors.
import { StorageError, StorageErrorCode, type CompactedError } from '../storage/types.ts';
import { invalidMessage, statusCauses, type FieldError } from '../api/field_errors.ts';

/** A cause of a Status (a field error of an Invalid, a reason for a conflict…). */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** metav1.StatusDetails. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** metav1.Status, keys in upstream's order. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** The reasons upstream uses (metav1.StatusReason). */
export const Reason = {
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

/** An error that is a metav1.Status. */
export class ApiError extends Error {
  readonly status: Status;
  /** Extra response headers (Retry-After …). */
  readonly headers: Record<string, string>;
  constructor(code: number, reason: string | undefined, message: string, details?: StatusDetails, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    // Built key by key so JSON keeps upstream's order: kind apiVersion metadata status message reason details code.
    const status: Partial<Status> = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message };
    if (reason !== undefined) status.reason = reason;
    if (details !== undefined && Object.keys(details).length > 0) status.details = details;
    status.code = code;
    this.status = status as Status;
    this.headers = headers;
  }
  get code(): number {
    return this.status.code;
  }
}

/** A group-qualified resource as upstream names it in messages ("pods", "deployments.apps"). */
export interface GroupResource {
  group: string;
  resource: string;
}

function qualified(gr: GroupResource): string {
  return gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`;
}

function grDetails(gr: GroupResource, name: string): StatusDetails {
  const d: StatusDetails = {};
  if (name !== '') d.name = name;
  if (gr.group !== '') d.group = gr.group;
  d.kind = gr.resource;
  return d;
}

/** 404 `<res> "<name>" not found`. */
export function newNotFound(gr: GroupResource, name: string): ApiError {
  return new ApiError(404, Reason.NotFound, `${qualified(gr)} "${name}" not found`, grDetails(gr, name));
}

/** 409 `<res> "<name>" already exists`. */
export function newAlreadyExists(gr: GroupResource, name: string): ApiError {
  return new ApiError(409, Reason.AlreadyExists, `${qualified(gr)} "${name}" already exists`, grDetails(gr, name));
}

/** 409 Conflict with upstream's optimistic-concurrency message (or a custom one). */
export function newConflict(gr: GroupResource, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return new ApiError(409, Reason.Conflict, `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, grDetails(gr, name));
}

/** 422 `<Kind>[.<group>] "<name>" is invalid: <field>: <msg>` (or `[a, b]` for several), causes per error. */
export function newInvalid(group: string, kind: string, name: string, errs: readonly FieldError[]): ApiError {
  const details: StatusDetails = {};
  if (name !== '') details.name = name;
  if (group !== '') details.group = group;
  details.kind = kind;
  details.causes = statusCauses(errs).map((c) => ({ reason: c.reason, message: c.message, field: c.field }));
  return new ApiError(422, Reason.Invalid, invalidMessage(kind, group, name, errs), details);
}

/** 400 with the given message. */
export function newBadRequest(message: string): ApiError {
  return new ApiError(400, Reason.BadRequest, message);
}

/** 405 for a verb a resource does not support. */
export function newMethodNotSupported(gr: GroupResource, action: string): ApiError {
  return new ApiError(405, Reason.MethodNotAllowed, `${action} is not supported on resources of kind "${qualified(gr)}"`, { group: gr.group || undefined, kind: gr.resource } as StatusDetails);
}

/** 405 the server does not allow this method on the requested resource. */
export function newMethodNotAllowed(): ApiError {
  return new ApiError(405, Reason.MethodNotAllowed, 'the server does not allow this method on the requested resource');
}

/** 404 for a path that names no resource (upstream's plain "the server could not find the requested resource"). */
export function newNoResource(): ApiError {
  return new ApiError(404, Reason.NotFound, 'the server could not find the requested resource', {});
}

/** 410 Gone for a compacted watch/list resourceVersion. */
export function newResourceExpired(message: string): ApiError {
  return new ApiError(410, Reason.Expired, message);
}

/** 401. */
export function newUnauthorized(message = 'Unauthorized'): ApiError {
  return new ApiError(401, Reason.Unauthorized, message);
}

/** 403 `<res> "<name>" is forbidden: <why>`. */
export function newForbidden(gr: GroupResource, name: string, why: string): ApiError {
  // Non-resource requests have no group-resource: upstream says just "forbidden: …" with empty details.
  if (gr.group === '' && gr.resource === '') {
    const err = new ApiError(403, Reason.Forbidden, `forbidden: ${why}`, name === '' ? undefined : { name });
    if (err.status.details === undefined) {
      // Upstream's details pointer is set even when empty: `"details":{}` before "code".
      const st = err.status as Partial<Status>;
      delete st.code;
      st.details = {};
      st.code = 403;
    }
    return err;
  }
  const subject = name === '' ? qualified(gr) : `${qualified(gr)} "${name}"`;
  return new ApiError(403, Reason.Forbidden, `${subject} is forbidden: ${why}`, grDetails(gr, name));
}

/** 413 for bodies over the limit. */
export function newRequestEntityTooLarge(limit: number): ApiError {
  return new ApiError(413, Reason.RequestEntityTooLarge, `Request entity too large: limit is ${limit}`);
}

/** 415. */
export function newUnsupportedMediaType(contentType: string, supported: string[]): ApiError {
  return new ApiError(415, Reason.UnsupportedMediaType, `the body of the request was in an unknown format - accepted media types include: ${supported.join(', ')}`, contentType ? { kind: contentType } : undefined);
}

/** 406. */
export function newNotAcceptable(supported: string[]): ApiError {
  return new ApiError(406, Reason.NotAcceptable, `only the following media types are accepted: ${supported.join(', ')}`);
}

/** 504 Timeout. */
export function newTimeout(message: string, retryAfterSeconds?: number): ApiError {
  return new ApiError(504, Reason.Timeout, message, retryAfterSeconds ? { retryAfterSeconds } : undefined);
}

/** 500 `Internal error occurred: …`. */
export function newInternal(err: unknown): ApiError {
  const text = err instanceof Error ? err.message : String(err);
  return new ApiError(500, Reason.InternalError, `Internal error occurred: ${text}`, { causes: [{ message: text }] });
}

/** 503. */
export function newServiceUnavailable(message: string): ApiError {
  return new ApiError(503, Reason.ServiceUnavailable, message);
}

/** Translates any thrown value into an ApiError; storage faults get their upstream equivalents. */
export function toApiError(err: unknown, gr?: GroupResource, name = ''): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StorageError) {
    const g = gr ?? { group: '', resource: '' };
    switch (err.code) {
      case StorageErrorCode.KeyExists: return newAlreadyExists(g, name);
      case StorageErrorCode.NotFound: return newNotFound(g, name);
      case StorageErrorCode.Conflict: return newConflict(g, name);
      case StorageErrorCode.Compacted: {
        const c = err as CompactedError;
        return newResourceExpired(`too old resource version: ${c.requested} (${c.compacted})`);
      }
      case StorageErrorCode.FutureRevision:
        return new ApiError(504, Reason.Timeout, `Too large resource version: ${(err as unknown as { requested: number }).requested}, current: ${(err as unknown as { current: number }).current}`,
          { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
      case StorageErrorCode.InvalidContinue: return newBadRequest(err.message);
      case StorageErrorCode.InvalidKey: return newBadRequest(err.message);
      case StorageErrorCode.InvalidValue: return new ApiError(413, Reason.RequestEntityTooLarge, err.message);
      case StorageErrorCode.Unavailable:
      case StorageErrorCode.Closed:
        return newServiceUnavailable(`storage is unavailable: ${err.message}`);
      default: return newInternal(err);
    }
  }
  return newInternal(err);
}

