// The two ways a webhook call ends badly, as upstream tells them apart: the call failed
// (ErrCallingWebhook, subject to failurePolicy) or the webhook said no (ToStatusErr, always final).
import { ApiError, newBadRequest, type StatusDetails } from '../../errors.ts';

/** A failed call: unreachable, timed out, bad TLS, unusable answer (webhookutil.ErrCallingWebhook). */
export class WebhookCallError extends Error {
  readonly webhookName: string;
  readonly reason: string;
  constructor(webhookName: string, reason: string) {
    super(`failed calling webhook "${webhookName}": ${reason}`);
    this.name = 'WebhookCallError';
    this.webhookName = webhookName;
    this.reason = reason;
  }
}

/** ToStatusErr: a denial with the webhook's status, code at least 400, message prefixed. */
export function webhookDenied(webhookName: string, result: Record<string, unknown> | undefined): ApiError {
  const deniedBy = `admission webhook "${webhookName}" denied the request`;
  const r = result ?? {};
  let code = typeof r['code'] === 'number' ? r['code'] : 0;
  if (code < 400) code = 400;
  const message = typeof r['message'] === 'string' ? r['message'] : '';
  const reason = typeof r['reason'] === 'string' ? r['reason'] : '';
  let text: string;
  if (message !== '') text = `${deniedBy}: ${message}`;
  else if (reason !== '') text = `${deniedBy}: ${reason}`;
  else text = `${deniedBy} without explanation`;
  const details = typeof r['details'] === 'object' && r['details'] !== null ? (r['details'] as StatusDetails) : undefined;
  return new ApiError(code, reason === '' ? undefined : reason, text, details);
}

/** A dry-run request for a webhook with side effects (NewDryRunUnsupportedErr). */
export function dryRunUnsupported(webhookName: string): ApiError {
  return newBadRequest(`admission webhook "${webhookName}" does not support dry run`);
}

/**
 * Adds the request's admission warnings to a refusal as `Warning` headers: upstream writes each
 * warning to the response as it is added, so kubectl prints them before the error too.
 */
export function withWarnings(err: unknown, warnings: readonly string[]): unknown {
  if (err instanceof ApiError && warnings.length > 0 && err.headers['Warning'] === undefined) {
    err.headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
  }
  return err;
}
