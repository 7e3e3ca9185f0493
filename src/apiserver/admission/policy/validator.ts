// Evaluates one policy for one binding and param (upstream's validating/validator): match
// conditions, variables, each validation with its message (messageExpression, message, or the
// expression itself) and reason, and audit annotation values; failurePolicy decides on errors.
import { matchConditions, evaluate } from '../cel/evaluate.ts';
import type { CompiledPolicy } from './source.ts';

/** What one validation decided. */
export interface PolicyDecision {
  readonly action: 'admit' | 'deny';
  readonly evaluation: 'admit' | 'deny' | 'error';
  readonly message: string;
  readonly reason?: string;
}

/** Audit annotation values to publish, and annotation errors that deny (failurePolicy Fail). */
export interface ValidateResult {
  readonly decisions: readonly PolicyDecision[];
  readonly auditAnnotations: readonly { readonly key: string; readonly value: string }[];
  readonly auditAnnotationErrors: readonly string[];
}

const MAX_MESSAGE_BYTES = 5 * 1024;

function errorAction(failurePolicy: string): 'admit' | 'deny' {
  return failurePolicy === 'Ignore' ? 'admit' : 'deny';
}

/**
 * `variables`: each evaluated in order (a variable may use the earlier ones), reading an
 * erroring one fails the expression that reads it, as upstream's lazy composition does.
 */
async function composeVariables(policy: CompiledPolicy, activation: Record<string, unknown>): Promise<Record<string, unknown>> {
  const vars: Record<string, unknown> = {};
  const withVars = { ...activation, variables: vars };
  for (const v of policy.variables) {
    const r = await evaluate(v.compiled, withVars);
    Object.defineProperty(vars, v.name, {
      enumerable: true,
      get: () => {
        if (r.error !== undefined) throw new Error(r.error);
        return r.value;
      },
    });
  }
  return withVars;
}

/** Validate: the decisions of one policy for one request, binding and param. */
export async function validate(policy: CompiledPolicy, activation: Record<string, unknown>): Promise<ValidateResult> {
  const f = policy.failurePolicy;
  const none: ValidateResult = { decisions: [], auditAnnotations: [], auditAnnotationErrors: [] };
  if (policy.matchConditions.length > 0) {
    const m = await matchConditions(policy.matchConditions, activation, f);
    if (m.error !== undefined) return { ...none, decisions: [{ action: errorAction(f), evaluation: 'error', message: m.error }] };
    if (!m.matches) return none;
  }
  const act = policy.variables.length > 0 ? await composeVariables(policy, activation) : activation;
  const decisions: PolicyDecision[] = [];
  for (const v of policy.validations) {
    const r = await evaluate(v.expression, act);
    if (r.error !== undefined) {
      decisions.push({ action: errorAction(f), evaluation: 'error', message: r.error });
      continue;
    }
    if (r.value === true) {
      decisions.push({ action: 'admit', evaluation: 'admit', message: '' });
      continue;
    }
    let message = '';
    if (v.messageExpression) {
      const m = await evaluate(v.messageExpression, act);
      if (m.error === undefined && typeof m.value === 'string') {
        message = m.value.trim();
        if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES || message.includes('\n')) message = '';
      }
    }
    if (message === '' && v.message !== '') message = v.message.trim();
    if (message === '') message = `failed expression: ${v.expression.expression.trim()}`;
    decisions.push({ action: 'deny', evaluation: 'deny', message, reason: v.reason ?? 'Invalid' });
  }
  const auditAnnotations: { key: string; value: string }[] = [];
  const auditAnnotationErrors: string[] = [];
  for (const a of policy.auditAnnotations) {
    const r = await evaluate(a.compiled, act);
    if (r.error !== undefined) {
      if (f !== 'Ignore') auditAnnotationErrors.push(r.error);
      continue;
    }
    if (typeof r.value === 'string') {
      const value = r.value.trim();
      if (value !== '') auditAnnotations.push({ key: a.key, value });
    } else if (r.value !== null) {
      auditAnnotationErrors.push(`valueExpression '${a.compiled.expression}' resulted in unsupported return type: ${typeof r.value}. Return type must be either string or null.`);
    }
  }
  return { decisions, auditAnnotations, auditAnnotationErrors };
}
